"""Issue 21, move 3: a turn's outcome is a value. A turn that raises is caught by the SDK's turn
error handler; it is still logged, traced and counted as failed, and answered 500."""

from __future__ import annotations

import aiohttp
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.trace import StatusCode

from tests.conftest import RunningBot
from tests.harness import Admin, texts_of


def turn_counts(reader: InMemoryMetricReader) -> dict[str, int]:
    counts = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "mailbox_recovery.turns":
                    for point in metric.data.data_points:
                        counts[point.attributes["outcome"]] = point.value
    return counts


async def test_a_failing_turn_is_logged_traced_and_counted_as_failed(exported, settings, connector, monkeypatch, caplog):
    spans, reader = exported
    caplog.set_level("INFO")
    async with RunningBot(settings) as bot:
        admin = Admin(bot.url, connector)
        await admin.say("hello")
        healthz = bot.url.replace("/api/messages", "/healthz")
        async with aiohttp.ClientSession() as client, client.get(healthz) as answer:
            before = (await answer.json())["counters"]

        def explode(*_args, **_kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr("bot.cards.walkthrough.help_card", explode)
        body = admin.activity(text="help", id="failing-turn-1")
        response = await admin.post(body)
        told = "\n".join(texts_of(connector.records[-1:]))
        async with aiohttp.ClientSession() as client, client.get(healthz) as answer:
            after = (await answer.json())["counters"]
        await admin.close()

    assert "Something went wrong on my side" in told  # the error handler ran, as before
    assert response.status == 500  # ... and the edge knows the turn failed
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("turn activity=failing-turn-1 "))
    assert line.endswith("outcome=error")
    turns = [s for s in spans.get_finished_spans() if s.name == "turn"]
    assert [s.attributes["bot.outcome"] for s in turns] == ["ok", "error"]
    assert turns[-1].status.status_code is StatusCode.ERROR and turns[-1].status.description == "RuntimeError"
    assert turn_counts(reader) == {"ok": 1, "error": 1}
    assert after.get("turns.error", 0) == before.get("turns.error", 0) + 1  # /healthz counts the same turns
