"""Validation and PowerShell quoting of the values an admin types.

Everything an admin gives the bot ends up inside a PowerShell command they will paste into a
session with admin rights, so each value is checked against the syntax of what it stands for and
then quoted so that nothing in it can end the string or start another command.
"""

from __future__ import annotations

import re
import unicodedata

# PowerShell treats all of these as single quotes (about_Quoting_Rules; the tokenizer's CharTraits):
# inside a single-quoted string each must be doubled, not only the ASCII one.
SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
_QUOTE_RE = re.compile(f"[{SINGLE_QUOTES}]")

UPN_MAX = 113  # Entra ID: 64 before the @, 48 after, 113 in all
UPN_LOCAL_MAX = 64
UPN_DOMAIN_MAX = 48
_UPN_LOCAL_CHARS = re.compile(r"[A-Za-z0-9'._\-!#^~]")
_EMAIL_LOCAL_CHARS = re.compile(r"[A-Za-z0-9'._\-!#^~+&=$%*/?`{|}]")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_ALIAS = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_ACCOUNT_SKU = re.compile(r"^[A-Za-z0-9-]{1,64}:[A-Za-z0-9_]{1,64}$")
TEXT_MAX = 256
DN_MAX = 1024


class InvalidValue(ValueError):
    """A value the admin typed that cannot be used; the message says why, in plain words."""


def ps_quote(value: str) -> str:
    """Return value as one inert PowerShell single-quoted string literal."""
    return "'" + _QUOTE_RE.sub(lambda m: m.group(0) * 2, value) + "'"


def _describe_char(ch: str) -> str:
    name = unicodedata.name(ch, "a control character")
    printable = ch if ch.isprintable() and not ch.isspace() else ""
    shown = f"{printable} " if printable else ""
    return f"{shown}(U+{ord(ch):04X}, {name.lower()})"


def _check_plain(value: str, what: str, limit: int) -> str:
    if value is None or not value.strip():
        raise InvalidValue(f"The {what} is empty.")
    value = value.strip()
    if len(value) > limit:
        raise InvalidValue(f"The {what} is {len(value):,} characters long; it can have at most {limit}.")
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise InvalidValue(f"The {what} contains {_describe_char(ch)}, which is not allowed.")
    return value


def _check_domain(domain: str, what: str) -> None:
    if not domain:
        raise InvalidValue(f"The {what} has nothing after the @.")
    if len(domain) > UPN_DOMAIN_MAX:
        raise InvalidValue(f"The domain of the {what} is {len(domain)} characters long; at most {UPN_DOMAIN_MAX} are allowed.")
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidValue(f"The domain of the {what} ({domain}) needs a dot, as in contoso.com.")
    for label in labels:
        if not _DOMAIN_LABEL.match(label):
            bad = next((c for c in label if not (c.isascii() and (c.isalnum() or c == "-"))), None)
            if bad is not None:
                raise InvalidValue(
                    f"The domain of the {what} contains {_describe_char(bad)}; use letters, digits, hyphens and dots."
                )
            raise InvalidValue(f"The domain of the {what} has an empty part or a part that starts or ends with a hyphen.")
    if not labels[-1].isalpha():
        raise InvalidValue(f"The domain of the {what} must end in a name such as .com, not '{labels[-1]}'.")


def _check_address(value: str, what: str, local_chars: re.Pattern[str]) -> str:
    value = _check_plain(value, what, 10_000)
    if len(value) > UPN_MAX:
        raise InvalidValue(f"The {what} is {len(value):,} characters long; at most {UPN_MAX} are allowed.")
    if value.count("@") != 1:
        raise InvalidValue(f"The {what} must contain exactly one @, as in user@contoso.com.")
    local, domain = value.split("@")
    if not local:
        raise InvalidValue(f"The {what} has nothing before the @.")
    if len(local) > UPN_LOCAL_MAX:
        raise InvalidValue(
            f"The part of the {what} before the @ is {len(local)} characters long; at most {UPN_LOCAL_MAX} are allowed."
        )
    for ch in local:
        if not local_chars.match(ch):
            raise InvalidValue(f"The {what} contains {_describe_char(ch)}, which a {what} cannot contain.")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidValue(f"The part of the {what} before the @ cannot start or end with a dot or have two dots in a row.")
    _check_domain(domain, what)
    return value


