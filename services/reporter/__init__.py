"""reporter: turns a run's artifacts into report.md and structured results.

See docs/architecture.md §1, docs/report.md and this folder's README.
"""
