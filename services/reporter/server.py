"""The reporter process: gRPC on the port of SWARMCAST_REPORTER_ADDR (50054); no database.

The shared bootstrap gives health, reflection, request logging, identity, error capture and the
event bus; `on_start` builds the `ReportService` (the runner.completed consumer) on them and binds
the servicer. RPCs:

- RegenerateReport (operator role): rewrites the job's report from its last run and returns once it
  is written (or has failed); `deterministic` skips the LLM writer.
- GetReportStatus (operator role): the report state kept in object storage. Operator-only because
  the reporter does not know job owners, and a user must not learn about other users' jobs.
"""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from swarmcast.reporter.v1 import reporter_pb2, reporter_pb2_grpc

from services.common.config import Settings
from services.common.errors import InvalidArgument, Unavailable
from services.common.grpc_server import GrpcServer, ServiceRuntime, ServiceSpec, run_service
from services.common.identity import TokenAuthenticator, require_operator
from services.common.storage import ObjectStore, StorageError
from services.reporter.service import ReportService
from services.reporter.settings import ReporterSettings, get_reporter_settings
from services.reporter.status import ReportState, ReportStatus

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
        await require_operator(context)
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
        await require_operator(context)
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


async def build(
    settings: Settings,
    reporter_settings: ReporterSettings | None = None,
    *,
    keys: TokenAuthenticator | None = None,
) -> ServiceSpec:
    """The reporter's spec; `keys` replaces the auth-backed signing-key cache (tests)."""
    reporter_settings = reporter_settings or get_reporter_settings()
    runtime = ServiceRuntime(settings, "reporter", error_source="worker")
    servicer = ReporterServicer()

    async def on_start(server: GrpcServer) -> None:
        await runtime.start()
        assert runtime.bus is not None
        store = ObjectStore.from_settings(settings)
        await store.ensure_bucket()
        service = ReportService(reporter_settings, bus=runtime.bus, store=store, errors=runtime.errors)
        await service.start()
        servicer.bind(service)
        server.state["report_service"] = service

    async def on_stop(server: GrpcServer) -> None:
        service = server.state.pop("report_service", None)
        if service is not None:
            await service.stop()
        await runtime.close()

    return ServiceSpec(
        name="reporter",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: reporter_pb2_grpc.add_ReporterServiceServicer_to_server(
            servicer, server
        ),
        listen_addr=settings.listen_addr(settings.reporter_addr),
        on_start=on_start,
        on_stop=on_stop,
        interceptors=runtime.interceptors(keys=keys),
    )


def main() -> None:
    run_service("reporter", build)


if __name__ == "__main__":
    main()
