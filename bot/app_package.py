"""The Teams app package: manifest.json filled from settings, plus the two icons, zipped.

Every value filled into the template is checked against the Teams manifest schema's limits for
the field it lands in before anything is written (Teams admin center rejects the whole package
for one name too long), and the refusal names the setting to change."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MANIFEST_DIR = Path(__file__).resolve().parents[1] / "manifest"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_VERSION = re.compile(r"^([0-9]|[1-9]+[0-9]*)\.([0-9]|[1-9]+[0-9]*)\.([0-9]|[1-9]+[0-9]*)$")  # the schema's semver
# maxLength of each manifest field the template fills, from the v1.30 schema (tests compare them
# with the schema in @microsoft/app-manifest, and fail on a filled field missing here).
FIELD_MAX_LENGTH = {
    "id": 36,
    "version": 256,
    "developer.name": 32,
    "developer.websiteUrl": 2048,
    "developer.privacyUrl": 2048,
    "developer.termsOfUseUrl": 2048,
    "bots[0].botId": 36,
    "validDomains[0]": 2048,
}
DEFAULTS = {"DEVELOPER_NAME": "", "WEBSITE_URL": "", "PRIVACY_URL": "", "TERMS_URL": "", "APP_VERSION": "1.0.0"}


class PackageError(ValueError):
    pass


def package_values(env: Mapping[str, str]) -> dict[str, str]:
    """The values the manifest needs, checked; raises PackageError naming every problem."""
    values = {**DEFAULTS, **{k: v for k, v in env.items() if k in (*DEFAULTS, "MicrosoftAppId", "BOT_DOMAIN")}}
    problems = []
    if not _GUID.match(values.get("MicrosoftAppId", "")):
        problems.append("MicrosoftAppId must be the bot registration's application (client) id, a GUID")
    domain = values.get("BOT_DOMAIN", "")
    if not _DOMAIN.match(domain):
        problems.append("BOT_DOMAIN must be the host name the bot is served on, such as bot.contoso.com")
    for key in ("WEBSITE_URL", "PRIVACY_URL", "TERMS_URL"):
        if not values[key].startswith("https://"):
            problems.append(f"{key} must be an https:// address")
    if not values["DEVELOPER_NAME"].strip():
        problems.append("DEVELOPER_NAME must name your organisation")
    if not _VERSION.match(values["APP_VERSION"]):
        problems.append("APP_VERSION must look like 1.0.0")
    if not problems:
        problems = too_long(values)
    if problems:
        raise PackageError("; ".join(problems))
    return values


def filled_fields(template: Path = MANIFEST_DIR / "manifest.json") -> dict[str, str]:
    """Manifest field path -> the setting filled into it ("developer.name" -> "DEVELOPER_NAME")."""
    fields: dict[str, str] = {"version": "APP_VERSION"}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")
        elif isinstance(node, str):
            for setting in re.findall(r"\$\{(\w+)\}", node):
                fields[path] = setting

    walk(json.loads(template.read_text(encoding="utf-8")), "")
    return fields


def too_long(values: Mapping[str, str], template: Path = MANIFEST_DIR / "manifest.json") -> list[str]:
    manifest = build_manifest(values, template)
    problems = []
    for path, setting in filled_fields(template).items():
        filled = _at(manifest, path)
        limit = FIELD_MAX_LENGTH[path]
        if len(filled) > limit:
            problems.append(
                f"{setting} is {len(filled)} characters and the Teams manifest allows {limit} for {path}: shorten {setting}"
            )
    return problems


def _at(manifest: dict, path: str) -> str:
    node: Any = manifest
    for part in re.findall(r"[^.\[\]]+", path):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def build_manifest(values: Mapping[str, str], template: Path = MANIFEST_DIR / "manifest.json") -> dict:
    manifest = json.loads(template.read_text(encoding="utf-8"))

    def fill(node):
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        if isinstance(node, str):
            return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], node)
        return node

    manifest = fill(manifest)
    manifest["version"] = values["APP_VERSION"]
    return manifest


def write_package(manifest: dict, out: Path, icons: Path = MANIFEST_DIR) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for name in (manifest["icons"]["color"], manifest["icons"]["outline"]):
            package.write(icons / name, name)
    return out
