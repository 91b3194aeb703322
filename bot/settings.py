"""Every setting, read from the environment in one place. Defaults run the bot locally with no
Azure account: auth off, loopback only, state in a local SQLite file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.integrations.graph import GraphSettings
from bot.service_urls import ServiceUrlPolicy, local_origin


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


APP_TYPES = {name.lower(): name for name in ("SingleTenant", "MultiTenant", "UserAssignedMSI")}

# Hosts the Bot Connector speaks from (public cloud, GCC, GCC High, DoD, Azure Government):
# every outbound call and every stored address must be on one of these. "*." matches subdomains.
DEFAULT_SERVICE_URL_HOSTS = (
    "smba.trafficmanager.net",
    "*.botframework.com",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
    "*.botframework.azure.us",
)
# With sign-in off, the one loopback connector the bot answers: the Agents Playground's, as
# scripts/run.sh starts it (its default port, 56150).
DEFAULT_LOCAL_SERVICE_URL = "http://localhost:56150/_connector"


def _app_type(value: str | None) -> str:
    """The canonical spelling of a known app type (case and spaces ignored); anything else as given."""
    given = (value or "").strip() or "SingleTenant"
    return APP_TYPES.get(given.lower(), given)


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
    blob_account_url: str = ""  # with a managed identity (azure-identity), no key
    blob_ca_bundle: str = ""  # a private CA (TLS-inspecting proxies, tests); empty = the system's
    azure_client_id: str = ""  # a user-assigned managed identity's client id; empty = system-assigned
    retention_days: int = 30
    allowed_tenants: tuple[str, ...] = ()
    allowed_admins: tuple[str, ...] = ()
    allowed_admin_group: str = ""
    support_admins: tuple[str, ...] = ()  # Entra object ids who may connect a support channel from Teams
    support_admin_group: str = ""  # or the members of this Entra group (checked through Graph)
    support_agents: tuple[str, ...] = ()  # Entra object ids who may act on tickets (support admins may too)
    support_agent_group: str = ""  # or the members of this Entra group (checked through Graph)
    turns_per_minute: int = 60
    openid_metadata_url: str = ""
    support_channel_id: str = ""
    support_service_url: str = ""
    support_tenant_id: str = ""
    handoff_enabled: bool = False
    # The transcript as a file (Teams' file consent, personal chats). None: with sign-in on (in
    # Teams); off without it (the Agents Playground cannot show a file consent card).
    transcript_files: bool | None = None
    diagnostics: bool = True  # after the UPN, the read-only diagnostics before the questions (DIAGNOSTICS=false: questions only)
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
    graph_use_managed_identity: bool = False
    applicationinsights_connection_string: str = field(default="", repr=False)
    otlp_endpoint: str = ""
    log_level: str = "INFO"
    max_body_bytes: int = 256 * 1024
    body_read_seconds: float = 10.0
    service_url_hosts: tuple[str, ...] = DEFAULT_SERVICE_URL_HOSTS
    local_service_url: str = DEFAULT_LOCAL_SERVICE_URL  # sign-in off: the only loopback serviceUrl answered
    wait_scale: float = 1.0  # multiplies every replication wait before its reminder (local try-outs, e2e)
    reminder_poll_seconds: float = 30.0
    ticket_sla_hours: float = 4.0
    # The storage budget (bot.storage.budget, bot.walkthrough.case_store, bot.support.transcript):
    daily_turns_per_user: int = 1500
    daily_bytes_per_user: int = 2 * 1024 * 1024
    max_transcript_turns: int = 1000
    max_closed_cases: int = 200

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    @property
    def graph(self) -> GraphSettings | None:
        """GraphSettings when an app registration for Graph is configured, else None."""
        if not self.graph_client_id and not self.graph_use_managed_identity:
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
            self.graph_use_managed_identity,
            self.azure_client_id,
        )

    def mixed_credentials(self) -> list[str]:
        """A secret and a managed identity configured for the same service: which one was meant
        cannot be guessed, and a leftover secret is what going secretless should remove."""
        mixed = []
        if self.blob_connection_string and self.blob_account_url:
            mixed.append("BLOB_CONNECTION_STRING (an account key) and BLOB_ACCOUNT_URL (managed identity) are both set: keep one")
        if self.graph_use_managed_identity:
            for name, value in (
                ("GRAPH_CLIENT_SECRET", self.graph_client_secret),
                ("GRAPH_CERTIFICATE_PATH", self.graph_certificate_path),
            ):
                if value:
                    mixed.append(f"GRAPH_USE_MANAGED_IDENTITY=true and {name} are both set: keep one")
        if self.app_type.lower() == "userassignedmsi" and self.app_password:
            mixed.append("MicrosoftAppType=UserAssignedMSI and MicrosoftAppPassword are both set: keep one")
        return mixed

    @property
    def tenants_allowed(self) -> tuple[str, ...]:
        """ALLOWED_TENANTS, or the registration's own tenant (single tenant or managed identity)."""
        if self.allowed_tenants:
            return self.allowed_tenants
        if self.auth_enabled and self.app_type in ("SingleTenant", "UserAssignedMSI") and self.app_tenant_id:
            return (self.app_tenant_id,)
        return ()

    @property
    def offers_files(self) -> bool:
        """TRANSCRIPT_FILES, or by default whether sign-in is on (the bot is in Teams)."""
        return self.auth_enabled if self.transcript_files is None else self.transcript_files

    @property
    def service_url_policy(self) -> ServiceUrlPolicy:
        return ServiceUrlPolicy(
            self.service_url_hosts, allow_loopback=not self.auth_enabled, local_service_url=self.local_service_url
        )

    def problems(self) -> list[str]:
        """Why these settings must not run, each naming the setting to change; empty when fine."""
        found = []
        if self.app_type not in APP_TYPES.values():
            found.append(f"MicrosoftAppType must be one of {', '.join(APP_TYPES.values())}, not {self.app_type!r}")
        elif self.auth_enabled and not self.tenants_allowed:
            # An empty allow-list would serve every tenant: with a registration, say which ones.
            found.append(
                f"MicrosoftAppType={self.app_type} does not say which tenants the bot serves: "
                "set ALLOWED_TENANTS (comma-separated tenant ids) or MicrosoftAppTenantId"
            )
        if self.support_service_url and not self.service_url_policy.allows(self.support_service_url):
            found.append("SUPPORT_SERVICE_URL must be https on a host in SERVICE_URL_HOSTS (Teams / Bot Framework)")
        if bool(self.support_channel_id) != bool(self.support_service_url):
            # Half a configured channel would leave the chat command able to move the tickets.
            found.append("SUPPORT_CHANNEL_ID and SUPPORT_SERVICE_URL go together: set both, or neither")
        if not self.auth_enabled and local_origin(self.local_service_url) is None:
            found.append(
                "LOCAL_SERVICE_URL must be a loopback URL with nothing after its path, such as "
                f"{DEFAULT_LOCAL_SERVICE_URL} (the Agents Playground's serviceUrl)"
            )
        if self.body_read_seconds <= 0:
            found.append("BODY_READ_SECONDS must be a positive number of seconds")
        return found

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
            app_type=_app_type(env.get("MicrosoftAppType")),
            app_tenant_id=env.get("MicrosoftAppTenantId", ""),
            host=env.get("HOST", ""),
            port=int(env.get("PORT", "3978") or 3978),
            state_store=(env.get("STATE_STORE", "sqlite") or "sqlite").lower(),
            sqlite_path=env.get("SQLITE_PATH", "data/bot-state.sqlite3") or "data/bot-state.sqlite3",
            blob_connection_string=env.get("BLOB_CONNECTION_STRING", ""),
            blob_container=env.get("BLOB_CONTAINER", "mailbox-recovery-state") or "mailbox-recovery-state",
            blob_account_url=env.get("BLOB_ACCOUNT_URL", ""),
            blob_ca_bundle=env.get("BLOB_CA_BUNDLE", ""),
            azure_client_id=env.get("AZURE_CLIENT_ID", ""),
            retention_days=int(env.get("RETENTION_DAYS", "30") or 30),
            allowed_tenants=_list(env.get("ALLOWED_TENANTS")),
            allowed_admins=_list(env.get("ALLOWED_ADMINS")),
            allowed_admin_group=env.get("ALLOWED_ADMIN_GROUP", ""),
            support_admins=_list(env.get("SUPPORT_ADMINS")),
            support_admin_group=env.get("SUPPORT_ADMIN_GROUP", "").strip(),
            support_agents=_list(env.get("SUPPORT_AGENTS")),
            support_agent_group=env.get("SUPPORT_AGENT_GROUP", "").strip(),
            turns_per_minute=int(env.get("TURNS_PER_MINUTE", "60") or 0),
            openid_metadata_url=env.get("BOT_OPENID_METADATA_URL", ""),
            support_channel_id=env.get("SUPPORT_CHANNEL_ID", ""),
            support_service_url=env.get("SUPPORT_SERVICE_URL", ""),
            support_tenant_id=env.get("SUPPORT_TENANT_ID", ""),
            handoff_enabled=_bool(env.get("HANDOFF_ENABLED")),
            transcript_files=_bool(env.get("TRANSCRIPT_FILES")) if (env.get("TRANSCRIPT_FILES") or "").strip() else None,
            diagnostics=_bool(env.get("DIAGNOSTICS"), default=True),
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
            graph_use_managed_identity=_bool(env.get("GRAPH_USE_MANAGED_IDENTITY")),
            applicationinsights_connection_string=env.get("APPLICATIONINSIGHTS_CONNECTION_STRING", ""),
            otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
            log_level=env.get("LOG_LEVEL", "INFO") or "INFO",
            body_read_seconds=float(env.get("BODY_READ_SECONDS", "10") or 10),
            service_url_hosts=_list(env.get("SERVICE_URL_HOSTS")) or DEFAULT_SERVICE_URL_HOSTS,
            local_service_url=(env.get("LOCAL_SERVICE_URL", "") or DEFAULT_LOCAL_SERVICE_URL).strip(),
            wait_scale=_positive(env, "WAIT_SCALE", 1.0),
            reminder_poll_seconds=_positive(env, "REMINDER_POLL_SECONDS", 30.0),
            ticket_sla_hours=_positive(env, "TICKET_SLA_HOURS", 4.0),
            daily_turns_per_user=int(_positive(env, "DAILY_TURNS_PER_USER", 1500)),
            daily_bytes_per_user=int(_positive(env, "DAILY_BYTES_PER_USER", 2 * 1024 * 1024)),
            max_transcript_turns=int(_positive(env, "MAX_TRANSCRIPT_TURNS", 1000)),
            max_closed_cases=int(_positive(env, "MAX_CLOSED_CASES", 200)),
        )
