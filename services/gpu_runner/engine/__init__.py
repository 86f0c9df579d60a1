"""swarmcast simulation engine: a pure library (no network, database or storage code).

Entry points for the runner: :func:`run_simulation` and :func:`resume_simulation`.
"""

from .artifacts import ARTIFACT_NAMES
from .checkpoint import CheckpointError
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
    "MarketSpec",
    "ProgressEvent",
    "SimulationConfig",
    "SimulationRequest",
    "SimulationResult",
    "resume_simulation",
    "run_simulation",
]
