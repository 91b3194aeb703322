"""Traces and metrics (OpenTelemetry), exported only when configured.

- APPLICATIONINSIGHTS_CONNECTION_STRING: the Azure Monitor OpenTelemetry distro exports to
  Application Insights.
- OTEL_EXPORTER_OTLP_ENDPOINT: OTLP over HTTP to a collector.
- neither: nothing is set up, and every call here returns at once (no SDK pipeline, no spans).

One span per turn ("turn": activity type, outcome, duration, case id), child spans for the
document store ("store.<operation>") and, through the aiohttp client instrumentation, for the
Bot Connector and Microsoft Graph. Attributes never carry a UPN, a message, a token or a store
key: HTTP spans keep only the host and the first two path segments ("/v1.0/users").

The rest of the bot calls `turn`, `note_case`, `count` and `traced_store`; nothing else.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from bot import metrics
from bot.storage.documents import Conflict, Document, DocumentStore, StoreUnavailable

log = logging.getLogger(__name__)
NAME = "mailbox_recovery"
# The metrics a person running the bot watches (each a counter, "mailbox_recovery.<name>").
COUNTERS = {
    "turns": "turns, by outcome",
    "refused_tenants": "turns refused because the tenant is not allowed",
    "tickets.created": "support tickets created",
    "tickets.delivered": "support tickets posted to the support channel",
    "tickets.retried": "delivery attempts of tickets that had not reached the channel",
    "graph.failures": "Microsoft Graph calls that could not be answered",
    "store.errors": "document store calls that failed because the store was unreachable",
}
# An exception's text may hold a store key (user ids) or what the admin typed: spans get its type only.
_QUIET = {"record_exception": False, "set_status_on_exception": False}
_NOTHING = contextlib.nullcontext()  # reusable: the whole cost of a span when nothing is exported


@dataclass
class _Pipeline:
    tracer: Any
    counters: dict[str, Any]
    turn_duration: Any
    shutdown: Callable[[], None] = lambda: None


@dataclass
class _TurnNotes:
    case_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


_pipeline: _Pipeline | None = None
_turn_notes: ContextVar[_TurnNotes | None] = ContextVar("turn_notes", default=None)


def enabled() -> bool:
    return _pipeline is not None


# --- what the bot calls -------------------------------------------------------------------------


def turn(activity_type: str | None) -> contextlib.AbstractContextManager:
    """The span of one incoming activity; its outcome is read from bot.metrics at the end."""
    if _pipeline is None:
        return _NOTHING
    return _traced_turn(_pipeline, activity_type or "unknown")


def note_case(case_id: str | None) -> None:
    """The case this turn worked on (a case number such as MR-3F2A1C, not personal data)."""
    notes = _turn_notes.get()
    if notes is not None and case_id:
        notes.case_id = case_id


def count(name: str, **attributes: str) -> None:
    if _pipeline is not None:
        _pipeline.counters[name].add(1, attributes)


def span(name: str, **attributes: Any) -> contextlib.AbstractContextManager:
    if _pipeline is None:
        return _NOTHING
    return _pipeline.tracer.start_as_current_span(name, attributes=attributes, **_QUIET)


def traced_store(store: DocumentStore) -> DocumentStore:
    """The store with a span around each call; the store itself when nothing is exported."""
    return store if _pipeline is None else TracedDocumentStore(store)


# --- set-up -------------------------------------------------------------------------------------


def configure(applicationinsights_connection_string: str = "", otlp_endpoint: str = "") -> str:
    """Set up exporting from the settings; returns what was set up ("" for nothing)."""
    if applicationinsights_connection_string:
        from azure.monitor.opentelemetry import configure_azure_monitor
        from opentelemetry import metrics as otel_metrics
        from opentelemetry import trace

        # The distro instruments requests/urllib (msal, msrest) itself; aiohttp is ours to add.
        # The cloud role name in Application Insights, for traces, metrics and logs alike.
        os.environ.setdefault("OTEL_SERVICE_NAME", NAME)
        configure_azure_monitor(connection_string=applicationinsights_connection_string, logger_name=NAME)
        tracer_provider, meter_provider = trace.get_tracer_provider(), otel_metrics.get_meter_provider()
        install(tracer_provider, meter_provider, shutdown=lambda: _shutdown_all(tracer_provider, meter_provider))
        return "Application Insights"
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        # The exporters read OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS) themselves.
        resource = Resource.create({"service.name": NAME})
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        meter_provider = MeterProvider(resource=resource, metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())])
        install(tracer_provider, meter_provider, shutdown=lambda: _shutdown_all(tracer_provider, meter_provider))
        return f"OTLP to {otlp_endpoint}"
    return ""


def install(tracer_provider: Any, meter_provider: Any, shutdown: Callable[[], None] | None = None) -> None:
    """Export through these providers (configure() above, or a test's in-memory exporters)."""
    global _pipeline
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

    meter = meter_provider.get_meter(NAME)
    counters = {name: meter.create_counter(f"{NAME}.{name}", description=text) for name, text in COUNTERS.items()}
    duration = meter.create_histogram(f"{NAME}.turn.duration", unit="ms", description="time to answer a turn")
    meter.create_observable_gauge(
        f"{NAME}.store.bytes", callbacks=[_store_bytes], unit="By", description="the state store's size (hourly)"
    )
    instrumentor = AioHttpClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            url_filter=_url_without_people,
            request_hook=_name_http_span,
        )
    _pipeline = _Pipeline(tracer_provider.get_tracer(NAME), counters, duration, shutdown or (lambda: None))


