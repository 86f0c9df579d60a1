"""Request bodies (pydantic, so OpenAPI documents each one) and the shared field types.

The services own the business rules and answer INVALID_ARGUMENT with a message a person can act
on; these models only guarantee what a protobuf message can hold: numbers within the field's
integer range and text that is valid UTF-8 (a lone surrogate, which JSON can encode, cannot be
serialised). Unknown fields are rejected, so a typo is an error rather than silently ignored.
Where the contract fixes a bound (seed ≤ 50,000 characters, forecast_days 1–365) it is stated here too,
so clients see it in the schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def _valid_unicode(value: str) -> str:
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError("text must be valid Unicode (no unpaired surrogates)")
    return value


# Every text field of a request: pydantic's bounds plus this check, written `Annotated[str, Field(…),
# ValidUnicode]` (a type alias mypy can check, unlike a factory's return value).
ValidUnicode = AfterValidator(_valid_unicode)


Email = Annotated[str, Field(max_length=512, description="the account's email address"), ValidUnicode]
# Generous cap: auth enforces the real rule (8–128 characters).
Password = Annotated[str, Field(max_length=1024, description="8–128 characters"), ValidUnicode]
Token = Annotated[str, Field(max_length=4096), ValidUnicode]
Seed = Annotated[
    str, Field(max_length=50_000, description="the seed document (at most 50,000 characters)"), ValidUnicode
]
Goal = Annotated[str, Field(max_length=2_000, description="the prediction question"), ValidUnicode]
Tier = Annotated[
    str, Field(max_length=64, description="simulation tier: small, medium or large"), ValidUnicode
]
ForecastDays = Annotated[int, Field(ge=1, le=365, description="forecast horizon in days (1–365)")]

JobId = Annotated[int, Field(ge=1, le=INT64_MAX, description="the job's id")]
Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]

JobStatusName = Literal[
    "DRAFT", "PENDING", "PROVISIONING", "RUNNING", "REPORTING", "COMPLETED", "FAILED", "REFUNDED"
]

# GET /api/jobs: the search text and the order. Checked here with messages a person reads in the
# error's `fields` (the schema still states the bounds, so clients see them).
SEARCH_MAX = 200
JOB_SORTS = ("newest", "oldest", "probability_high", "probability_low")


def _search_text(value: str) -> str:
    if len(value) > SEARCH_MAX:
        raise PydanticCustomError(
            "search_too_long", f"the search text is too long (at most {SEARCH_MAX} characters)"
        )
    return _valid_unicode(value)


def _job_sort(value: str) -> str:
    if value not in JOB_SORTS:
        raise PydanticCustomError(
            "unknown_sort", "the order must be newest, oldest, probability_high or probability_low"
        )
    return value


JobSearch = Annotated[
    str,
    AfterValidator(_search_text),
    WithJsonSchema({"type": "string", "maxLength": SEARCH_MAX}),
]
JobSortName = Annotated[
    str,
    AfterValidator(_job_sort),
    WithJsonSchema({"type": "string", "enum": list(JOB_SORTS)}),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- auth -----------------------------------------------------------------------------------------


class Credentials(Body):
    email: Email
    password: Password


class RefreshBody(Body):
    refresh_token: Token


class LogoutBody(Body):
    refresh_token: Token


class ForgotPasswordBody(Body):
    email: Email


class ResetPasswordBody(Body):
    token: Token = Field(description="the token from the reset email")
    new_password: Password


class ChangePasswordBody(Body):
    current_password: Password
    new_password: Password


class DeleteAccountBody(Body):
    password: Password = Field(description="the current password, to confirm")


# --- jobs -----------------------------------------------------------------------------------------


# Scheduled events (services/common/scheduled_events.py): the jobs service checks them against the
# job's horizon (and a branch's round) and names each problem; these bounds are what the contract
# fixes, stated so the schema shows them.
MAX_EVENTS = 10
EventDay = Annotated[
    int,
    Field(
        ge=0,
        le=365,
        description="day of the forecast horizon (1..forecast_days); in a branch, 0 = the first round "
        "the branch simulates",
    ),
]
Headline = Annotated[
    str, Field(max_length=200, description="the news headline (1–200 characters)"), ValidUnicode
]
EventText = Annotated[
    str, Field(max_length=2_000, description="the news text (at most 2,000 characters)"), ValidUnicode
]
Favours = Literal["yes", "no", ""]


class EventBody(Body):
    """One piece of news on a day of the forecast horizon: every agent's feed shows it."""

    day: EventDay
    headline: Headline
    text: EventText = ""
    favours: Favours = Field("", description='the side of the goal it favours: "yes", "no" or "" (neutral)')


