"""Traces and metrics (OpenTelemetry), exported only when configured.

- APPLICATIONINSIGHTS_CONNECTION_STRING: the Azure Monitor OpenTelemetry distro exports to
  Application Insights.
- OTEL_EXPORTER_OTLP_ENDPOINT: OTLP over HTTP to a collector.
- neither: nothing is set up, and every call here returns at once (no SDK pipeline, no spans).

One span per turn ("turn": activity type, outcome, duration, case id), child spans for the
document store ("store.<operation>") and, through the aiohttp client instrumentation, for the
Bot Connector and Microsoft Graph. Attributes never carry a UPN, a message, a token or a store
key: HTTP spans keep only the host and the first two path segments ("/v1.0/users").

One `Telemetry` object counts (in process, for /healthz, and exported when an exporter is set
up: one counter system) and traces. app.py injects it into the HTTP edge and the turn pipeline;
a turn's outcome is a value the edge hands to `Telemetry.turn(...).finish`, never a global. The
module functions `count` and `traced_store` are the same object (DEFAULT) for plain code that
has no turn.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.storage.documents import Conflict, Document, DocumentStore, StoreUnavailable

log = logging.getLogger(__name__)
NAME = "mailbox_recovery"
# The metrics a person running the bot watches (each a counter, "mailbox_recovery.<name>");
# any other name counted is exported as a counter too, without a description.
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
    meter: Any
    counters: dict[str, Any]
    turn_duration: Any
    shutdown: Callable[[], None] = lambda: None

    def counter(self, name: str) -> Any:
        found = self.counters.get(name)
        if found is None:
            found = self.counters[name] = self.meter.create_counter(f"{NAME}.{name}")
        return found


@dataclass
class TurnTrace:
    """One incoming activity, from the edge's point of view: started when the request is
    authenticated, finished with the turn's outcome (a value the edge has in hand)."""

    telemetry: Telemetry
    activity_type: str
    started: float = field(default_factory=time.perf_counter)
    span: Any = None
    finished: bool = False

    def finish(self, outcome: str, case_id: str = "", error: str = "") -> float:
        """Record the outcome (counted and traced once); returns the duration in ms."""
        duration_ms = (time.perf_counter() - self.started) * 1000
        if self.finished:
            return duration_ms
        self.finished = True
        telemetry = self.telemetry
        telemetry.counters["turns"] += 1
        telemetry.counters[f"turns.{outcome}"] += 1
        if outcome == "foreign-tenant":
            telemetry.counters["refused_tenants"] += 1
        pipeline = telemetry._pipeline
        if pipeline is None:
            return duration_ms
        if self.span is not None:
            from opentelemetry.trace import Status, StatusCode

            self.span.set_attribute("bot.outcome", outcome)
            self.span.set_attribute("bot.duration_ms", round(duration_ms, 1))
            if case_id:
                self.span.set_attribute("bot.case_id", case_id)
            if error:  # the type only: an exception's text may quote what the admin typed
                self.span.set_status(Status(StatusCode.ERROR, error))
        pipeline.counter("turns").add(1, {"outcome": outcome})
        pipeline.turn_duration.record(duration_ms, {"outcome": outcome})
        if outcome == "foreign-tenant":
            pipeline.counter("refused_tenants").add(1)
        return duration_ms


class Telemetry:
    """Counters and traces: kept in process always (/healthz shows the counters), exported
    through OpenTelemetry once `install` has set up a pipeline."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self._pipeline: _Pipeline | None = None

    def enabled(self) -> bool:
        return self._pipeline is not None

    def count(self, name: str, **attributes: str) -> None:
        self.counters[name] += 1
        if self._pipeline is not None:
            self._pipeline.counter(name).add(1, attributes)

    @contextlib.contextmanager
    def turn(self, activity_type: str | None) -> Iterator[TurnTrace]:
        """The span of one incoming activity. The caller finishes it with the outcome; an
        exception that escapes finishes it as an error."""
        trace = TurnTrace(self, activity_type or "unknown")
        pipeline = self._pipeline
        if pipeline is None:
            with _finished(trace):
                yield trace
            return
        from opentelemetry.trace import SpanKind

        # SERVER: Application Insights lists each turn as a request, its store and HTTP calls beneath.
        with pipeline.tracer.start_as_current_span(
            "turn", kind=SpanKind.SERVER, attributes={"bot.activity_type": trace.activity_type}, **_QUIET
        ) as current:
            trace.span = current
            with _finished(trace):
                yield trace

    def span(self, name: str, **attributes: Any) -> contextlib.AbstractContextManager:
        if self._pipeline is None:
            return _NOTHING
        return self._pipeline.tracer.start_as_current_span(name, attributes=attributes, **_QUIET)

    def traced_store(self, store: DocumentStore) -> DocumentStore:
        """The store with a span around each call; the store itself when nothing is exported."""
        return store if self._pipeline is None else TracedDocumentStore(store, self)


@contextlib.contextmanager
def _finished(trace: TurnTrace) -> Iterator[None]:
    """A turn's trace always finishes: as an error when an exception escapes, else ok unless the
    caller finished it with its own outcome (a second finish is a no-op)."""
    try:
        yield
    except BaseException as exc:
        trace.finish("error", error=type(exc).__name__)
        raise
    finally:
        trace.finish("ok")


DEFAULT = Telemetry()  # the process's one telemetry object (app.py injects it where turns run)


def enabled() -> bool:
    return DEFAULT.enabled()


def count(name: str, **attributes: str) -> None:
    DEFAULT.count(name, **attributes)


def span(name: str, **attributes: Any) -> contextlib.AbstractContextManager:
    return DEFAULT.span(name, **attributes)


def traced_store(store: DocumentStore) -> DocumentStore:
    return DEFAULT.traced_store(store)


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


def install(
    tracer_provider: Any, meter_provider: Any, shutdown: Callable[[], None] | None = None, telemetry: Telemetry = DEFAULT
) -> None:
    """Export through these providers (configure() above, or a test's in-memory exporters)."""
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
    telemetry._pipeline = _Pipeline(tracer_provider.get_tracer(NAME), meter, counters, duration, shutdown or (lambda: None))


_store_size: list[int] = []


def note_store_size(size: int) -> None:
    """The store's size in bytes, as housekeeping last measured it (the store.bytes gauge)."""
    _store_size[:] = [size]


def _store_bytes(_options: Any) -> list:
    from opentelemetry.metrics import Observation

    return [Observation(_store_size[0])] if _store_size else []


def uninstall(telemetry: Telemetry = DEFAULT) -> None:
    """Flush what is pending and go back to exporting nothing."""
    if telemetry._pipeline is None:
        return
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

    pipeline, telemetry._pipeline = telemetry._pipeline, None
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


class TracedDocumentStore(DocumentStore):
    """A span per store call (operation and how many keys, never the keys: they hold user ids)."""

    def __init__(self, inner: DocumentStore, telemetry: Telemetry = DEFAULT) -> None:
        self.inner = inner
        self.telemetry = telemetry

    @contextlib.contextmanager
    def _span(self, operation: str, keys: int = 1) -> Iterator[None]:
        pipeline = self.telemetry._pipeline
        if pipeline is None:  # uninstalled while the store is still in use: no span
            yield
            return
        with pipeline.tracer.start_as_current_span(
            f"store.{operation}", attributes={"store.operation": operation, "store.keys": keys}, **_QUIET
        ) as current:
            try:
                yield
            except StoreUnavailable:
                self.telemetry.count("store.errors", operation=operation)
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
