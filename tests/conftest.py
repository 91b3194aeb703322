"""Shared fixtures: the bot served over real HTTP on loopback, with a recording connector."""

from __future__ import annotations

import inspect
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import Assembly, assemble, serve  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.integrations.graph import GraphSettings  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.graph_standin import TENANT, FakeMicrosoft, make_tls  # noqa: E402
from tests.harness import Admin, Connector  # noqa: E402


@pytest.fixture(scope="session")
def playbook():
    from bot.playbook import load_playbook

    return load_playbook()


class RunningBot:
    def __init__(self, settings: Settings, credentials_factory=None, clock=None) -> None:
        self.settings = settings
        self.credentials_factory = credentials_factory
        self.clock = clock  # bot.clock.ManualClock where a test moves time
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.app: web.Application | None = None
        self.assembly: Assembly | None = None

    async def start(self) -> str:
        self.assembly = assemble(self.settings, self.credentials_factory, self.clock)
        self.app = serve(self.assembly)
        self.runner = web.AppRunner(self.app, access_log=None)  # as app.py runs it
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/api/messages"
        return self.url

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    async def __aenter__(self) -> RunningBot:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()


@pytest_asyncio.fixture
async def connector(monkeypatch):
    connector = Connector()
    await connector.start()
    # With sign-in off the bot answers one loopback connector (LOCAL_SERVICE_URL, the Playground's
    # in real use): here the test's. A bot started as a process reads it from the environment.
    monkeypatch.setenv("LOCAL_SERVICE_URL", connector.url)
    yield connector
    await connector.stop()


@pytest.fixture
def settings(tmp_path, request) -> Settings:
    # The walkthrough tests click faster than any admin: the rate limit has its own test.
    local = {"local_service_url": request.getfixturevalue("connector").url} if "connector" in request.fixturenames else {}
    # The walkthrough tests take the questions path, as an admin who presses "I'd rather answer the
    # questions" does; tests/diagnostics and the Playground test read pasted diagnostics.
    return Settings(
        state_store="sqlite", sqlite_path=str(tmp_path / "state.sqlite3"), turns_per_minute=0, diagnostics=False, **local
    )


@pytest_asyncio.fixture
async def bot(settings):
    async with RunningBot(settings) as running:
        yield running


@pytest_asyncio.fixture
async def admin(bot, connector):
    person = Admin(bot.url, connector)
    yield person
    await person.close()


@pytest.fixture
def make_admin(bot, connector):
    created = []

    def make(**fields):
        person = Admin(bot.url, connector, **fields)
        created.append(person)
        return person

    yield make
    import asyncio

    for person in created:
        if person.session:
            asyncio.get_event_loop().run_until_complete(person.close()) if not asyncio.get_event_loop().is_running() else None


# --- a bot on a clock the test moves ---------------------------------------------------------
CLOCK_START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(CLOCK_START)


@pytest_asyncio.fixture
async def running(settings, clock, connector):
    """The bot on `clock`; reminder rounds are run by the tests (scheduler.run_due), on that clock."""
    quiet = replace(settings, reminder_poll_seconds=3600)
    async with RunningBot(quiet, clock=clock) as bot:
        yield bot


@pytest_asyncio.fixture
async def person(running, connector):
    """An admin talking to the bot on the test's clock."""
    admin = Admin(running.url, connector)
    yield admin
    await admin.close()


def with_settings(settings: Settings, **changes) -> Settings:
    return replace(settings, **changes)


@pytest.fixture
def azurite(tmp_path):
    """A real Azurite (Azure Blob Storage) for this test, stopped after it."""
    from tests.processes import AzuriteProcess

    process = AzuriteProcess(tmp_path / "azurite").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def azurite_oauth(tmp_path_factory):
    """Azurite over HTTPS (a certificate made here) checking Entra bearer tokens."""
    from tests.processes import AzuriteProcess

    tls_dir = tmp_path_factory.mktemp("azurite-tls")
    ca_bundle, _ = make_tls(tls_dir)
    tls = (str(tls_dir / "server.pem"), str(tls_dir / "server.key"))
    process = AzuriteProcess(tmp_path_factory.mktemp("azurite-oauth"), tls=tls)
    process.ca_bundle = ca_bundle
    yield process.start()
    process.stop()


