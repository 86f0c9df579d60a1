import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FailureKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FAILURE_KIND_UNSPECIFIED: _ClassVar[FailureKind]
    FAILURE_KIND_TRANSIENT: _ClassVar[FailureKind]
    FAILURE_KIND_PERMANENT: _ClassVar[FailureKind]

class EmailKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EMAIL_KIND_UNSPECIFIED: _ClassVar[EmailKind]
    EMAIL_KIND_VERIFICATION: _ClassVar[EmailKind]
    EMAIL_KIND_PASSWORD_RESET: _ClassVar[EmailKind]
    EMAIL_KIND_PASSWORD_CHANGED: _ClassVar[EmailKind]
    EMAIL_KIND_ACCOUNT_DELETED: _ClassVar[EmailKind]
FAILURE_KIND_UNSPECIFIED: FailureKind
FAILURE_KIND_TRANSIENT: FailureKind
FAILURE_KIND_PERMANENT: FailureKind
EMAIL_KIND_UNSPECIFIED: EmailKind
EMAIL_KIND_VERIFICATION: EmailKind
EMAIL_KIND_PASSWORD_RESET: EmailKind
EMAIL_KIND_PASSWORD_CHANGED: EmailKind
EMAIL_KIND_ACCOUNT_DELETED: EmailKind

class RouteSnapshot(_message.Message):
    __slots__ = ("sim_tier", "model_id", "gpu_type", "max_rounds", "target_agents", "vllm_args", "replicates", "heuristic_replicates", "market_subsidy")
    SIM_TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_TYPE_FIELD_NUMBER: _ClassVar[int]
    MAX_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    TARGET_AGENTS_FIELD_NUMBER: _ClassVar[int]
    VLLM_ARGS_FIELD_NUMBER: _ClassVar[int]
    REPLICATES_FIELD_NUMBER: _ClassVar[int]
    HEURISTIC_REPLICATES_FIELD_NUMBER: _ClassVar[int]
    MARKET_SUBSIDY_FIELD_NUMBER: _ClassVar[int]
    sim_tier: str
    model_id: str
    gpu_type: str
    max_rounds: int
    target_agents: int
    vllm_args: str
    replicates: int
    heuristic_replicates: int
    market_subsidy: float
    def __init__(self, sim_tier: _Optional[str] = ..., model_id: _Optional[str] = ..., gpu_type: _Optional[str] = ..., max_rounds: _Optional[int] = ..., target_agents: _Optional[int] = ..., vllm_args: _Optional[str] = ..., replicates: _Optional[int] = ..., heuristic_replicates: _Optional[int] = ..., market_subsidy: _Optional[float] = ...) -> None: ...

class UploadTargets(_message.Message):
    __slots__ = ("bucket", "prefix", "put_urls", "checkpoint_put_url", "checkpoint_get_url", "expires_at", "round_checkpoint_put_urls")
    class PutUrlsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    PUT_URLS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_PUT_URL_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_GET_URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ROUND_CHECKPOINT_PUT_URLS_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    prefix: str
    put_urls: _containers.ScalarMap[str, str]
    checkpoint_put_url: str
    checkpoint_get_url: str
    expires_at: _timestamp_pb2.Timestamp
    round_checkpoint_put_urls: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, bucket: _Optional[str] = ..., prefix: _Optional[str] = ..., put_urls: _Optional[_Mapping[str, str]] = ..., checkpoint_put_url: _Optional[str] = ..., checkpoint_get_url: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., round_checkpoint_put_urls: _Optional[_Iterable[str]] = ...) -> None: ...

class ScheduledEvent(_message.Message):
    __slots__ = ("day", "headline", "text", "favours")
    DAY_FIELD_NUMBER: _ClassVar[int]
    HEADLINE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FAVOURS_FIELD_NUMBER: _ClassVar[int]
    day: int
    headline: str
    text: str
    favours: str
    def __init__(self, day: _Optional[int] = ..., headline: _Optional[str] = ..., text: _Optional[str] = ..., favours: _Optional[str] = ...) -> None: ...