_store_size: list[int] = []


def note_store_size(size: int) -> None:
    """The store's size in bytes, as housekeeping last measured it (the store.bytes gauge)."""
    _store_size[:] = [size]


def _store_bytes(_options: Any) -> list:
    from opentelemetry.metrics import Observation

    return [Observation(_store_size[0])] if _store_size else []


def uninstall() -> None:
    """Flush what is pending and go back to exporting nothing."""
    global _pipeline
    if _pipeline is None:
        return
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

    pipeline, _pipeline = _pipeline, None
    AioHttpClientInstrumentor().uninstrument()
    pipeline.shutdown()


def _shutdown_all(*providers: Any) -> None:
    for provider in providers:
        with contextlib.suppress(Exception):  # an exporter that cannot flush must not block exit
            provider.shutdown()


def _url_without_people(url: Any) -> Any:
    """Graph URLs carry the UPN (/v1.0/users/jane@contoso.com, $filter=...) and connector URLs
    the conversation id: spans keep the host and the first two path segments."""
    return str(url.with_path("/".join(url.path.split("/")[:3])).with_query(None).with_fragment(None))


def _name_http_span(span: Any, params: Any) -> None:
    """ "connector POST" / "graph GET" rather than the bare method, so a trace reads at a glance."""
    path = params.url.path
    service = "connector" if path.startswith("/v3/") else "graph" if path.startswith(("/v1.0/", "/beta/")) else "http"
    span.update_name(f"{service} {params.method}")


@contextlib.contextmanager
def _traced_turn(pipeline: _Pipeline, activity_type: str) -> Iterator[None]:
    from opentelemetry.trace import SpanKind, Status, StatusCode

    notes = _TurnNotes()
    reset = _turn_notes.set(notes)
    started = time.perf_counter()
    # SERVER: Application Insights lists each turn as a request, its store and HTTP calls beneath.
    with pipeline.tracer.start_as_current_span(
        "turn", kind=SpanKind.SERVER, attributes={"bot.activity_type": activity_type}, **_QUIET
    ) as current:
        failed: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            failed = exc
            raise
        finally:
            _turn_notes.reset(reset)
            outcome = "error" if failed is not None else metrics.turn_outcome.get()
            duration_ms = (time.perf_counter() - started) * 1000
            current.set_attribute("bot.outcome", outcome)
            current.set_attribute("bot.duration_ms", round(duration_ms, 1))
            if notes.case_id:
                current.set_attribute("bot.case_id", notes.case_id)
            if failed is not None:  # the type only: an exception's text may quote what the admin typed
                current.set_status(Status(StatusCode.ERROR, type(failed).__name__))
            pipeline.counters["turns"].add(1, {"outcome": outcome})
            pipeline.turn_duration.record(duration_ms, {"outcome": outcome})
            if outcome == "foreign-tenant":
                pipeline.counters["refused_tenants"].add(1)


class TracedDocumentStore(DocumentStore):
    """A span per store call (operation and how many keys, never the keys: they hold user ids)."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner

    @contextlib.contextmanager
    def _span(self, operation: str, keys: int = 1) -> Iterator[None]:
        assert _pipeline is not None
        with _pipeline.tracer.start_as_current_span(
            f"store.{operation}", attributes={"store.operation": operation, "store.keys": keys}, **_QUIET
        ) as current:
            try:
                yield
            except StoreUnavailable:
                count("store.errors", operation=operation)
                current.set_attribute("store.outcome", "unavailable")
                raise
            except Conflict:
                current.set_attribute("store.outcome", "conflict")
                raise

    async def read(self, keys: Iterable[str]) -> dict[str, tuple[Document, str]]:
        keys = list(keys)
        with self._span("read", len(keys)):
            return await self.inner.read(keys)

    async def write(self, key: str, document: Document, e_tag: str | None) -> str:
        with self._span("write"):
            return await self.inner.write(key, document, e_tag)

    async def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        with self._span("delete", len(keys)):
            await self.inner.delete(keys)

    async def insert_if_absent(self, key: str, document: Document) -> bool:
        with self._span("insert_if_absent"):
            return await self.inner.insert_if_absent(key, document)

    async def read_prefix(self, prefix: str) -> dict[str, Document]:
        with self._span("read_prefix", 0):
            return await self.inner.read_prefix(prefix)

    async def purge(self, prefix: str, older_than: float) -> int:
        with self._span("purge", 0):
            return await self.inner.purge(prefix, older_than)

    async def size(self) -> int | None:
        return await self.inner.size()

    async def close(self) -> None:
        await self.inner.close()
