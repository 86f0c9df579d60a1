"""Object-storage layout of a job's artifacts (DESIGN §6): the contract between the runner that
writes them, the jobs service that presigns and checks them, and the reporter that reads them."""

from __future__ import annotations

# What the runner uploads; sim_data_available turns true only when all of these exist.
ARTIFACT_NAMES: tuple[str, ...] = (
    "market_curves.json",
    "agent_trajectories.json",
    "engagement_summary.json",
    "top_posts.json",
    "posts.json",
    "trades.json",
    "social_graph.json",
    "profiles.json",
    "chat_log.json",
    "relations.json",
)
# Written by the reporter, after the runner's artifacts.
REPORT_NAME = "report.md"
# The runner's resumable state, overwritten every round.
CHECKPOINT_NAME = "checkpoint"


def job_prefix(job_id: int) -> str:
    return f"sim-data/{job_id}/"


def artifact_key(job_id: int, name: str) -> str:
    return f"{job_prefix(job_id)}{name}"