Events = Annotated[
    list[EventBody], Field(max_length=MAX_EVENTS, description=f"at most {MAX_EVENTS} events, any order")
]


class JobBody(Body):
    seed_text: Seed
    goal: Goal
    tier: Tier
    enrich_web: bool | None = Field(None, description="search the web to enrich the seed (default true)")
    forecast_days: ForecastDays | None = None
    events: Events | None = Field(None, description="scheduled news, each on a day within 1..forecast_days")


class BranchBody(Body):
    """A what-if branch: resume the job after `round` with `events` injected."""

    round: Int32 = Field(description="resume after this many rounds of the parent (0..rounds-1)")
    events: Events = Field(
        default_factory=list,
        description="the injected events; each must fall after `round` (day 0: the branch's first round)",
    )


# An interview: the question and exactly one target (the jobs service refuses anything else).
MAX_INTERVIEW_AGENTS = 12
CAMPS = ("yes", "no", "undecided")
Question = Annotated[str, Field(max_length=500, description="the question (1–500 characters)"), ValidUnicode]
AgentId = Annotated[int, Field(ge=0, le=INT32_MAX)]
CampName = Literal["yes", "no", "undecided"]
CoalitionId = Annotated[
    str, Field(max_length=64, description='a coalition id of the result ("coalitions"[].id)'), ValidUnicode
]


class InterviewBody(Body):
    """Whom to ask (exactly one of agent_ids, camp, coalition) and what."""

    question: Question
    agent_ids: list[AgentId] | None = Field(
        None, max_length=MAX_INTERVIEW_AGENTS, description="agent ids of the run (at most 12)"
    )
    camp: CampName | None = Field(None, description="every agent whose final belief is in this camp")
    coalition: CoalitionId | None = None


class DraftBody(Body):
    """Every field optional: a draft may be saved half-filled and completed later."""

    seed_text: Seed | None = None
    goal: Goal | None = None
    tier: Tier | None = None
    enrich_web: bool | None = None
    forecast_days: ForecastDays | None = None


class SuggestQuestionsBody(Body):
    """A seed (and optionally the goal typed so far): what yes/no questions could it answer?"""

    seed_text: Seed
    goal: Goal = ""
    forecast_days: ForecastDays | None = None


# --- admin ----------------------------------------------------------------------------------------


SimTier = Annotated[str, Field(max_length=20, min_length=1), ValidUnicode]
ModelId = Annotated[str, Field(max_length=255, min_length=1), ValidUnicode]
GpuType = Annotated[str, Field(max_length=50, min_length=1), ValidUnicode]
VllmArgs = Annotated[str, Field(max_length=4000), ValidUnicode]
Replicates = Annotated[int, Field(ge=1, le=32)]
MarketSubsidy = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]


class RouteBody(Body):
    """One row of jobs.model_routing, matched by sim_tier (created when new)."""

    sim_tier: SimTier
    model_id: ModelId
    gpu_type: GpuType
    max_rounds: Annotated[int, Field(ge=1, le=INT32_MAX)]
    target_agents: Annotated[int, Field(ge=1, le=INT32_MAX)]
    vllm_args: VllmArgs | None = None
    # The tier's forecast settings (jobs.tier_settings); left out, each keeps its current value.
    replicates: Replicates | None = Field(
        None, description="replicate simulations per job on an LLM backend (1–32)"
    )
    heuristic_replicates: Replicates | None = Field(
        None, description="replicate simulations per job on the heuristic backend (1–32)"
    )
    market_subsidy: MarketSubsidy | None = Field(
        None, description="LMSR subsidy per market: the market maker's worst-case loss, in (0, 10000]"
    )


# --- responses that are not a proto message -----------------------------------------------------


class OkResponse(BaseModel):
    status: Literal["ok"] = "ok"
    message: str = ""


class ShareResponse(BaseModel):
    share_token: str
    # The read-only public page of the job.
    share_url: str
    # The same data as JSON.
    api_url: str


class SimDataResponse(BaseModel):
    # Artifact name → presigned object-storage URL (valid expires_in_seconds).
    files: dict[str, str]
    expires_in_seconds: int
    # Artifact name → the same file through the gateway (same origin, needs the bearer token).
    downloads: dict[str, str]


class GraphResponse(BaseModel):
    # The entity graph (result_graph): {"nodes": [...], "edges": [...]}.
    graph: dict[str, Any]
