"""Telemetry over a real walkthrough, caught by the OpenTelemetry SDK's in-memory span and metric
exporters: one span per turn with its children (store, connector, Graph), the metrics, and no
personal data in any attribute. Then OTLP to a loopback collector, and nothing at all when
neither exporter is configured."""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from bot.integrations import telemetry
from bot.storage import MemoryDocumentStore, StoreUnavailable
from bot.storage.blob_store import BlobDocumentStore
from tests.conftest import RunningBot
from tests.graph_standin import ADMIN_ID, TENANT, with_graph
from tests.harness import Admin
from tests.playbook_table import EXPECTED
from tests.processes import BotProcess, free_port
from tests.support_desk import ADMIN_UPN, SUPPORT_CHANNEL, escalate
from tests.walker import UPN, walk_leaf


def counter_values(reader: InMemoryMetricReader) -> dict[tuple[str, tuple], int]:
    values = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    value = point.value if hasattr(point, "value") else point.count  # counters, histograms
                    values[(metric.name, tuple(sorted(point.attributes.items())))] = value
    return values


async def test_a_walkthrough_gives_a_span_per_turn_with_its_children_and_no_personal_data(
    exported,
    settings,
    connector,
    playbook,
    microsoft,
):
    spans, reader = exported
    graph_settings = with_graph(settings, microsoft, allowed_tenants=(TENANT,))
    leaf = sorted(EXPECTED)[0]
    onprem, entra, mailbox, *_ = EXPECTED[leaf]
    microsoft.user_mode = "forbidden"  # the admin answers every question; Graph answers on recheck
    async with RunningBot(graph_settings) as bot:
        admin = Admin(bot.url, connector, name="Adele Vance", aad_object_id=ADMIN_ID)
        await walk_leaf(admin, playbook, {"onprem": onprem, "entra": entra, "mailbox": mailbox})
        microsoft.user_mode = "present"
        await admin.say("recheck")
        stranger = Admin(bot.url, connector, name="Mallory Outsider", tenant_id="0badc0de-0000-4000-8000-000000000000")
        await stranger.say("start")
        await admin.close()
        await stranger.close()

    finished = spans.get_finished_spans()
    turns = [s for s in finished if s.name == "turn"]
    assert len(turns) >= 8 and all(s.attributes["bot.activity_type"] == "message" for s in turns)
    assert all(isinstance(s.attributes["bot.duration_ms"], float) for s in turns)
    outcomes = [s.attributes["bot.outcome"] for s in turns]
    assert outcomes.count("foreign-tenant") == 1 and set(outcomes) == {"ok", "foreign-tenant"}
    case_ids = {s.attributes.get("bot.case_id") for s in turns} - {None}
    assert len(case_ids) == 1 and next(iter(case_ids)).startswith("MR-")

    turn_ids = {s.context.span_id for s in turns}
    children = {s.name for s in finished if s.parent is not None and s.parent.span_id in turn_ids}
    assert {"store.read", "store.write", "connector POST", "graph GET"} <= children

    personal = [UPN, "brien@contoso.com", "jane.doe", "Adele Vance", "Mallory", ADMIN_ID, admin.user_id, admin.conversation_id]
    secrets = ["Bearer", "graph-secret", "eyJ0"]
    for span in finished:
        text = json.dumps(dict(span.attributes), default=str) + span.name + (span.status.description or "")
        leaks = [p for p in personal + secrets if p.lower() in text.lower()]
        assert not leaks, f"{span.name} carries {leaks}: {dict(span.attributes)}"

    counters = counter_values(reader)
    assert counters[("mailbox_recovery.turns", (("outcome", "ok"),))] == outcomes.count("ok")
    assert counters[("mailbox_recovery.refused_tenants", ())] == 1
    assert counters[("mailbox_recovery.graph.failures", (("purpose", "user"),))] == 1
    assert counters[("mailbox_recovery.turn.duration", (("outcome", "ok"),))] == outcomes.count("ok")


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector on loopback: keeps the trace export requests."""

    received: ClassVar[list[ExportTraceServiceRequest]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            Collector.received.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture
def collector():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_otlp_endpoint_receives_the_turn_spans(collector, monkeypatch, settings, connector):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
    assert telemetry.configure("", collector) == f"OTLP to {collector}"
    try:
        async with RunningBot(settings) as bot:
            admin = Admin(bot.url, connector)
            await admin.say("help")
            await admin.close()
    finally:
        telemetry.uninstall()  # flushes the batch to the collector
    names = {
        span.name for request in Collector.received for r in request.resource_spans for s in r.scope_spans for span in s.spans
    }
    assert "turn" in names and "store.read" in names
    services = {
        attribute.value.string_value
        for request in Collector.received
        for r in request.resource_spans
        for attribute in r.resource.attributes
        if attribute.key == "service.name"
    }
    assert services == {"mailbox_recovery"}


async def test_with_no_exporter_configured_nothing_is_set_up(settings, connector):
    assert telemetry.configure("", "") == ""
    assert not telemetry.enabled()
    store = MemoryDocumentStore()
    assert telemetry.traced_store(store) is store  # no wrapper on the store's hot path
    assert telemetry.span("store.read") is telemetry.span("store.read")  # one shared no-op, no span made
    async with RunningBot(settings) as bot:
        admin = Admin(bot.url, connector)
        assert await admin.say("help")
        await admin.close()


class Ingestion(BaseHTTPRequestHandler):
    """Application Insights' ingestion endpoint on loopback: keeps the telemetry envelopes."""

    envelopes: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path.endswith("/track"):
            items = json.loads(body)
            Ingestion.envelopes.extend(items if isinstance(items, list) else [items])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"itemsReceived": 0, "itemsAccepted": 0, "errors": []}')

    def log_message(self, *_: object) -> None:
        return None