# --- the Graph stand-in -----------------------------------------------------------------------
@pytest_asyncio.fixture
async def microsoft(tmp_path):
    """The Graph stand-in (tests/graph_standin.py) on loopback over HTTPS; its `settings` point a GraphClient at it."""
    ca_bundle, context = make_tls(tmp_path)
    fake = FakeMicrosoft()
    app = web.Application()
    app.router.add_post("/v1.0/users/{id}/checkMemberGroups", fake.check_member_groups)
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", fake.openid)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", fake.token)
    app.router.add_get("/v1.0/directory/deletedItems/microsoft.graph.user", fake.deleted)
    app.router.add_get("/v1.0/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole", fake.roles_of)
    app.router.add_get("/v1.0/users/{user}", fake.user)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    fake.base = f"https://127.0.0.1:{port}"
    fake.settings = GraphSettings(
        TENANT,
        "bot-graph-app",
        "graph-secret",
        authority_host=fake.base,
        endpoint=fake.base,
        ca_bundle=ca_bundle,
        timeout_seconds=1.0,
    )
    yield fake
    await runner.cleanup()


# --- lanes ---------------------------------------------------------------------------------
# Every test gets one lane marker, decided here in one place (a marker written on a test wins):
#   e2e   the Agents Playground in headless Chromium;
#   slow  needs Node tools, Azurite or a bot in a process of its own;
#   http  the bot served over real HTTP on loopback, in this process;
#   unit  plain Python.
# The fast lane, `bash scripts/test.sh -m "not slow and not e2e"`, needs no Node, Azurite or Chromium.
LANES = ("unit", "http", "slow", "e2e")
HTTP_FIXTURES = {"bot", "admin", "make_admin", "connector"}
SLOW_FIXTURES = {"bot_process"}  # and every fixture named *azurite* (azurite, azurite_oauth, ...)
SLOW_SOURCE = ("node_modules", "tests.processes import", "AzuriteProcess", "BotProcess")
SLOW_CALLS = ("library_problems(",)  # node tests/js/check_cards.js: slow where a test itself calls it


def _lane(item: pytest.Item) -> str:
    source = _module_source(item)
    if item.module.__name__.rsplit(".", 1)[-1].startswith("test_e2e"):
        return "e2e"
    fixtures = set(item.fixturenames)
    if (
        SLOW_FIXTURES & fixtures
        or any("azurite" in name for name in fixtures)
        or any(word in source for word in SLOW_SOURCE)
        or any(call in _function_source(item) for call in SLOW_CALLS)
    ):
        return "slow"
    if HTTP_FIXTURES & set(item.fixturenames) or "RunningBot" in source or "Admin(" in source:
        return "http"
    return "unit"


_SOURCES: dict[str, str] = {}


def _function_source(item: pytest.Item) -> str:
    function = getattr(item, "function", None)
    try:
        return inspect.getsource(function) if function is not None else ""
    except (OSError, TypeError):
        return ""


def _module_source(item: pytest.Item) -> str:
    path = str(item.path)
    if path not in _SOURCES:
        _SOURCES[path] = item.path.read_text(encoding="utf-8")
    return _SOURCES[path]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not any(item.get_closest_marker(lane) for lane in LANES):
            item.add_marker(getattr(pytest.mark, _lane(item)))


@pytest.fixture
def exported():
    """Telemetry installed on in-memory exporters for the test: (spans, metric reader)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from bot.integrations import telemetry

    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    telemetry.install(tracer_provider, MeterProvider(metric_readers=[reader]))
    yield spans, reader
    telemetry.uninstall()
