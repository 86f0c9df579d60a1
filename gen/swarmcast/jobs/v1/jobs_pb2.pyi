import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from swarmcast.events.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATUS_UNSPECIFIED: _ClassVar[JobStatus]
    JOB_STATUS_DRAFT: _ClassVar[JobStatus]
    JOB_STATUS_PENDING: _ClassVar[JobStatus]
    JOB_STATUS_PROVISIONING: _ClassVar[JobStatus]
    JOB_STATUS_RUNNING: _ClassVar[JobStatus]
    JOB_STATUS_REPORTING: _ClassVar[JobStatus]
    JOB_STATUS_COMPLETED: _ClassVar[JobStatus]
    JOB_STATUS_FAILED: _ClassVar[JobStatus]
    JOB_STATUS_REFUNDED: _ClassVar[JobStatus]

class JobSort(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_SORT_UNSPECIFIED: _ClassVar[JobSort]
    JOB_SORT_NEWEST: _ClassVar[JobSort]
    JOB_SORT_OLDEST: _ClassVar[JobSort]
    JOB_SORT_PROBABILITY_HIGH: _ClassVar[JobSort]
    JOB_SORT_PROBABILITY_LOW: _ClassVar[JobSort]

class Resolution(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESOLUTION_UNSPECIFIED: _ClassVar[Resolution]
    RESOLUTION_YES: _ClassVar[Resolution]
    RESOLUTION_NO: _ClassVar[Resolution]
    RESOLUTION_ANNULLED: _ClassVar[Resolution]
JOB_STATUS_UNSPECIFIED: JobStatus
JOB_STATUS_DRAFT: JobStatus
JOB_STATUS_PENDING: JobStatus
JOB_STATUS_PROVISIONING: JobStatus
JOB_STATUS_RUNNING: JobStatus
JOB_STATUS_REPORTING: JobStatus
JOB_STATUS_COMPLETED: JobStatus
JOB_STATUS_FAILED: JobStatus
JOB_STATUS_REFUNDED: JobStatus
JOB_SORT_UNSPECIFIED: JobSort
JOB_SORT_NEWEST: JobSort
JOB_SORT_OLDEST: JobSort
JOB_SORT_PROBABILITY_HIGH: JobSort
JOB_SORT_PROBABILITY_LOW: JobSort
RESOLUTION_UNSPECIFIED: Resolution
RESOLUTION_YES: Resolution
RESOLUTION_NO: Resolution
RESOLUTION_ANNULLED: Resolution

class Job(_message.Message):
    __slots__ = ("id", "user_id", "seed_text", "goal", "tier", "credits_charged", "status", "pipeline_stage", "result_report", "result_chat_log", "result_graph", "result_structured", "error_message", "gpu_provider", "gpu_cost_usd", "created_at", "completed_at", "pod_id", "celery_task_id", "workflow_id", "workflow_run_id", "retry_count", "retry_of", "provision_seconds", "pipeline_seconds", "key_insight", "share_token", "last_heartbeat", "enrich_web", "enriched_seed", "enrichment_citations", "forecast_days", "sim_data_available", "live_status", "resume_task_id", "markets_config", "shared", "forecast_probability", "forecast_low", "forecast_high", "queue_position", "queue_estimate_seconds", "events", "branch_of", "branch_round", "branch_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_TEXT_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    CREDITS_CHARGED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_STAGE_FIELD_NUMBER: _ClassVar[int]
    RESULT_REPORT_FIELD_NUMBER: _ClassVar[int]
    RESULT_CHAT_LOG_FIELD_NUMBER: _ClassVar[int]
    RESULT_GRAPH_FIELD_NUMBER: _ClassVar[int]
    RESULT_STRUCTURED_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    GPU_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    GPU_COST_USD_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    POD_ID_FIELD_NUMBER: _ClassVar[int]
    CELERY_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETRY_OF_FIELD_NUMBER: _ClassVar[int]
    PROVISION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    KEY_INSIGHT_FIELD_NUMBER: _ClassVar[int]
    SHARE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    ENRICH_WEB_FIELD_NUMBER: _ClassVar[int]
    ENRICHED_SEED_FIELD_NUMBER: _ClassVar[int]
    ENRICHMENT_CITATIONS_FIELD_NUMBER: _ClassVar[int]
    FORECAST_DAYS_FIELD_NUMBER: _ClassVar[int]
    SIM_DATA_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    LIVE_STATUS_FIELD_NUMBER: _ClassVar[int]
    RESUME_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    MARKETS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    FORECAST_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    FORECAST_LOW_FIELD_NUMBER: _ClassVar[int]
    FORECAST_HIGH_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ESTIMATE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    BRANCH_OF_FIELD_NUMBER: _ClassVar[int]
    BRANCH_ROUND_FIELD_NUMBER: _ClassVar[int]
    BRANCH_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: int
    user_id: str
    seed_text: str
    goal: str
    tier: str
    credits_charged: int
    status: JobStatus
    pipeline_stage: int
    result_report: str
    result_chat_log: str
    result_graph: str
    result_structured: str
    error_message: str
    gpu_provider: str
    gpu_cost_usd: float
    created_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    pod_id: str
    celery_task_id: str
    workflow_id: str
    workflow_run_id: str
    retry_count: int
    retry_of: int
    provision_seconds: int
    pipeline_seconds: int
    key_insight: str
    share_token: str
    last_heartbeat: _timestamp_pb2.Timestamp
    enrich_web: bool
    enriched_seed: str
    enrichment_citations: str
    forecast_days: int
    sim_data_available: bool
    live_status: _struct_pb2.Struct
    resume_task_id: str
    markets_config: _struct_pb2.Value
    shared: bool
    forecast_probability: float
    forecast_low: float
    forecast_high: float
    queue_position: int
    queue_estimate_seconds: int
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.ScheduledEvent]
    branch_of: int
    branch_round: int
    branch_count: int
    def __init__(self, id: _Optional[int] = ..., user_id: _Optional[str] = ..., seed_text: _Optional[str] = ..., goal: _Optional[str] = ..., tier: _Optional[str] = ..., credits_charged: _Optional[int] = ..., status: _Optional[_Union[JobStatus, str]] = ..., pipeline_stage: _Optional[int] = ..., result_report: _Optional[str] = ..., result_chat_log: _Optional[str] = ..., result_graph: _Optional[str] = ..., result_structured: _Optional[str] = ..., error_message: _Optional[str] = ..., gpu_provider: _Optional[str] = ..., gpu_cost_usd: _Optional[float] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pod_id: _Optional[str] = ..., celery_task_id: _Optional[str] = ..., workflow_id: _Optional[str] = ..., workflow_run_id: _Optional[str] = ..., retry_count: _Optional[int] = ..., retry_of: _Optional[int] = ..., provision_seconds: _Optional[int] = ..., pipeline_seconds: _Optional[int] = ..., key_insight: _Optional[str] = ..., share_token: _Optional[str] = ..., last_heartbeat: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., enrich_web: _Optional[bool] = ..., enriched_seed: _Optional[str] = ..., enrichment_citations: _Optional[str] = ..., forecast_days: _Optional[int] = ..., sim_data_available: _Optional[bool] = ..., live_status: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., resume_task_id: _Optional[str] = ..., markets_config: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., shared: _Optional[bool] = ..., forecast_probability: _Optional[float] = ..., forecast_low: _Optional[float] = ..., forecast_high: _Optional[float] = ..., queue_position: _Optional[int] = ..., queue_estimate_seconds: _Optional[int] = ..., events: _Optional[_Iterable[_Union[_events_pb2.ScheduledEvent, _Mapping]]] = ..., branch_of: _Optional[int] = ..., branch_round: _Optional[int] = ..., branch_count: _Optional[int] = ...) -> None: ...

class SharedJob(_message.Message):
    __slots__ = ("id", "goal", "tier", "status", "created_at", "completed_at", "forecast_days", "result_report", "result_graph", "result_structured", "result_chat_log", "key_insight", "markets_config")
    ID_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    FORECAST_DAYS_FIELD_NUMBER: _ClassVar[int]
    RESULT_REPORT_FIELD_NUMBER: _ClassVar[int]
    RESULT_GRAPH_FIELD_NUMBER: _ClassVar[int]
    RESULT_STRUCTURED_FIELD_NUMBER: _ClassVar[int]
    RESULT_CHAT_LOG_FIELD_NUMBER: _ClassVar[int]
    KEY_INSIGHT_FIELD_NUMBER: _ClassVar[int]
    MARKETS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    id: int
    goal: str
    tier: str
    status: JobStatus
    created_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    forecast_days: int
    result_report: str
    result_graph: str
    result_structured: str
    result_chat_log: str
    key_insight: str
    markets_config: _struct_pb2.Value
    def __init__(self, id: _Optional[int] = ..., goal: _Optional[str] = ..., tier: _Optional[str] = ..., status: _Optional[_Union[JobStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., forecast_days: _Optional[int] = ..., result_report: _Optional[str] = ..., result_graph: _Optional[str] = ..., result_structured: _Optional[str] = ..., result_chat_log: _Optional[str] = ..., key_insight: _Optional[str] = ..., markets_config: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class ModelRoute(_message.Message):
    __slots__ = ("id", "sim_tier", "model_id", "gpu_type", "max_rounds", "vllm_args", "target_agents", "replicates", "heuristic_replicates", "market_subsidy")
    ID_FIELD_NUMBER: _ClassVar[int]
    SIM_TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_TYPE_FIELD_NUMBER: _ClassVar[int]
    MAX_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    VLLM_ARGS_FIELD_NUMBER: _ClassVar[int]
    TARGET_AGENTS_FIELD_NUMBER: _ClassVar[int]
    REPLICATES_FIELD_NUMBER: _ClassVar[int]
    HEURISTIC_REPLICATES_FIELD_NUMBER: _ClassVar[int]
    MARKET_SUBSIDY_FIELD_NUMBER: _ClassVar[int]
    id: int
    sim_tier: str
    model_id: str
    gpu_type: str
    max_rounds: int
    vllm_args: str
    target_agents: int
    replicates: int
    heuristic_replicates: int
    market_subsidy: float
    def __init__(self, id: _Optional[int] = ..., sim_tier: _Optional[str] = ..., model_id: _Optional[str] = ..., gpu_type: _Optional[str] = ..., max_rounds: _Optional[int] = ..., vllm_args: _Optional[str] = ..., target_agents: _Optional[int] = ..., replicates: _Optional[int] = ..., heuristic_replicates: _Optional[int] = ..., market_subsidy: _Optional[float] = ...) -> None: ...

class ErrorEvent(_message.Message):
    __slots__ = ("id", "timestamp", "level", "source", "message", "traceback", "user_id", "job_id", "request_path")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_PATH_FIELD_NUMBER: _ClassVar[int]
    id: int
    timestamp: _timestamp_pb2.Timestamp
    level: str
    source: str
    message: str
    traceback: str
    user_id: str
    job_id: int
    request_path: str
    def __init__(self, id: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., level: _Optional[str] = ..., source: _Optional[str] = ..., message: _Optional[str] = ..., traceback: _Optional[str] = ..., user_id: _Optional[str] = ..., job_id: _Optional[int] = ..., request_path: _Optional[str] = ...) -> None: ...

class CreateJobRequest(_message.Message):
    __slots__ = ("seed_text", "goal", "tier", "enrich_web", "forecast_days", "events")
    SEED_TEXT_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENRICH_WEB_FIELD_NUMBER: _ClassVar[int]
    FORECAST_DAYS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    seed_text: str
    goal: str
    tier: str
    enrich_web: bool
    forecast_days: int
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.ScheduledEvent]
    def __init__(self, seed_text: _Optional[str] = ..., goal: _Optional[str] = ..., tier: _Optional[str] = ..., enrich_web: _Optional[bool] = ..., forecast_days: _Optional[int] = ..., events: _Optional[_Iterable[_Union[_events_pb2.ScheduledEvent, _Mapping]]] = ...) -> None: ...

class CreateJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class CreateDraftRequest(_message.Message):
    __slots__ = ("seed_text", "goal", "tier", "enrich_web", "forecast_days")
    SEED_TEXT_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENRICH_WEB_FIELD_NUMBER: _ClassVar[int]
    FORECAST_DAYS_FIELD_NUMBER: _ClassVar[int]
    seed_text: str
    goal: str
    tier: str
    enrich_web: bool
    forecast_days: int
    def __init__(self, seed_text: _Optional[str] = ..., goal: _Optional[str] = ..., tier: _Optional[str] = ..., enrich_web: _Optional[bool] = ..., forecast_days: _Optional[int] = ...) -> None: ...

class CreateDraftResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class UpdateDraftRequest(_message.Message):
    __slots__ = ("job_id", "seed_text", "goal", "tier", "enrich_web", "forecast_days")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_TEXT_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENRICH_WEB_FIELD_NUMBER: _ClassVar[int]
    FORECAST_DAYS_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    seed_text: str
    goal: str
    tier: str
    enrich_web: bool
    forecast_days: int
    def __init__(self, job_id: _Optional[int] = ..., seed_text: _Optional[str] = ..., goal: _Optional[str] = ..., tier: _Optional[str] = ..., enrich_web: _Optional[bool] = ..., forecast_days: _Optional[int] = ...) -> None: ...

class UpdateDraftResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class LaunchDraftRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class LaunchDraftResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("page", "per_page", "status", "query", "sort", "branch_of")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PER_PAGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    BRANCH_OF_FIELD_NUMBER: _ClassVar[int]
    page: int
    per_page: int
    status: JobStatus
    query: str
    sort: JobSort
    branch_of: int
    def __init__(self, page: _Optional[int] = ..., per_page: _Optional[int] = ..., status: _Optional[_Union[JobStatus, str]] = ..., query: _Optional[str] = ..., sort: _Optional[_Union[JobSort, str]] = ..., branch_of: _Optional[int] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "total", "page", "per_page")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PER_PAGE_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    total: int
    page: int
    per_page: int
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., total: _Optional[int] = ..., page: _Optional[int] = ..., per_page: _Optional[int] = ...) -> None: ...

class DeleteJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class DeleteJobResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class RetryJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class RetryJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class WatchJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class CreateShareLinkRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class CreateShareLinkResponse(_message.Message):
    __slots__ = ("share_token",)
    SHARE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    share_token: str
    def __init__(self, share_token: _Optional[str] = ...) -> None: ...

class RevokeShareLinkRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class RevokeShareLinkResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSharedJobRequest(_message.Message):
    __slots__ = ("share_token",)
    SHARE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    share_token: str
    def __init__(self, share_token: _Optional[str] = ...) -> None: ...

class GetSharedJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: SharedJob
    def __init__(self, job: _Optional[_Union[SharedJob, _Mapping]] = ...) -> None: ...

class GetSimDataRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class GetSimDataResponse(_message.Message):
    __slots__ = ("files", "expires_in_seconds")
    class FilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FILES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    files: _containers.ScalarMap[str, str]
    expires_in_seconds: int
    def __init__(self, files: _Optional[_Mapping[str, str]] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...

class GetSharedSimDataRequest(_message.Message):
    __slots__ = ("share_token", "name")
    SHARE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    share_token: str
    name: str
    def __init__(self, share_token: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class GetSharedSimDataResponse(_message.Message):
    __slots__ = ("url", "expires_in_seconds", "job_id")
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    url: str
    expires_in_seconds: int
    job_id: int
    def __init__(self, url: _Optional[str] = ..., expires_in_seconds: _Optional[int] = ..., job_id: _Optional[int] = ...) -> None: ...

class GetGraphRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class GetGraphResponse(_message.Message):
    __slots__ = ("graph",)
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    graph: str
    def __init__(self, graph: _Optional[str] = ...) -> None: ...

class SuggestQuestionsRequest(_message.Message):
    __slots__ = ("seed_text", "goal", "forecast_days")
    SEED_TEXT_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    FORECAST_DAYS_FIELD_NUMBER: _ClassVar[int]
    seed_text: str
    goal: str
    forecast_days: int
    def __init__(self, seed_text: _Optional[str] = ..., goal: _Optional[str] = ..., forecast_days: _Optional[int] = ...) -> None: ...

class SuggestQuestionsResponse(_message.Message):
    __slots__ = ("suggestions", "goal_ok", "reason")
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    GOAL_OK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    suggestions: _containers.RepeatedScalarFieldContainer[str]
    goal_ok: bool
    reason: str
    def __init__(self, suggestions: _Optional[_Iterable[str]] = ..., goal_ok: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class GoalSuggestions(_message.Message):
    __slots__ = ("suggestions",)
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    suggestions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, suggestions: _Optional[_Iterable[str]] = ...) -> None: ...

class ListRoutesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRoutesResponse(_message.Message):
    __slots__ = ("routes",)
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    routes: _containers.RepeatedCompositeFieldContainer[ModelRoute]
    def __init__(self, routes: _Optional[_Iterable[_Union[ModelRoute, _Mapping]]] = ...) -> None: ...

class UpsertRouteRequest(_message.Message):
    __slots__ = ("route",)
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    route: ModelRoute
    def __init__(self, route: _Optional[_Union[ModelRoute, _Mapping]] = ...) -> None: ...

class UpsertRouteResponse(_message.Message):
    __slots__ = ("route",)
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    route: ModelRoute
    def __init__(self, route: _Optional[_Union[ModelRoute, _Mapping]] = ...) -> None: ...

class ListErrorEventsRequest(_message.Message):
    __slots__ = ("page", "per_page", "source", "job_id")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PER_PAGE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    page: int
    per_page: int
    source: str
    job_id: int
    def __init__(self, page: _Optional[int] = ..., per_page: _Optional[int] = ..., source: _Optional[str] = ..., job_id: _Optional[int] = ...) -> None: ...

class ListErrorEventsResponse(_message.Message):
    __slots__ = ("events", "total", "page", "per_page")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PER_PAGE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ErrorEvent]
    total: int
    page: int
    per_page: int
    def __init__(self, events: _Optional[_Iterable[_Union[ErrorEvent, _Mapping]]] = ..., total: _Optional[int] = ..., page: _Optional[int] = ..., per_page: _Optional[int] = ...) -> None: ...

class ResolveJobRequest(_message.Message):
    __slots__ = ("job_id", "outcome", "markets", "resolved_on", "source_url")
    class MarketsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Resolution
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Resolution, str]] = ...) -> None: ...
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_ON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    outcome: Resolution
    markets: _containers.ScalarMap[str, Resolution]
    resolved_on: str
    source_url: str
    def __init__(self, job_id: _Optional[int] = ..., outcome: _Optional[_Union[Resolution, str]] = ..., markets: _Optional[_Mapping[str, Resolution]] = ..., resolved_on: _Optional[str] = ..., source_url: _Optional[str] = ...) -> None: ...

class MarketScore(_message.Message):
    __slots__ = ("market_id", "question", "outcome", "is_goal", "probability", "opening_price", "brier", "log_score", "opening_brier", "opening_log_score")
    MARKET_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    IS_GOAL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    OPENING_PRICE_FIELD_NUMBER: _ClassVar[int]
    BRIER_FIELD_NUMBER: _ClassVar[int]
    LOG_SCORE_FIELD_NUMBER: _ClassVar[int]
    OPENING_BRIER_FIELD_NUMBER: _ClassVar[int]
    OPENING_LOG_SCORE_FIELD_NUMBER: _ClassVar[int]
    market_id: str
    question: str
    outcome: Resolution
    is_goal: bool
    probability: float
    opening_price: float
    brier: float
    log_score: float
    opening_brier: float
    opening_log_score: float
    def __init__(self, market_id: _Optional[str] = ..., question: _Optional[str] = ..., outcome: _Optional[_Union[Resolution, str]] = ..., is_goal: _Optional[bool] = ..., probability: _Optional[float] = ..., opening_price: _Optional[float] = ..., brier: _Optional[float] = ..., log_score: _Optional[float] = ..., opening_brier: _Optional[float] = ..., opening_log_score: _Optional[float] = ...) -> None: ...

class AgentSettlement(_message.Message):
    __slots__ = ("agent_id", "name", "cash", "settled_cash", "pnl")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CASH_FIELD_NUMBER: _ClassVar[int]
    SETTLED_CASH_FIELD_NUMBER: _ClassVar[int]
    PNL_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    name: str
    cash: float
    settled_cash: float
    pnl: float
    def __init__(self, agent_id: _Optional[int] = ..., name: _Optional[str] = ..., cash: _Optional[float] = ..., settled_cash: _Optional[float] = ..., pnl: _Optional[float] = ...) -> None: ...

class JobOutcome(_message.Message):
    __slots__ = ("job_id", "outcome", "resolved_on", "source_url", "recorded_at", "updated_at", "editable_until", "editable", "markets", "agents")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_ON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    EDITABLE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    EDITABLE_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    outcome: Resolution
    resolved_on: str
    source_url: str
    recorded_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    editable_until: _timestamp_pb2.Timestamp
    editable: bool
    markets: _containers.RepeatedCompositeFieldContainer[MarketScore]
    agents: _containers.RepeatedCompositeFieldContainer[AgentSettlement]
    def __init__(self, job_id: _Optional[int] = ..., outcome: _Optional[_Union[Resolution, str]] = ..., resolved_on: _Optional[str] = ..., source_url: _Optional[str] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., editable_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., editable: _Optional[bool] = ..., markets: _Optional[_Iterable[_Union[MarketScore, _Mapping]]] = ..., agents: _Optional[_Iterable[_Union[AgentSettlement, _Mapping]]] = ...) -> None: ...

class ResolveJobResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: JobOutcome
    def __init__(self, outcome: _Optional[_Union[JobOutcome, _Mapping]] = ...) -> None: ...

class GetOutcomeRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class GetOutcomeResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: JobOutcome
    def __init__(self, outcome: _Optional[_Union[JobOutcome, _Mapping]] = ...) -> None: ...

class GetTrackRecordRequest(_message.Message):
    __slots__ = ("all_users",)
    ALL_USERS_FIELD_NUMBER: _ClassVar[int]
    all_users: bool
    def __init__(self, all_users: _Optional[bool] = ...) -> None: ...

class CalibrationBin(_message.Message):
    __slots__ = ("lower", "upper", "count", "mean_forecast", "observed")
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FORECAST_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    lower: float
    upper: float
    count: int
    mean_forecast: float
    observed: float
    def __init__(self, lower: _Optional[float] = ..., upper: _Optional[float] = ..., count: _Optional[int] = ..., mean_forecast: _Optional[float] = ..., observed: _Optional[float] = ...) -> None: ...

class ScoreSummary(_message.Message):
    __slots__ = ("count", "brier", "log_score", "sharpness", "ece", "calibration")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    BRIER_FIELD_NUMBER: _ClassVar[int]
    LOG_SCORE_FIELD_NUMBER: _ClassVar[int]
    SHARPNESS_FIELD_NUMBER: _ClassVar[int]
    ECE_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    count: int
    brier: float
    log_score: float
    sharpness: float
    ece: float
    calibration: _containers.RepeatedCompositeFieldContainer[CalibrationBin]
    def __init__(self, count: _Optional[int] = ..., brier: _Optional[float] = ..., log_score: _Optional[float] = ..., sharpness: _Optional[float] = ..., ece: _Optional[float] = ..., calibration: _Optional[_Iterable[_Union[CalibrationBin, _Mapping]]] = ...) -> None: ...

class TrackRecordEntry(_message.Message):
    __slots__ = ("job_id", "goal", "outcome", "resolved_on", "probability", "opening_price", "brier", "log_score", "opening_brier")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_ON_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    OPENING_PRICE_FIELD_NUMBER: _ClassVar[int]
    BRIER_FIELD_NUMBER: _ClassVar[int]
    LOG_SCORE_FIELD_NUMBER: _ClassVar[int]
    OPENING_BRIER_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    goal: str
    outcome: Resolution
    resolved_on: str
    probability: float
    opening_price: float
    brier: float
    log_score: float
    opening_brier: float
    def __init__(self, job_id: _Optional[int] = ..., goal: _Optional[str] = ..., outcome: _Optional[_Union[Resolution, str]] = ..., resolved_on: _Optional[str] = ..., probability: _Optional[float] = ..., opening_price: _Optional[float] = ..., brier: _Optional[float] = ..., log_score: _Optional[float] = ..., opening_brier: _Optional[float] = ...) -> None: ...

class GetTrackRecordResponse(_message.Message):
    __slots__ = ("resolved", "annulled", "forecast", "opening_price", "entries", "markets_resolved", "markets_brier", "all_users")
    RESOLVED_FIELD_NUMBER: _ClassVar[int]
    ANNULLED_FIELD_NUMBER: _ClassVar[int]
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    OPENING_PRICE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    MARKETS_RESOLVED_FIELD_NUMBER: _ClassVar[int]
    MARKETS_BRIER_FIELD_NUMBER: _ClassVar[int]
    ALL_USERS_FIELD_NUMBER: _ClassVar[int]
    resolved: int
    annulled: int
    forecast: ScoreSummary
    opening_price: ScoreSummary
    entries: _containers.RepeatedCompositeFieldContainer[TrackRecordEntry]
    markets_resolved: int
    markets_brier: float
    all_users: bool
    def __init__(self, resolved: _Optional[int] = ..., annulled: _Optional[int] = ..., forecast: _Optional[_Union[ScoreSummary, _Mapping]] = ..., opening_price: _Optional[_Union[ScoreSummary, _Mapping]] = ..., entries: _Optional[_Iterable[_Union[TrackRecordEntry, _Mapping]]] = ..., markets_resolved: _Optional[int] = ..., markets_brier: _Optional[float] = ..., all_users: _Optional[bool] = ...) -> None: ...

class InterviewAgentsRequest(_message.Message):
    __slots__ = ("job_id", "question", "agent_ids", "camp", "coalition")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    CAMP_FIELD_NUMBER: _ClassVar[int]
    COALITION_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    question: str
    agent_ids: _containers.RepeatedScalarFieldContainer[int]
    camp: str
    coalition: str
    def __init__(self, job_id: _Optional[int] = ..., question: _Optional[str] = ..., agent_ids: _Optional[_Iterable[int]] = ..., camp: _Optional[str] = ..., coalition: _Optional[str] = ...) -> None: ...

class InterviewAgentsResponse(_message.Message):
    __slots__ = ("interview_id", "answer")
    INTERVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    interview_id: int
    answer: _events_pb2.InterviewAnswer
    def __init__(self, interview_id: _Optional[int] = ..., answer: _Optional[_Union[_events_pb2.InterviewAnswer, _Mapping]] = ...) -> None: ...

class Interview(_message.Message):
    __slots__ = ("id", "job_id", "question", "target", "answers", "backend", "model_id", "left_out", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    LEFT_OUT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    job_id: int
    question: str
    target: str
    answers: _containers.RepeatedCompositeFieldContainer[_events_pb2.InterviewAnswer]
    backend: str
    model_id: str
    left_out: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., job_id: _Optional[int] = ..., question: _Optional[str] = ..., target: _Optional[str] = ..., answers: _Optional[_Iterable[_Union[_events_pb2.InterviewAnswer, _Mapping]]] = ..., backend: _Optional[str] = ..., model_id: _Optional[str] = ..., left_out: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListInterviewsRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class ListInterviewsResponse(_message.Message):
    __slots__ = ("interviews",)
    INTERVIEWS_FIELD_NUMBER: _ClassVar[int]
    interviews: _containers.RepeatedCompositeFieldContainer[Interview]
    def __init__(self, interviews: _Optional[_Iterable[_Union[Interview, _Mapping]]] = ...) -> None: ...

class BranchJobRequest(_message.Message):
    __slots__ = ("job_id", "round", "events")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    round: int
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.ScheduledEvent]
    def __init__(self, job_id: _Optional[int] = ..., round: _Optional[int] = ..., events: _Optional[_Iterable[_Union[_events_pb2.ScheduledEvent, _Mapping]]] = ...) -> None: ...

class BranchJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...