async def test_application_insights_receives_each_turn_as_a_request(tmp_path, connector):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ingestion)
    Ingestion.envelopes = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "STATE_STORE": "sqlite",
        "SQLITE_PATH": str(tmp_path / "state.sqlite3"),
        "APPLICATIONINSIGHTS_CONNECTION_STRING": (
            f"InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=http://127.0.0.1:{server.server_address[1]}/"
        ),
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        # The distro samples 5 traces a second by default, the first ones after start at less than 100 %.
        "OTEL_TRACES_SAMPLER": "always_on",
    }
    process = BotProcess(env, tmp_path / "bot.log").start()
    try:
        admin = Admin(process.url, connector)
        await admin.say("help")
        await admin.close()
    finally:
        process.stop()  # SIGTERM: the exporters flush on the way out
        server.shutdown()
        server.server_close()
    assert process.process.returncode == 0
    requests = [e["data"]["baseData"] for e in Ingestion.envelopes if e["data"]["baseType"] == "RequestData"]
    assert [r["name"] for r in requests] == ["turn"]
    assert requests[0]["properties"]["bot.outcome"] == "ok"
    dependencies = {e["data"]["baseData"]["name"] for e in Ingestion.envelopes if e["data"]["baseType"] == "RemoteDependencyData"}
    assert {"store.read", "store.write", "POST /v3/conversations"} <= dependencies  # Insights names HTTP calls itself
    roles = {e["tags"].get("ai.cloud.role") for e in Ingestion.envelopes}
    assert roles == {"mailbox_recovery"}
    assert "telemetry: Application Insights" in (tmp_path / "bot.log").read_text()


async def test_tickets_and_store_errors_are_counted(exported, settings, connector):
    _, reader = exported
    support = replace(
        settings,
        support_channel_id=SUPPORT_CHANNEL,
        support_service_url=connector.url,
        support_tenant_id="tenant",
        ticket_retry_seconds=3600,
    )
    async with RunningBot(support) as bot:
        admin = Admin(bot.url, connector)
        connector.members[admin.user_id] = {"id": admin.user_id, "name": admin.name, "userPrincipalName": ADMIN_UPN}
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        connector.fail_create = [503] * 10  # the first delivery fails; the ticket is kept
        await escalate(admin)
        connector.fail_create = []
        assert await bot.assembly.services.escalation.retry_pending() == 1
        await admin.close()

    nowhere = f"DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:{free_port()}/a;"
    store = telemetry.traced_store(BlobDocumentStore(nowhere, "c"))
    with pytest.raises(StoreUnavailable):
        await store.read(["state/x"])
    await store.close()

    counters = counter_values(reader)
    assert counters[("mailbox_recovery.tickets.created", ())] == 1
    assert counters[("mailbox_recovery.tickets.retried", ())] == 1
    assert counters[("mailbox_recovery.tickets.delivered", ())] == 1
    assert counters[("mailbox_recovery.store.errors", (("operation", "read"),))] == 1
