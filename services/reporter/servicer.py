"""`swarmcast.reporter.v1.ReporterService` over gRPC: operator RPCs on the reports in object storage.

- RegenerateReport (operator role): rewrites the job's report from its last run and returns once it
  is written (or has failed); `deterministic` skips the LLM writer.
- GetReportStatus (operator role): the report state kept in object storage. Operator-only because
  the reporter does not know job owners, and a user must not learn about other users' jobs.

Domain errors (bad job id, nothing to regenerate, storage down) are mapped to status codes by the
shared interceptor (docs/architecture.md §4).
"""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from swarmcast.reporter.v1 import reporter_pb2, reporter_pb2_grpc

from services.common.errors import InvalidArgument, Unavailable
from services.common.identity import require_operator
from services.common.storage import StorageError
from services.reporter.repository import ReportState, ReportStatus
from services.reporter.service import ReportService

SERVICE_NAME = reporter_pb2.DESCRIPTOR.services_by_name["ReporterService"].full_name

_STATES = {
    ReportState.NOT_STARTED: reporter_pb2.REPORT_STATE_NOT_STARTED,
    ReportState.WRITING: reporter_pb2.REPORT_STATE_WRITING,
    ReportState.DONE: reporter_pb2.REPORT_STATE_DONE,
    ReportState.FAILED: reporter_pb2.REPORT_STATE_FAILED,
}


def _check_job_id(job_id: int) -> None:
    if job_id <= 0:
        raise InvalidArgument("job_id must be a positive integer", fields={"job_id": "must be > 0"})


def _timestamp(status: ReportStatus) -> Timestamp | None:
    when = status.updated_at_datetime
    if when is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


class ReporterServicer(reporter_pb2_grpc.ReporterServiceServicer):
    """swarmcast.reporter.v1.ReporterService, bound to the ReportService in on_start.

    The startup gate keeps RPCs out until `bind` has run.
    """

    def __init__(self) -> None:
        self.service: ReportService | None = None

    def bind(self, service: ReportService) -> None:
        self.service = service

    def _service(self) -> ReportService:
        assert self.service is not None, "servicer used before bind()"
        return self.service

    async def RegenerateReport(
        self, request: reporter_pb2.RegenerateReportRequest, context: grpc.aio.ServicerContext
    ) -> reporter_pb2.RegenerateReportResponse:
        require_operator()
        _check_job_id(request.job_id)
        # NothingToRegenerate is a FailedPrecondition and answered as such.
        try:
            status = await self._service().regenerate(request.job_id, deterministic=request.deterministic)
        except (StorageError, OSError, TimeoutError) as exc:
            raise Unavailable(f"the report could not be rewritten right now; retry shortly ({exc})") from exc
        return reporter_pb2.RegenerateReportResponse(
            job_id=status.job_id,
            state=_STATES[status.state],
            writer=status.writer,
            report_key=status.report_key,
            error_message=status.error_message,
            run_id=status.run_id,
            revision=status.revision,
        )

    async def GetReportStatus(
        self, request: reporter_pb2.GetReportStatusRequest, context: grpc.aio.ServicerContext
    ) -> reporter_pb2.GetReportStatusResponse:
        require_operator()
        _check_job_id(request.job_id)
        try:
            status = await self._service().status(request.job_id)
        except (StorageError, OSError, TimeoutError) as exc:
            raise Unavailable("report status is unavailable right now; retry shortly") from exc
        response = reporter_pb2.GetReportStatusResponse(
            job_id=request.job_id,
            state=_STATES[status.state],
            writer=status.writer,
            report_key=status.report_key,
            error_message=status.error_message,
            attempts=status.attempts,
            run_id=status.run_id,
            revision=status.revision,
        )
        stamp = _timestamp(status)
        if stamp is not None:
            response.updated_at.CopyFrom(stamp)
        return response
