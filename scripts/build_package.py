"""Build appPackage.zip for Teams admin center or sideloading.

Usage: MicrosoftAppId=<guid> BOT_DOMAIN=bot.contoso.com DEVELOPER_NAME="Contoso IT" \
       WEBSITE_URL=https://... PRIVACY_URL=https://... TERMS_URL=https://... \
       .venv/bin/python scripts/build_package.py [--out appPackage.zip]

Every value is checked against the Teams manifest schema's limits first; the written manifest is
then validated against the schema in @microsoft/app-manifest (installed by scripts/setup.sh), and
a package that fails is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app_package import PackageError, build_manifest, package_values, write_package

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = ROOT / "tests" / "js" / "check_manifest.js"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="appPackage.zip", type=Path)
    args = parser.parse_args()
    try:
        values = package_values(os.environ)
    except PackageError as exc:
        print(f"Cannot build the package: {exc}", file=sys.stderr)
        return 2
    manifest = build_manifest(values)
    errors = schema_errors(manifest)
    if errors is None:
        print("Note: @microsoft/app-manifest is not installed (scripts/setup.sh): the schema check was skipped.", file=sys.stderr)
    elif errors:
        print("Cannot build the package: the Teams schema rejects the manifest:", *errors, sep="\n  ", file=sys.stderr)
        return 2
    path = write_package(manifest, args.out)
    print(f"Wrote {path}: upload it in Teams admin center (Manage apps > Upload) or sideload it in Teams.")
    return 0


def schema_errors(manifest: dict) -> list[str] | None:
    """The Teams schema's complaints about the manifest; None when the validator is not installed."""
    if shutil.which("node") is None or not (ROOT / "node_modules" / "@microsoft" / "app-manifest").exists():
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "manifest.json"
        path.write_text(json.dumps(manifest), encoding="utf-8")
        checked = subprocess.run(["node", str(VALIDATOR), str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    if checked.returncode != 0:
        return [f"the validator failed: {checked.stderr.strip()[-500:]}"]
    return json.loads(checked.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
