import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetRunnerStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRunnerStatusResponse(_message.Message):
    __slots__ = ("instance_id", "backend", "model_id", "gpu", "llm_ready", "current_job_id", "current_round", "rounds_per_second", "tiers", "jobs_completed", "concurrency", "started_at", "context_size", "tokens_per_second", "llm_slots")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    GPU_FIELD_NUMBER: _ClassVar[int]
    LLM_READY_FIELD_NUMBER: _ClassVar[int]
    CURRENT_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ROUND_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    JOBS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    LLM_SLOTS_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    backend: str
    model_id: str
    gpu: str
    llm_ready: bool
    current_job_id: int
    current_round: int
    rounds_per_second: float
    tiers: _containers.RepeatedScalarFieldContainer[str]
    jobs_completed: int
    concurrency: int
    started_at: _timestamp_pb2.Timestamp
    context_size: int
    tokens_per_second: float
    llm_slots: int
    def __init__(self, instance_id: _Optional[str] = ..., backend: _Optional[str] = ..., model_id: _Optional[str] = ..., gpu: _Optional[str] = ..., llm_ready: _Optional[bool] = ..., current_job_id: _Optional[int] = ..., current_round: _Optional[int] = ..., rounds_per_second: _Optional[float] = ..., tiers: _Optional[_Iterable[str]] = ..., jobs_completed: _Optional[int] = ..., concurrency: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., context_size: _Optional[int] = ..., tokens_per_second: _Optional[float] = ..., llm_slots: _Optional[int] = ...) -> None: ...
