"""reporter: turns a run's artifacts into report.md and structured results (DESIGN §1, §7)."""
