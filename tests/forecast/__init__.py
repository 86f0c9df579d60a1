"""Forecast coherence (docs/performance.md): held-out seeds whose evidence clearly favours one side."""
