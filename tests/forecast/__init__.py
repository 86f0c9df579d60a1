"""Forecast coherence (DESIGN §10): held-out seeds whose evidence clearly favours one side."""
