"""Item 2: with authentication on the bot serves only the tenants it knows; app types that would
leave the tenant allow-list empty, or that it does not know, refuse to start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import StartupRefused, build
from bot.settings import Settings
from tests.conftest import ROOT, RunningBot
from tests.credentials import LoopbackCredentials
from tests.harness import Admin, joined
from tests.security.conftest import APP_ID, TENANT, bearer

STRANGER_TENANT = "11111111-2222-4333-8444-555555555555"


def registered(tmp_path, **env: str) -> dict[str, str]:
    return {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "x", "SQLITE_PATH": str(tmp_path / "s.sqlite3"), **env}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MicrosoftAppType": "MultiTenant"}, "ALLOWED_TENANTS"),
        ({"MicrosoftAppType": "MultiTenant", "MicrosoftAppTenantId": TENANT}, "ALLOWED_TENANTS"),
        ({"MicrosoftAppType": "UserAssignedMSI"}, "ALLOWED_TENANTS"),
        ({"MicrosoftAppType": "SingleTenant"}, "MicrosoftAppTenantId"),
        ({"MicrosoftAppType": "Multi Tenant", "MicrosoftAppTenantId": TENANT}, "MicrosoftAppType"),
        ({"MicrosoftAppType": "SingleTennant", "MicrosoftAppTenantId": TENANT}, "MicrosoftAppType"),
    ],
)
def test_a_registration_that_does_not_say_which_tenants_it_serves_does_not_start(tmp_path, env, named):
    with pytest.raises(StartupRefused, match=named):
        build(Settings.from_env(registered(tmp_path, **env)))


def test_multitenant_without_allowed_tenants_refuses_as_a_process(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PORT": "0", **registered(tmp_path, MicrosoftAppType="MultiTenant")}
    refused = subprocess.run([sys.executable, str(ROOT / "app.py")], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "set ALLOWED_TENANTS" in refused.stderr


def test_app_types_are_read_whatever_their_case_and_spaces(tmp_path):
    spellings = ((" singletenant ", "SingleTenant"), ("USERASSIGNEDMSI", "UserAssignedMSI"), ("multiTenant", "MultiTenant"))
    for spelling, canonical in spellings:
        settings = Settings.from_env(registered(tmp_path, MicrosoftAppType=spelling, MicrosoftAppTenantId=TENANT))
        assert settings.app_type == canonical
    allowed = f"{TENANT}, {STRANGER_TENANT}"
    multi = Settings.from_env(registered(tmp_path, MicrosoftAppType="MultiTenant", ALLOWED_TENANTS=allowed))
    assert multi.tenants_allowed == (TENANT, STRANGER_TENANT) and multi.problems() == []


async def test_a_stray_space_in_the_app_type_does_not_open_the_bot_to_other_tenants(tmp_path, openid, signing_key, connector):
    settings = Settings.from_env(
        registered(
            tmp_path,
            MicrosoftAppType="SingleTenant ",
            MicrosoftAppTenantId=TENANT,
            BOT_OPENID_METADATA_URL=f"{openid.url}/openid",
            SERVICE_URL_HOSTS="127.0.0.1",
            TURNS_PER_MINUTE="0",
        )
    )
    async with RunningBot(settings, credentials_factory=LoopbackCredentials()) as running:
        stranger = Admin(running.url, connector, tenant_id=STRANGER_TENANT)
        response = await stranger.post(stranger.activity(text="start"), headers=bearer(signing_key, connector.url))
        await stranger.close()
    assert response.status in (200, 201)
    said = joined(connector.sent_to(stranger.conversation_id))
    assert "only its own organisation's tenant" in said
    assert "Start a recovery" not in said and "UPN" not in said
