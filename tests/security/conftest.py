"""The attacker's bench: the bot with authentication on against the loopback OpenID metadata and
keys (tests/credentials.py), its loopback connector listed explicitly in SERVICE_URL_HOSTS."""

from __future__ import annotations

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import RunningBot
from tests.credentials import APP_ID, TENANT, LoopbackCredentials, OpenIdServer, secured, token
from tests.harness import Admin

__all__ = ["APP_ID", "TENANT", "bearer", "secured", "signed_in"]


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def openid(signing_key):
    server = OpenIdServer(signing_key)
    yield server
    server.close()


def bearer(key, service_url: str, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(key, service_url, **claims)}"}


@pytest_asyncio.fixture
async def secured_bot(settings, openid):
    async with RunningBot(secured(settings, openid), credentials_factory=LoopbackCredentials()) as running:
        yield running


def signed_in(person: Admin, key) -> Admin:
    """`person` posting with a channel token for the serviceUrl of each activity, as Teams' connector does."""
    post = person.post

    async def signed_post(body, headers=None, raw=None):
        service_url = body.get("serviceUrl") if isinstance(body, dict) else person.connector.url
        return await post(body, {**bearer(key, service_url), **(headers or {})}, raw)

    person.post = signed_post
    return person
