"""The README stays a doorway, and the documentation holds together: README.md at most 8 KB, the
docs every audience is sent to are there, and every relative link points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_BYTES = 8192
GUIDES = ("user-guide", "playbook", "architecture", "operations", "security", "state", "testing")
# The seven guides and the index of the decision records: the eight files docs/ must have.
REQUIRED_DOCS = (*(f"{name}.md" for name in GUIDES), "decisions/README.md")

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target), the target optionally in <...> and followed by a "title".
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, http:, mailto: and any other scheme


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def link_targets(text: str) -> list[str]:
    """The targets of the Markdown links in `text`, outside code blocks and inline code."""
    prose = INLINE_CODE.sub("", FENCE.sub("", text))
    return [match.group(1).strip("<>") for match in LINK.finditer(prose)]


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """The relative links of one Markdown file that point at nothing (or out of the repository)."""
    broken = []
    for target in link_targets(path.read_text(encoding="utf-8")):
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        file_part = unquote(target.split("#", 1)[0].split("?", 1)[0])
        resolved = (root / file_part.lstrip("/")) if file_part.startswith("/") else (path.parent / file_part)
        resolved = resolved.resolve()
        if not resolved.is_relative_to(root.resolve()) or not resolved.exists():
            broken.append(f"{path.relative_to(root)}: ({target})")
    return broken


def test_the_readme_is_a_doorway_of_at_most_8_kb():
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail into docs/ (at most {README_MAX_BYTES})"


def test_every_audience_has_its_doc():
    missing = [name for name in REQUIRED_DOCS if not (DOCS / name).is_file()]
    assert not missing, f"missing in docs/: {missing}"


def test_the_readme_links_every_doc():
    linked = {(README.parent / t.split("#", 1)[0]).resolve() for t in link_targets(README.read_text(encoding="utf-8"))}
    unlinked = [name for name in REQUIRED_DOCS if (DOCS / name).resolve() not in linked]
    assert not unlinked, f"README.md does not link docs/{unlinked}"


def test_every_relative_link_points_at_a_file_that_exists():
    broken = [line for path in markdown_files() for line in broken_links(path)]
    assert not broken, "links to nothing:\n" + "\n".join(broken)


def test_the_link_check_bites(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("# There\n", encoding="utf-8")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "[ok](there.md) [ok, anchor](there.md#there) [anchor](#here) [web](https://example.com/x.md) "
        "[mail](mailto:a@example.com) `[code](nowhere.md)`\n"
        "```\n[fenced](nowhere.md)\n```\n"
        "[gone](gone.md) [gone, anchor](../missing/file.md#part) [outside](../../elsewhere.md) "
        '![image](<img one.png> "title")\n',
        encoding="utf-8",
    )
    assert broken_links(page, tmp_path) == [
        "docs/page.md: (gone.md)",
        "docs/page.md: (../missing/file.md#part)",
        "docs/page.md: (../../elsewhere.md)",
        "docs/page.md: (img one.png)",
    ]
