"""The Teams app package: manifest valid against the Teams schema offline, icons as Teams wants
them (read from the PNG data itself), the zip's content, and the build command."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.app_package import MANIFEST_DIR, PackageError, build_manifest, package_values, write_package

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    "MicrosoftAppId": "0b3f4c5d-1111-4e2f-9a8b-123456789abc",
    "BOT_DOMAIN": "mailbox-recovery.contoso.com",
    "DEVELOPER_NAME": "Contoso IT",
    "WEBSITE_URL": "https://contoso.com/it",
    "PRIVACY_URL": "https://contoso.com/privacy",
    "TERMS_URL": "https://contoso.com/terms",
}


def decode_png(data: bytes) -> tuple[int, int, list[list[tuple[int, ...]]]]:
    """Width, height and RGBA rows of an 8-bit RGBA, non-interlaced PNG (what Teams icons are)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, color_type, _, _, interlace = header
    assert (depth, color_type, interlace) == (8, 6, 0), "icons must be 8-bit RGBA, not interlaced"
    raw, stride, rows, previous = zlib.decompress(idat), width * 4, [], bytearray(width * 4)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - 4] if i >= 4 else 0
            up = previous[i]
            corner = previous[i - 4] if i >= 4 else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                best = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + best) & 0xFF
        rows.append([tuple(line[x * 4 : x * 4 + 4]) for x in range(width)])
        previous = line
    return width, height, rows


def validate_manifest(manifest: dict, tmp_path: Path) -> list[str]:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    output = subprocess.run(
        ["node", str(ROOT / "tests/js/check_manifest.js"), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(output.stdout)


def test_manifest_is_valid_against_the_teams_schema(tmp_path):
    manifest = build_manifest(package_values(ENV))
    assert validate_manifest(manifest, tmp_path) == []
    assert float(manifest["manifestVersion"]) >= 1.19
    assert manifest["id"] == manifest["bots"][0]["botId"] == ENV["MicrosoftAppId"]
    assert manifest["validDomains"] == [ENV["BOT_DOMAIN"]]
    assert manifest["bots"][0]["scopes"] == ["personal", "team"]
    personal = manifest["bots"][0]["commandLists"][0]["commands"]
    assert {"start", "status", "escalate", "commands original"} <= {c["title"] for c in personal}
    assert "${" not in json.dumps(manifest)


def test_a_broken_manifest_is_caught_by_the_validator(tmp_path):
    manifest = build_manifest(package_values(ENV))
    manifest["bots"][0]["scopes"] = ["personal", "groupchat"]  # the pre-1.17 spelling
    del manifest["developer"]["privacyUrl"]
    errors = validate_manifest(manifest, tmp_path)
    assert any("scopes" in e for e in errors) and any("privacyUrl" in e for e in errors)


def test_color_icon_is_192_full_color():
    width, height, rows = decode_png((MANIFEST_DIR / "color.png").read_bytes())
    assert (width, height) == (192, 192)
    opaque = {p[:3] for row in rows for p in row if p[3] == 255}
    assert len(opaque) >= 3, "a full-color icon"


def test_outline_icon_is_32_white_on_transparent():
    width, height, rows = decode_png((MANIFEST_DIR / "outline.png").read_bytes())
    assert (width, height) == (32, 32)
    pixels = [p for row in rows for p in row]
    assert all(p[3] == 0 or p[:3] == (255, 255, 255) for p in pixels), "only white on transparent"
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)


def test_package_holds_the_manifest_and_both_icons(tmp_path):
    out = write_package(build_manifest(package_values(ENV)), tmp_path / "appPackage.zip")
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert json.loads(package.read("manifest.json"))["id"] == ENV["MicrosoftAppId"]
        assert package.read("outline.png") == (MANIFEST_DIR / "outline.png").read_bytes()


def test_build_command_writes_the_package_or_says_what_is_missing(tmp_path):
    script = ROOT / "scripts" / "build_package.py"
    out = tmp_path / "appPackage.zip"
    built = subprocess.run([sys.executable, str(script), "--out", str(out)], env=ENV, capture_output=True, text=True, timeout=60)
    assert built.returncode == 0 and out.exists(), built.stderr
    refused = subprocess.run(
        [sys.executable, str(script), "--out", str(out)],
        env={**ENV, "MicrosoftAppId": "bot"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "MicrosoftAppId must be" in refused.stderr


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("BOT_DOMAIN", "http://x", "BOT_DOMAIN"),
        ("PRIVACY_URL", "http://contoso.com/privacy", "PRIVACY_URL must be an https"),
        ("APP_VERSION", "one", "APP_VERSION"),
    ],
)
def test_package_values_are_checked(key, value, message):
    with pytest.raises(PackageError) as refused:
        package_values({**ENV, key: value})
    assert message in str(refused.value)


SCHEMA = ROOT / "node_modules/@microsoft/app-manifest/build/json-schemas/teams/v1.30/MicrosoftTeams.schema.json"


def schema_max_length(path: str) -> int:
    """maxLength of a manifest field in the Teams schema ("developer.name", "bots[0].botId")."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    node = schema
    for part in path.replace("[0]", ".[]").split("."):
        node = node["items"] if part == "[]" else node["properties"][part]
        while "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    # A GUID field has only a pattern: 36 characters is what it allows.
    return node.get("maxLength") or (36 if node.get("pattern", "").startswith("^[0-9a-fA-F]{8}") else 0)


def test_every_filled_field_has_the_schemas_limit():
    from bot.app_package import FIELD_MAX_LENGTH, filled_fields

    fields = filled_fields()
    assert set(fields) == set(FIELD_MAX_LENGTH)
    assert {path: schema_max_length(path) for path in fields} == FIELD_MAX_LENGTH


def test_a_developer_name_over_32_characters_is_refused_naming_the_setting(tmp_path):
    long_name = "Contoso Information Technology Department"
    with pytest.raises(PackageError) as refused:
        package_values({**ENV, "DEVELOPER_NAME": long_name})
    assert f"DEVELOPER_NAME is {len(long_name)} characters" in str(refused.value)
    assert "allows 32 for developer.name: shorten DEVELOPER_NAME" in str(refused.value)
    # What the check guards: the schema itself rejects that manifest.
    manifest = build_manifest({**package_values(ENV), "DEVELOPER_NAME": long_name})
    assert any("developer/name" in e or "developer.name" in e for e in validate_manifest(manifest, tmp_path))


def test_a_version_with_a_leading_zero_is_refused_as_the_schema_does():
    with pytest.raises(PackageError, match="APP_VERSION"):
        package_values({**ENV, "APP_VERSION": "01.0.0"})


def test_build_command_refuses_a_long_name_and_validates_what_it_writes(tmp_path):
    script = ROOT / "scripts" / "build_package.py"
    out = tmp_path / "appPackage.zip"
    env = {**ENV, "PATH": os.environ["PATH"], "DEVELOPER_NAME": "Contoso Information Technology Department"}
    refused = subprocess.run(
        [sys.executable, str(script), "--out", str(out)], env=env, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2 and "shorten DEVELOPER_NAME" in refused.stderr and not out.exists()
    built = subprocess.run(
        [sys.executable, str(script), "--out", str(out)],
        env={**env, "DEVELOPER_NAME": "Contoso IT"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0 and out.exists(), built.stderr
    assert "schema check was skipped" not in built.stderr  # the written manifest went through the validator
    with zipfile.ZipFile(out) as package:
        assert validate_manifest(json.loads(package.read("manifest.json")), tmp_path) == []
