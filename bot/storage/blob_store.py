"""Azure Blob Storage, for several bot instances behind a load balancer.

Our own store on the current azure-storage-blob (async client) rather than botbuilder-azure's
BlobStorage: that one pins azure-storage-blob 12.7.0 (which needs `six` undeclared), stores
jsonpickle with Python class paths, and reads any non-404 error as "missing", which looks to an
admin like lost progress. Here documents are plain JSON, e_tags map to If-Match / If-None-Match,
and an unreachable store is reported as such.

Two ways in: a connection string (an account key), or the account URL with an Entra credential
(azure-identity: the App Service's managed identity, granted Storage Blob Data Contributor).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from azure.core import MatchConditions
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobServiceClient, LinearRetry

from bot.storage.documents import Conflict, DocumentStore, StoreUnavailable

_SAFE = "-_.~"


def _segment(segment: str) -> str:
    quoted = quote(segment, safe=_SAFE)
    if not quoted.strip("."):  # "." and "..": HTTP clients and the service resolve them
        return quoted.replace(".", "%2E")
    if quoted.endswith("."):  # the service drops a trailing dot, so "a." would be "a"
        return quoted[:-1] + "%2E"
    return quoted


def blob_name(key: str) -> str:
    """The blob a key is stored in: every segment percent-encoded, dot segments and trailing dots
    too, so that no key (a conversation id is the caller's) can name another document's blob.
    Keys without dot segments keep the names they always had."""
    return "/".join(_segment(segment) for segment in key.split("/"))


def managed_identity_credential(client_id: str = "") -> AsyncTokenCredential:
    """A user-assigned identity by its client id, else DefaultAzureCredential (the system-assigned
    identity on App Service; a developer's Azure CLI sign-in on a workstation)."""
    from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=client_id) if client_id else DefaultAzureCredential()


class BlobDocumentStore(DocumentStore):
    def __init__(
        self,
        connection_string: str,
        container: str,
        *,
        account_url: str = "",
        credential: AsyncTokenCredential | None = None,
        timeout_seconds: float = 5.0,
        **client_options: Any,
    ) -> None:
        if not connection_string and not (account_url and credential):
            raise ValueError("STATE_STORE=blob needs BLOB_ACCOUNT_URL (managed identity) or BLOB_CONNECTION_STRING")
        # Few, quick retries: an admin waiting in Teams is better told "try again" than kept
        # waiting past Teams' 15 seconds.
        options = {
            # The SDK annotates both as int, yet it draws the wait with random.uniform: fractions work.
            "retry_policy": LinearRetry(backoff=0.3, random_jitter_range=0.2, retry_total=2),  # type: ignore[arg-type]
            "connection_timeout": timeout_seconds,
            "read_timeout": timeout_seconds,
            **client_options,
        }
        self._credential = credential
        if connection_string:
            self._service = BlobServiceClient.from_connection_string(connection_string, **options)
        else:
            self._service = BlobServiceClient(account_url, credential=credential, **options)
        self._container = self._service.get_container_client(container)
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def _ensure_container(self) -> None:
        if self._ready:
            return
        async with self._ready_lock:
            if self._ready:
                return
            with contextlib.suppress(ResourceExistsError):
                await self._container.create_container()
            self._ready = True

    async def _guard(self, operation):
        """Run operation() (an async callable), mapping storage errors to ours."""
        try:
            await self._ensure_container()
            return await operation()
        except (Conflict, ResourceNotFoundError):
            raise
        except ClientAuthenticationError as exc:  # no token, or a token storage refuses
            raise StoreUnavailable(f"blob storage refused the bot's sign-in ({exc.status_code or type(exc).__name__})") from exc
        except HttpResponseError as exc:
            if exc.status_code in (409, 412):
                raise Conflict(str(exc.status_code)) from exc
            raise StoreUnavailable(f"blob storage answered {exc.status_code}") from exc
        except (TimeoutError, AzureError, OSError) as exc:
            raise StoreUnavailable(f"blob storage unreachable: {type(exc).__name__}") from exc

    async def _read_one(self, key: str):
        try:
            downloader = await self._container.get_blob_client(blob_name(key)).download_blob()
            body = await downloader.readall()
            return key, (json.loads(body), downloader.properties.etag)
        except ResourceNotFoundError:
            return key, None

    async def read(self, keys):
        keys = list(keys)

        async def read_all():
            return await asyncio.gather(*(self._read_one(k) for k in keys))

        results = await self._guard(read_all)
        return {key: value for key, value in results if value is not None}

    async def write(self, key, document, e_tag):
        data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        blob = self._container.get_blob_client(blob_name(key))
        # Last-Modified has whole seconds; the purge wants the write time as written.
        metadata = {"written": repr(time.time())}

        async def upload():
            try:
                if e_tag is None:
                    result = await blob.upload_blob(data, overwrite=False, metadata=metadata)
                elif e_tag == "*":
                    result = await blob.upload_blob(data, overwrite=True, metadata=metadata)
                else:
                    result = await blob.upload_blob(
                        data, overwrite=True, metadata=metadata, etag=e_tag, match_condition=MatchConditions.IfNotModified
                    )
            except ResourceExistsError as exc:
                raise Conflict(key) from exc
            except ResourceNotFoundError as exc:  # If-Match on a blob that was deleted
                raise Conflict(key) from exc
            return result["etag"]

        return await self._guard(upload)

    async def delete(self, keys):
        async def delete_all():
            for key in keys:
                with contextlib.suppress(ResourceNotFoundError):
                    await self._container.delete_blob(blob_name(key))

        await self._guard(delete_all)

    async def read_prefix(self, prefix):
        async def read_all():
            names = [unquote(blob.name) async for blob in self._container.list_blobs(name_starts_with=blob_name(prefix))]
            return await asyncio.gather(*(self._read_one(name) for name in names))

        results = await self._guard(read_all)
        return {key: value[0] for key, value in sorted(results) if value is not None}

    async def purge(self, prefix, older_than):
        cutoff = datetime.fromtimestamp(older_than, tz=UTC)

        def written_before(blob) -> bool:
            written = (blob.metadata or {}).get("written")
            return float(written) < older_than if written else blob.last_modified < cutoff

        async def purge_old():
            gone = []
            async for blob in self._container.list_blobs(name_starts_with=blob_name(prefix), include=["metadata"]):
                if written_before(blob):
                    gone.append(unquote(blob.name))
            await self.delete(gone)
            return len(gone)

        return await self._guard(purge_old)

    async def size(self):
        """The container's blobs, listed: for housekeeping's hourly figure, not for a turn."""

        async def total():
            return sum([blob.size or 0 async for blob in self._container.list_blobs()])

        return await self._guard(total)

    async def close(self):
        await self._container.close()
        await self._service.close()
        if self._credential is not None:
            await self._credential.close()
