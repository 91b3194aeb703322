"""A clone of this repository is all it needs: nothing in it reads or names a path outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A path that leaves the repository: the parent folder, or an absolute path into a machine's own
# folders. URLs and the container paths a deployment documents are not paths of this machine.
SIBLING = "sha" + "red"  # the folder beside our checkouts, spelled apart so this file names no path to it
OUTSIDE = re.compile(rf"\.\./{SIBLING}|parent / .{SIBLING}.|(?<![\w:/.])/(?:work|home|root|tmp|Users)/[\w.-]")
ALLOWED_ABSOLUTE = ("/tmp/bot-state", "/home/site/")  # documented defaults of a deployment target


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):  # an export without git: every file on disk
        return [p for p in ROOT.rglob("*") if p.is_file() and not {".git", ".venv", "node_modules", ".cache"} & set(p.parts)]
    return [ROOT / name for name in out.decode().split("\0") if name]


@pytest.mark.unit
def test_nothing_in_the_repository_names_a_path_outside_it():
    offenders = []
    for path in tracked_files():
        if path == Path(__file__).resolve():  # this file spells the patterns out
            continue
        if (path.suffix in (".png", ".json") and path.stat().st_size > 200_000) or path.name == "package-lock.json":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for match in OUTSIDE.finditer(line):
                if not any(line[match.start():].startswith(ok) for ok in ALLOWED_ABSOLUTE):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.unit
def test_the_check_catches_a_path_outside():
    assert OUTSIDE.search(f'REFERENCE = ROOT.parent / "{SIBLING}" / "x.json"')
    assert OUTSIDE.search(f"cat ../{SIBLING}/reference/cmdlets.json")
    assert OUTSIDE.search("open('/work/main/x')")
    assert not OUTSIDE.search("https://learn.microsoft.com/work/x")
