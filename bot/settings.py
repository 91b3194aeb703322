"""Every setting, read from the environment in one place. Defaults run the bot locally with no
Azure account: auth off, loopback only, state in a local SQLite file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .graph import GraphSettings


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "") or ""
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, not {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "SingleTenant"
    app_tenant_id: str = ""
    host: str = ""
    port: int = 3978
    state_store: str = "sqlite"  # sqlite | blob | memory
    sqlite_path: str = "data/bot-state.sqlite3"
    blob_connection_string: str = field(default="", repr=False)
    blob_container: str = "mailbox-recovery-state"
    retention_days: int = 30
    allowed_tenants: tuple[str, ...] = ()
    allowed_admins: tuple[str, ...] = ()
    allowed_admin_group: str = ""
    turns_per_minute: int = 60
    openid_metadata_url: str = ""
    support_channel_id: str = ""
    support_service_url: str = ""
    support_tenant_id: str = ""
    handoff_enabled: bool = False
    ticket_retry_seconds: float = 60.0
    allow_open_without_auth: bool = False
    playbook_path: str = ""
    graph_client_id: str = ""
    graph_client_secret: str = field(default="", repr=False)
    graph_certificate_path: str = ""
    graph_certificate_thumbprint: str = ""
    graph_tenant_id: str = ""
    graph_authority_host: str = "https://login.microsoftonline.com"
    graph_endpoint: str = "https://graph.microsoft.com"
    graph_ca_bundle: str = ""
    graph_timeout_seconds: float = 6.0
    graph_require_admin_role: bool = False
    log_level: str = "INFO"
    max_body_bytes: int = 256 * 1024
    wait_scale: float = 1.0  # multiplies every replication wait before its reminder (local try-outs, e2e)
    reminder_poll_seconds: float = 30.0
    ticket_sla_hours: float = 4.0

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    @property
    def graph(self) -> GraphSettings | None:
        """GraphSettings when an app registration for Graph is configured, else None."""
        if not self.graph_client_id:
            return None
        return GraphSettings(
            self.graph_tenant_id,
            self.graph_client_id,
            self.graph_client_secret,
            self.graph_certificate_path,
            self.graph_certificate_thumbprint,
            self.graph_authority_host,
            self.graph_endpoint,
            self.graph_ca_bundle,
            self.graph_timeout_seconds,
        )

    @property
    def tenants_allowed(self) -> tuple[str, ...]:
        """ALLOWED_TENANTS, or the registration's own tenant (single tenant or managed identity)."""
        if self.allowed_tenants:
            return self.allowed_tenants
        if self.auth_enabled and self.app_type.lower() in ("singletenant", "userassignedmsi") and self.app_tenant_id:
            return (self.app_tenant_id,)
        return ()

    @property
    def bind_host(self) -> str:
        # Without an app id nobody can authenticate to us: never listen beyond loopback by default.
        return self.host or ("0.0.0.0" if self.auth_enabled else "127.0.0.1")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            app_id=env.get("MicrosoftAppId", ""),
            app_password=env.get("MicrosoftAppPassword", ""),
            app_type=env.get("MicrosoftAppType", "SingleTenant") or "SingleTenant",
            app_tenant_id=env.get("MicrosoftAppTenantId", ""),
            host=env.get("HOST", ""),
            port=int(env.get("PORT", "3978") or 3978),
            state_store=(env.get("STATE_STORE", "sqlite") or "sqlite").lower(),
            sqlite_path=env.get("SQLITE_PATH", "data/bot-state.sqlite3") or "data/bot-state.sqlite3",
            blob_connection_string=env.get("BLOB_CONNECTION_STRING", ""),
            blob_container=env.get("BLOB_CONTAINER", "mailbox-recovery-state") or "mailbox-recovery-state",
            retention_days=int(env.get("RETENTION_DAYS", "30") or 30),
            allowed_tenants=_list(env.get("ALLOWED_TENANTS")),
            allowed_admins=_list(env.get("ALLOWED_ADMINS")),
            allowed_admin_group=env.get("ALLOWED_ADMIN_GROUP", ""),
            turns_per_minute=int(env.get("TURNS_PER_MINUTE", "60") or 0),
            openid_metadata_url=env.get("BOT_OPENID_METADATA_URL", ""),
            support_channel_id=env.get("SUPPORT_CHANNEL_ID", ""),
            support_service_url=env.get("SUPPORT_SERVICE_URL", ""),
            support_tenant_id=env.get("SUPPORT_TENANT_ID", ""),
            handoff_enabled=_bool(env.get("HANDOFF_ENABLED")),
            ticket_retry_seconds=float(env.get("TICKET_RETRY_SECONDS", "60") or 60),
            allow_open_without_auth=_bool(env.get("ALLOW_OPEN_WITHOUT_AUTH")),
            playbook_path=env.get("PLAYBOOK_PATH", ""),
            graph_client_id=env.get("GRAPH_CLIENT_ID", ""),
            graph_client_secret=env.get("GRAPH_CLIENT_SECRET", ""),
            graph_certificate_path=env.get("GRAPH_CERTIFICATE_PATH", ""),
            graph_certificate_thumbprint=env.get("GRAPH_CERTIFICATE_THUMBPRINT", ""),
            graph_tenant_id=env.get("GRAPH_TENANT_ID", "") or env.get("MicrosoftAppTenantId", ""),
            graph_authority_host=env.get("GRAPH_AUTHORITY_HOST", "") or "https://login.microsoftonline.com",
            graph_endpoint=env.get("GRAPH_ENDPOINT", "") or "https://graph.microsoft.com",
            graph_ca_bundle=env.get("GRAPH_CA_BUNDLE", ""),
            graph_timeout_seconds=float(env.get("GRAPH_TIMEOUT_SECONDS", "6") or 6),
            graph_require_admin_role=_bool(env.get("GRAPH_REQUIRE_ADMIN_ROLE")),
            log_level=env.get("LOG_LEVEL", "INFO") or "INFO",
            wait_scale=_positive(env, "WAIT_SCALE", 1.0),
            reminder_poll_seconds=_positive(env, "REMINDER_POLL_SECONDS", 30.0),
            ticket_sla_hours=_positive(env, "TICKET_SLA_HOURS", 4.0),
        )
