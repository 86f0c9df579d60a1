"""swarmcast simulation engine: a pure library (no network, database or storage code).

Entry points for the runner: :func:`run_simulation` and :func:`resume_simulation` (with
``inject_events`` for a what-if branch), and the interview functions of :mod:`.interview`.
"""

from .artifacts import ARTIFACT_NAMES
from .checkpoint import CheckpointError
from .interview import (
    InterviewAnswer,
    InterviewRefused,
    answer_question,
    choose_interviewees,
    interview_world,
)
from .simulation import SimulationRequest, resume_simulation, run_simulation
from .types import (
    Entity,
    MarketSpec,
    ProgressEvent,
    SimulationConfig,
    SimulationResult,
)

__all__ = [
    "ARTIFACT_NAMES",
    "CheckpointError",
    "Entity",
    "InterviewAnswer",
    "InterviewRefused",
    "MarketSpec",
    "ProgressEvent",
    "SimulationConfig",
    "SimulationRequest",
    "SimulationResult",
    "answer_question",
    "choose_interviewees",
    "interview_world",
    "resume_simulation",
    "run_simulation",
]
