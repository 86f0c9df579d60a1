"""gpu_runner: hosts the LLM, runs the simulation engine, uploads artifacts (DESIGN §1, §6)."""
