"""Issue 25 item 7: local mode (sign-in off) is not reachable from a web page. A page can POST
`text/plain; application/json` with no CORS preflight; with sign-in off any loopback serviceUrl
(any port, path and query) was answered, so a page the developer visited could make the local
bot POST JSON to another local service. Now: the exact media type only, no request that carries
an Origin, and with sign-in off only the configured local connector (LOCAL_SERVICE_URL)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app import StartupRefused, build
from tests.conftest import RunningBot
from tests.harness import Admin, Connector

PAGE = "https://attacker.example"


async def test_a_web_pages_simple_request_is_refused(bot, connector):
    admin = Admin(bot.url, connector)
    body = admin.activity(text="hello")
    simple = await admin.post(body, headers={"Content-Type": "text/plain; application/json"})
    from_a_page = await admin.post(body, headers={"Origin": PAGE})
    form = await admin.post(body, headers={"Content-Type": "application/x-www-form-urlencoded; a=application/json"})
    served = await admin.post(admin.activity(text="hello"), headers={"Content-Type": "application/json; charset=utf-8"})
    await admin.close()
    assert (simple.status, from_a_page.status, form.status) == (415, 403, 415)
    assert served.status in (200, 201) and len(connector.records) == 1  # only the last one was answered


async def test_with_sign_in_off_only_the_configured_local_connector_is_answered(settings, connector):
    other = Connector()  # another local service, on another port
    await other.start()
    base = connector.url.rstrip("/")
    try:
        async with RunningBot(settings) as running:
            admin = Admin(running.url, connector)
            refused = {}
            for url in (
                other.url,  # another port
                f"{base}/internal/api/",  # another path on the same port
                f"{base}/?x=1",  # a query
                f"{base}/#x",
                f"http://user@{base[len('http://') :]}/",
                base.replace("127.0.0.1", "localhost") + "/",  # another loopback name is another host
            ):
                refused[url] = (await admin.post(admin.activity(text="hello", serviceUrl=url))).status
            served = await admin.post(admin.activity(text="hello"))
            await admin.close()
    finally:
        await other.stop()
    assert set(refused.values()) == {401}, refused
    assert other.records == []
    assert served.status in (200, 201) and len(connector.records) == 1


def test_the_local_connector_setting_is_a_plain_loopback_url(settings):
    from bot.settings import DEFAULT_LOCAL_SERVICE_URL, Settings

    assert Settings().local_service_url == DEFAULT_LOCAL_SERVICE_URL == "http://localhost:56150/_connector"
    assert Settings.from_env({"LOCAL_SERVICE_URL": "http://127.0.0.1:4000/"}).local_service_url == "http://127.0.0.1:4000/"
    for wrong in ("http://example.com:56150/_connector", "http://localhost:56150/_connector?x=1", "file:///tmp/x"):
        with pytest.raises(StartupRefused, match="LOCAL_SERVICE_URL"):
            build(replace(settings, local_service_url=wrong))
