"""Report writers: the deterministic writer (default and fallback) and the LLM writer."""

from services.reporter.writers.base import ReportProse, WrittenReport

__all__ = ["ReportProse", "WrittenReport"]
