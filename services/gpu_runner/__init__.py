"""gpu_runner: hosts the LLM, runs the simulation engine, uploads artifacts.

See docs/architecture.md §1, docs/runner.md and this folder's README.
"""
