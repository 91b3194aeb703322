"""Build appPackage.zip for Teams admin center or sideloading.

Usage: MicrosoftAppId=<guid> BOT_DOMAIN=bot.contoso.com DEVELOPER_NAME="Contoso IT" \
       WEBSITE_URL=https://... PRIVACY_URL=https://... TERMS_URL=https://... \
       .venv/bin/python scripts/build_package.py [--out appPackage.zip]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app_package import PackageError, build_manifest, package_values, write_package


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="appPackage.zip", type=Path)
    args = parser.parse_args()
    try:
        values = package_values(os.environ)
    except PackageError as exc:
        print(f"Cannot build the package: {exc}", file=sys.stderr)
        return 2
    path = write_package(build_manifest(values), args.out)
    print(f"Wrote {path}: upload it in Teams admin center (Manage apps > Upload) or sideload it in Teams.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
