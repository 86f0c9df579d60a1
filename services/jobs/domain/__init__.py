"""Pure domain logic of the jobs service: no I/O here, so it is tested fast and exactly."""
