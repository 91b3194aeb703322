"""Item 3: the bot's token goes only to Teams / Bot Framework hosts. With authentication on, an
activity is served only from msteams, with a channel token issued for its own serviceUrl, and no
call leaves for (nor is any address stored of) a host outside SERVICE_URL_HOSTS."""

from __future__ import annotations

from dataclasses import replace

import pytest
from botframework.connector.auth import ClaimsIdentity

from app import StartupRefused, build
from tests.conftest import RunningBot
from tests.credentials import LoopbackCredentials
from tests.harness import Admin, Connector
from tests.security.conftest import TENANT, bearer, secured


async def test_a_token_for_a_foreign_service_url_gets_no_reply_and_no_token(settings, openid, signing_key, connector):
    elsewhere = Connector()  # a host the attacker controls: loopback, but not the listed 127.0.0.1
    await elsewhere.start()
    foreign = elsewhere.url.replace("127.0.0.1", "localhost")
    try:
        async with RunningBot(secured(settings, openid), credentials_factory=LoopbackCredentials()) as running:
            attacker = Admin(running.url, connector, tenant_id=TENANT)
            for text in ("hello", "use this channel for support"):
                body = attacker.activity(text=text, serviceUrl=foreign)
                response = await attacker.post(body, headers=bearer(signing_key, foreign))
                assert response.status == 401
            await attacker.close()
    finally:
        await elsewhere.stop()
    assert elsewhere.records == [] and connector.records == []


async def test_only_the_msteams_channel_is_served(secured_bot, openid, signing_key, connector):
    openid.jwks["keys"][0]["endorsements"] = ["msteams", "webchat"]  # a key the SDK accepts for webchat too
    admin = Admin(secured_bot.url, connector, tenant_id=TENANT)
    response = await admin.post(admin.activity(text="hello", channelId="webchat"), headers=bearer(signing_key, connector.url))
    ok = await admin.post(admin.activity(text="hello"), headers=bearer(signing_key, connector.url))
    await admin.close()
    assert response.status == 401
    assert ok.status in (200, 201) and len(connector.records) == 1  # the same token from msteams is served


async def test_with_auth_off_only_loopback_and_listed_hosts_get_replies(settings, connector):
    async with RunningBot(settings) as running:
        admin = Admin(running.url, connector)
        refused = await admin.post(admin.activity(text="hello", serviceUrl="https://attacker.example/"))
        served = await admin.post(admin.activity(text="hello"))
        await admin.close()
    assert refused.status == 401
    assert served.status in (200, 201) and len(connector.records) == 1


def test_emulator_and_mismatched_tokens_are_refused_after_the_sdk_accepts_them():
    from bot.hosting.connector import check_channel_claims

    url = "https://smba.trafficmanager.net/amer/"
    emulator = ClaimsIdentity({"iss": "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/", "aud": "x"}, True)
    channel = ClaimsIdentity({"iss": "https://api.botframework.com", "serviceurl": url}, True)
    with pytest.raises(PermissionError, match="channel token"):
        check_channel_claims(emulator, "msteams", url)
    with pytest.raises(PermissionError, match="serviceurl"):
        check_channel_claims(channel, "msteams", "https://smba.trafficmanager.net/emea/")
    with pytest.raises(PermissionError, match="msteams"):
        check_channel_claims(channel, "emulator", url)
    check_channel_claims(channel, "msteams", url)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://smba.trafficmanager.net/amer/", True),
        ("https://smba.infra.gcc.teams.microsoft.com/teams", True),
        ("https://smba.infra.gov.teams.microsoft.us/teams", True),
        ("https://smba.infra.dod.teams.microsoft.us/teams", True),
        ("https://europe.webchat.botframework.com/", True),
        ("https://botframework.azure.us.evil.example/", False),
        ("https://evilbotframework.com/", False),
        ("https://smba.trafficmanager.net.evil.example/", False),
        ("http://smba.trafficmanager.net/amer/", False),  # never plain http off loopback
        ("https://user@smba.trafficmanager.net/amer/", False),
        ("https://smba.trafficmanager.net:notaport/", False),
        ("http://127.0.0.1:3978/", False),  # auth on, loopback not listed
        ("", False),
    ],
)
def test_the_default_allow_list(url, allowed):
    from bot.service_urls import ServiceUrlPolicy
    from bot.settings import DEFAULT_SERVICE_URL_HOSTS

    assert ServiceUrlPolicy(DEFAULT_SERVICE_URL_HOSTS, allow_loopback=False).allows(url) is allowed


def test_a_configured_support_address_off_the_allow_list_refuses_to_start(settings, openid):
    for url in ("https://attacker.example/", "http://localhost:9/"):
        with pytest.raises(StartupRefused, match="SUPPORT_SERVICE_URL"):
            build(secured(settings, openid, support_channel_id="19:x@thread.tacv2", support_service_url=url))
    with pytest.raises(StartupRefused, match="SUPPORT_SERVICE_URL"):
        build(replace(settings, support_channel_id="19:x@thread.tacv2", support_service_url="https://attacker.example/"))


async def test_outbound_calls_and_stored_addresses_are_checked_too():
    """Behind the inbound check: a stored reference or a configured address off the list."""
    from botbuilder.schema import Activity, ConversationAccount

    from bot.hosting.connector import ConnectorSender
    from bot.service_urls import ServiceUrlPolicy, UntrustedServiceUrl
    from bot.teams.support_channel import ChannelAddress, TeamsSupportChannel

    elsewhere = Connector()
    await elsewhere.start()
    foreign = elsewhere.url.replace("127.0.0.1", "localhost")
    sender = ConnectorSender(ServiceUrlPolicy(("127.0.0.1",), allow_loopback=False))
    activity = Activity(type="message", text="hi", service_url=foreign, conversation=ConversationAccount(id="a:1"))
    try:
        with pytest.raises(UntrustedServiceUrl):
            await sender.send(activity, None)
        activity.id = "1"
        with pytest.raises(UntrustedServiceUrl):
            await sender.update(activity, None)

        class Adapter:
            pass

        adapter = Adapter()
        adapter.sender = sender
        channel = TeamsSupportChannel(adapter, "app", None, None, None)
        with pytest.raises(UntrustedServiceUrl):
            await channel.use_channel(ChannelAddress("19:x@thread.tacv2", foreign, TENANT))
    finally:
        await sender.close()
        await elsewhere.stop()
    assert elsewhere.records == []
