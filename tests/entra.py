"""A stand-in for a managed identity's token source: Entra-shaped access tokens (the issuer,
audience and lifetime Azurite checks in `--oauth basic` mode), handed out through the async
TokenCredential protocol the Azure SDK calls, recording which scopes were asked for."""

from __future__ import annotations

import base64
import json
import time

from azure.core.credentials import AccessToken

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _part(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def entra_token(audience: str, lifetime: int = 3600) -> tuple[str, int]:
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": now,
        "nbf": now - 60,
        "exp": now + lifetime,
        "oid": "0f0f0f0f-1111-4222-8333-444444444444",
        "tid": TENANT,
    }
    return f"{_part({'typ': 'JWT', 'alg': 'RS256'})}.{_part(claims)}.c2lnbmF0dXJl", now + lifetime


class StorageTokenCredential:
    def __init__(self, audience: str = "https://storage.azure.com") -> None:
        self.audience = audience
        self.scopes_asked: list[str] = []
        self.closed = False

    async def get_token(self, *scopes: str, **_: object) -> AccessToken:
        self.scopes_asked.extend(scopes)
        token, expires_on = entra_token(self.audience)
        return AccessToken(token, expires_on)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> StorageTokenCredential:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