def check_upn(value: str, what: str = "UPN") -> str:
    """A user principal name as Entra ID accepts it; returns it trimmed."""
    return _check_address(value, what, _UPN_LOCAL_CHARS)


def _check_email(value: str, what: str) -> str:
    return _check_address(value, what, _EMAIL_LOCAL_CHARS)


def _check_guid(value: str, what: str) -> str:
    value = _check_plain(value, what, 100).strip("{}")
    if not _GUID.match(value):
        raise InvalidValue(f"The {what} must be a GUID such as 1b3f4c5d-0000-4e2f-9a8b-123456789abc.")
    return value.lower()


def _check_text(value: str, what: str) -> str:
    return _check_plain(value, what, TEXT_MAX)


def _check_pattern(pattern: re.Pattern[str], example: str, transform=lambda v: v):
    def check(value: str, what: str) -> str:
        value = transform(_check_plain(value, what, 1_000))
        if not pattern.match(value):
            raise InvalidValue(f"The {what} is not valid; it looks like {example}.")
        return value

    return check


def _check_dn(value: str, what: str) -> str:
    value = _check_plain(value, what, DN_MAX)
    if "=" not in value:
        raise InvalidValue(f"The {what} must be a distinguished name such as OU=Users,DC=contoso,DC=com.")
    return value


SAM_MAX = 20  # sAMAccountName: at most 20 characters
SAM_FORBIDDEN = set('"/\\[]:;|=,+*?<>@')


def _check_sam(value: str, what: str) -> str:
    """An on-premises logon name (sAMAccountName) as Active Directory accepts it."""
    value = _check_plain(value, what, 1_000)
    if len(value) > SAM_MAX:
        raise InvalidValue(f"The {what} is {len(value)} characters long; a sAMAccountName can have at most {SAM_MAX}.")
    bad = next((ch for ch in value if ch in SAM_FORBIDDEN), None)
    if bad is not None:
        raise InvalidValue(f"The {what} contains {_describe_char(bad)}, which a sAMAccountName cannot contain.")
    if value.endswith("."):
        raise InvalidValue(f"The {what} cannot end with a dot.")
    return value


PROXY_ADDRESSES_MAX = 8000
_PROXY_ADDRESS = re.compile(r"^[A-Za-z0-9]{1,9}:[^;\s][^;]*$")
_HEX = re.compile(r"^[0-9A-Fa-f]{16,512}$")


def _check_proxy_addresses(value: str, what: str) -> str:
    """EmailAddresses as `(Get-Mailbox).EmailAddresses -join ';'` prints them: SMTP:a@b;smtp:c@d;X500:/o=..."""
    value = _check_plain(value, what, PROXY_ADDRESSES_MAX)
    addresses = [a.strip() for a in value.split(";") if a.strip()]
    for address in addresses:
        if not _PROXY_ADDRESS.match(address):
            raise InvalidValue(
                f"The {what} must be addresses separated by ';', each with its prefix, "
                f"such as SMTP:jane@contoso.com; '{address[:60]}' is not."
            )
    if not any(a.startswith("SMTP:") for a in addresses):
        raise InvalidValue(f"The {what} must include the primary address, written SMTP: in capitals.")
    return ";".join(addresses)


VALIDATORS = {
    "upn": check_upn,
    "email": _check_email,
    "guid": _check_guid,
    "text": _check_text,
    "alias": _check_pattern(_ALIAS, "jsmith (letters, digits and . - _, at most 64)"),
    "label": _check_pattern(_LABEL, "contoso (lower-case letters, digits and hyphens)", str.lower),
    "country": _check_pattern(_COUNTRY, "US (two letters)", str.upper),
    "account_sku": _check_pattern(_ACCOUNT_SKU, "contoso:ENTERPRISEPACK"),
    "dn": _check_dn,
    "sam": _check_sam,
    "proxy_addresses": _check_proxy_addresses,
    "hex": _check_pattern(_HEX, "an EntryID such as 00000000A1B2... (hexadecimal)"),
}


def validate(kind: str, value: str, what: str) -> str:
    """Check value as a `kind`; return the normalised value or raise InvalidValue."""
    if not isinstance(value, str):
        raise InvalidValue(f"The {what} must be text.")
    return VALIDATORS[kind](value, what)