class BranchSource(_message.Message):
    __slots__ = ("parent_job_id", "round", "checkpoint_get_url", "parent_forecast")
    PARENT_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_GET_URL_FIELD_NUMBER: _ClassVar[int]
    PARENT_FORECAST_FIELD_NUMBER: _ClassVar[int]
    parent_job_id: int
    round: int
    checkpoint_get_url: str
    parent_forecast: _struct_pb2.Struct
    def __init__(self, parent_job_id: _Optional[int] = ..., round: _Optional[int] = ..., checkpoint_get_url: _Optional[str] = ..., parent_forecast: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class JobDispatch(_message.Message):
    __slots__ = ("dispatch_id", "run_id", "job_id", "seed_text", "goal", "tier", "enrich_web", "forecast_days", "route", "markets", "upload", "resume", "attempt", "random_seed", "dispatched_at", "events", "branch")
    DISPATCH_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_TEXT_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENRICH_WEB_FIELD_NUMBER: _ClassVar[int]
    FORECAST_DAYS_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RANDOM_SEED_FIELD_NUMBER: _ClassVar[int]
    DISPATCHED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    BRANCH_FIELD_NUMBER: _ClassVar[int]
    dispatch_id: str
    run_id: str
    job_id: int
    seed_text: str
    goal: str
    tier: str
    enrich_web: bool
    forecast_days: int
    route: RouteSnapshot
    markets: _struct_pb2.ListValue
    upload: UploadTargets
    resume: bool
    attempt: int
    random_seed: int
    dispatched_at: _timestamp_pb2.Timestamp
    events: _containers.RepeatedCompositeFieldContainer[ScheduledEvent]
    branch: BranchSource
    def __init__(self, dispatch_id: _Optional[str] = ..., run_id: _Optional[str] = ..., job_id: _Optional[int] = ..., seed_text: _Optional[str] = ..., goal: _Optional[str] = ..., tier: _Optional[str] = ..., enrich_web: _Optional[bool] = ..., forecast_days: _Optional[int] = ..., route: _Optional[_Union[RouteSnapshot, _Mapping]] = ..., markets: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., upload: _Optional[_Union[UploadTargets, _Mapping]] = ..., resume: _Optional[bool] = ..., attempt: _Optional[int] = ..., random_seed: _Optional[int] = ..., dispatched_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., events: _Optional[_Iterable[_Union[ScheduledEvent, _Mapping]]] = ..., branch: _Optional[_Union[BranchSource, _Mapping]] = ...) -> None: ...

class JobCancel(_message.Message):
    __slots__ = ("job_id", "reason", "requested_at", "run_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    reason: str
    requested_at: _timestamp_pb2.Timestamp
    run_id: str
    def __init__(self, job_id: _Optional[int] = ..., reason: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run_id: _Optional[str] = ...) -> None: ...

class RunnerProgress(_message.Message):
    __slots__ = ("job_id", "run_id", "pod_id", "stage", "stage_name", "round", "max_rounds", "live_status", "seq", "sent_at", "markets", "enriched_seed", "enrichment_citations", "provision_seconds", "gpu_provider")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGE_NAME_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    MAX_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    LIVE_STATUS_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    ENRICHED_SEED_FIELD_NUMBER: _ClassVar[int]
    ENRICHMENT_CITATIONS_FIELD_NUMBER: _ClassVar[int]
    PROVISION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GPU_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    run_id: str
    pod_id: str
    stage: int
    stage_name: str
    round: int
    max_rounds: int
    live_status: _struct_pb2.Struct
    seq: int
    sent_at: _timestamp_pb2.Timestamp
    markets: _struct_pb2.ListValue
    enriched_seed: str
    enrichment_citations: str
    provision_seconds: float
    gpu_provider: str
    def __init__(self, job_id: _Optional[int] = ..., run_id: _Optional[str] = ..., pod_id: _Optional[str] = ..., stage: _Optional[int] = ..., stage_name: _Optional[str] = ..., round: _Optional[int] = ..., max_rounds: _Optional[int] = ..., live_status: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., seq: _Optional[int] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., markets: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., enriched_seed: _Optional[str] = ..., enrichment_citations: _Optional[str] = ..., provision_seconds: _Optional[float] = ..., gpu_provider: _Optional[str] = ...) -> None: ...

class RunnerCompleted(_message.Message):
    __slots__ = ("job_id", "run_id", "pod_id", "artifacts", "bucket", "result_graph", "result_chat_log", "markets", "provision_seconds", "pipeline_seconds", "gpu_provider", "gpu_cost_usd", "backend", "model_id", "summary", "forecast_days", "goal", "completed_at", "enriched_seed", "enrichment_citations", "branch")
    class ArtifactsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    RESULT_GRAPH_FIELD_NUMBER: _ClassVar[int]
    RESULT_CHAT_LOG_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    PROVISION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GPU_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    GPU_COST_USD_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    FORECAST_DAYS_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    ENRICHED_SEED_FIELD_NUMBER: _ClassVar[int]
    ENRICHMENT_CITATIONS_FIELD_NUMBER: _ClassVar[int]
    BRANCH_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    run_id: str
    pod_id: str
    artifacts: _containers.ScalarMap[str, str]
    bucket: str
    result_graph: str
    result_chat_log: str
    markets: _struct_pb2.ListValue
    provision_seconds: float
    pipeline_seconds: float
    gpu_provider: str
    gpu_cost_usd: float
    backend: str
    model_id: str
    summary: _struct_pb2.Struct
    forecast_days: int
    goal: str
    completed_at: _timestamp_pb2.Timestamp
    enriched_seed: str
    enrichment_citations: str
    branch: BranchSource
    def __init__(self, job_id: _Optional[int] = ..., run_id: _Optional[str] = ..., pod_id: _Optional[str] = ..., artifacts: _Optional[_Mapping[str, str]] = ..., bucket: _Optional[str] = ..., result_graph: _Optional[str] = ..., result_chat_log: _Optional[str] = ..., markets: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., provision_seconds: _Optional[float] = ..., pipeline_seconds: _Optional[float] = ..., gpu_provider: _Optional[str] = ..., gpu_cost_usd: _Optional[float] = ..., backend: _Optional[str] = ..., model_id: _Optional[str] = ..., summary: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., forecast_days: _Optional[int] = ..., goal: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., enriched_seed: _Optional[str] = ..., enrichment_citations: _Optional[str] = ..., branch: _Optional[_Union[BranchSource, _Mapping]] = ...) -> None: ...

class RunnerFailed(_message.Message):
    __slots__ = ("job_id", "run_id", "pod_id", "reason", "kind", "last_round", "failed_at")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LAST_ROUND_FIELD_NUMBER: _ClassVar[int]
    FAILED_AT_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    run_id: str
    pod_id: str
    reason: str
    kind: FailureKind
    last_round: int
    failed_at: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[int] = ..., run_id: _Optional[str] = ..., pod_id: _Optional[str] = ..., reason: _Optional[str] = ..., kind: _Optional[_Union[FailureKind, str]] = ..., last_round: _Optional[int] = ..., failed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReporterCompleted(_message.Message):
    __slots__ = ("job_id", "run_id", "report_markdown", "result_structured", "key_insight", "report_key", "writer", "completed_at", "regenerated", "revision")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REPORT_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    RESULT_STRUCTURED_FIELD_NUMBER: _ClassVar[int]
    KEY_INSIGHT_FIELD_NUMBER: _ClassVar[int]
    REPORT_KEY_FIELD_NUMBER: _ClassVar[int]
    WRITER_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    REGENERATED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    run_id: str
    report_markdown: str
    result_structured: str
    key_insight: str
    report_key: str
    writer: str
    completed_at: _timestamp_pb2.Timestamp
    regenerated: bool
    revision: int
    def __init__(self, job_id: _Optional[int] = ..., run_id: _Optional[str] = ..., report_markdown: _Optional[str] = ..., result_structured: _Optional[str] = ..., key_insight: _Optional[str] = ..., report_key: _Optional[str] = ..., writer: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., regenerated: _Optional[bool] = ..., revision: _Optional[int] = ...) -> None: ...

class ReporterFailed(_message.Message):
    __slots__ = ("job_id", "run_id", "reason", "kind", "failed_at")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FAILED_AT_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    run_id: str
    reason: str
    kind: FailureKind
    failed_at: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[int] = ..., run_id: _Optional[str] = ..., reason: _Optional[str] = ..., kind: _Optional[_Union[FailureKind, str]] = ..., failed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EmailRequested(_message.Message):
    __slots__ = ("message_id", "to", "kind", "subject", "body_text", "link", "requested_at", "sealed")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_TEXT_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    to: str
    kind: EmailKind
    subject: str
    body_text: str
    link: str
    requested_at: _timestamp_pb2.Timestamp
    sealed: bytes
    def __init__(self, message_id: _Optional[str] = ..., to: _Optional[str] = ..., kind: _Optional[_Union[EmailKind, str]] = ..., subject: _Optional[str] = ..., body_text: _Optional[str] = ..., link: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sealed: _Optional[bytes] = ...) -> None: ...

class EmailContent(_message.Message):
    __slots__ = ("to", "subject", "body_text", "link")
    TO_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_TEXT_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    to: str
    subject: str
    body_text: str
    link: str
    def __init__(self, to: _Optional[str] = ..., subject: _Optional[str] = ..., body_text: _Optional[str] = ..., link: _Optional[str] = ...) -> None: ...

class UserDeleted(_message.Message):
    __slots__ = ("user_id", "deleted_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    deleted_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TokenCutoff(_message.Message):
    __slots__ = ("user_id", "not_before", "deleted", "published_at", "not_before_ms")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_MS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    not_before: int
    deleted: bool
    published_at: _timestamp_pb2.Timestamp
    not_before_ms: int
    def __init__(self, user_id: _Optional[str] = ..., not_before: _Optional[int] = ..., deleted: _Optional[bool] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., not_before_ms: _Optional[int] = ...) -> None: ...

class ErrorCaptured(_message.Message):
    __slots__ = ("timestamp", "level", "source", "service", "message", "traceback", "user_id", "job_id", "request_path", "error_id")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_PATH_FIELD_NUMBER: _ClassVar[int]
    ERROR_ID_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    level: str
    source: str
    service: str
    message: str
    traceback: str
    user_id: str
    job_id: int
    request_path: str
    error_id: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., level: _Optional[str] = ..., source: _Optional[str] = ..., service: _Optional[str] = ..., message: _Optional[str] = ..., traceback: _Optional[str] = ..., user_id: _Optional[str] = ..., job_id: _Optional[int] = ..., request_path: _Optional[str] = ..., error_id: _Optional[str] = ...) -> None: ...

class InterviewRequest(_message.Message):
    __slots__ = ("interview_id", "job_id", "tier", "question", "agent_ids", "camp", "max_agents", "checkpoint_get_url", "reply_subject", "requested_at")
    INTERVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    CAMP_FIELD_NUMBER: _ClassVar[int]
    MAX_AGENTS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_GET_URL_FIELD_NUMBER: _ClassVar[int]
    REPLY_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    interview_id: int
    job_id: int
    tier: str
    question: str
    agent_ids: _containers.RepeatedScalarFieldContainer[int]
    camp: str
    max_agents: int
    checkpoint_get_url: str
    reply_subject: str
    requested_at: _timestamp_pb2.Timestamp
    def __init__(self, interview_id: _Optional[int] = ..., job_id: _Optional[int] = ..., tier: _Optional[str] = ..., question: _Optional[str] = ..., agent_ids: _Optional[_Iterable[int]] = ..., camp: _Optional[str] = ..., max_agents: _Optional[int] = ..., checkpoint_get_url: _Optional[str] = ..., reply_subject: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InterviewAnswer(_message.Message):
    __slots__ = ("agent_id", "agent_name", "persona", "answer", "probability", "reason", "camp")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CAMP_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    agent_name: str
    persona: str
    answer: str
    probability: float
    reason: str
    camp: str
    def __init__(self, agent_id: _Optional[int] = ..., agent_name: _Optional[str] = ..., persona: _Optional[str] = ..., answer: _Optional[str] = ..., probability: _Optional[float] = ..., reason: _Optional[str] = ..., camp: _Optional[str] = ...) -> None: ...

class InterviewDone(_message.Message):
    __slots__ = ("backend", "model_id", "answered", "left_out")
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    LEFT_OUT_FIELD_NUMBER: _ClassVar[int]
    backend: str
    model_id: str
    answered: int
    left_out: int
    def __init__(self, backend: _Optional[str] = ..., model_id: _Optional[str] = ..., answered: _Optional[int] = ..., left_out: _Optional[int] = ...) -> None: ...

class InterviewReply(_message.Message):
    __slots__ = ("interview_id", "answer", "done", "error", "invalid_request")
    INTERVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    INVALID_REQUEST_FIELD_NUMBER: _ClassVar[int]
    interview_id: int
    answer: InterviewAnswer
    done: InterviewDone
    error: str
    invalid_request: bool
    def __init__(self, interview_id: _Optional[int] = ..., answer: _Optional[_Union[InterviewAnswer, _Mapping]] = ..., done: _Optional[_Union[InterviewDone, _Mapping]] = ..., error: _Optional[str] = ..., invalid_request: _Optional[bool] = ...) -> None: ...
