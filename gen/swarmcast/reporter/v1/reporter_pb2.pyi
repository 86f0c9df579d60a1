import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReportState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_STATE_UNSPECIFIED: _ClassVar[ReportState]
    REPORT_STATE_NOT_STARTED: _ClassVar[ReportState]
    REPORT_STATE_WRITING: _ClassVar[ReportState]
    REPORT_STATE_DONE: _ClassVar[ReportState]
    REPORT_STATE_FAILED: _ClassVar[ReportState]
REPORT_STATE_UNSPECIFIED: ReportState
REPORT_STATE_NOT_STARTED: ReportState
REPORT_STATE_WRITING: ReportState
REPORT_STATE_DONE: ReportState
REPORT_STATE_FAILED: ReportState

class RegenerateReportRequest(_message.Message):
    __slots__ = ("job_id", "deterministic")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    DETERMINISTIC_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    deterministic: bool
    def __init__(self, job_id: _Optional[int] = ..., deterministic: _Optional[bool] = ...) -> None: ...

class RegenerateReportResponse(_message.Message):
    __slots__ = ("job_id", "state", "writer", "report_key", "error_message", "run_id", "revision")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    WRITER_FIELD_NUMBER: _ClassVar[int]
    REPORT_KEY_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    state: ReportState
    writer: str
    report_key: str
    error_message: str
    run_id: str
    revision: int
    def __init__(self, job_id: _Optional[int] = ..., state: _Optional[_Union[ReportState, str]] = ..., writer: _Optional[str] = ..., report_key: _Optional[str] = ..., error_message: _Optional[str] = ..., run_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class GetReportStatusRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    def __init__(self, job_id: _Optional[int] = ...) -> None: ...

class GetReportStatusResponse(_message.Message):
    __slots__ = ("job_id", "state", "writer", "report_key", "error_message", "updated_at", "attempts", "run_id", "revision")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    WRITER_FIELD_NUMBER: _ClassVar[int]
    REPORT_KEY_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    state: ReportState
    writer: str
    report_key: str
    error_message: str
    updated_at: _timestamp_pb2.Timestamp
    attempts: int
    run_id: str
    revision: int
    def __init__(self, job_id: _Optional[int] = ..., state: _Optional[_Union[ReportState, str]] = ..., writer: _Optional[str] = ..., report_key: _Optional[str] = ..., error_message: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ..., run_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...
