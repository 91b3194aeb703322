"""bench/RESULTS.md in parts: the figures of the last `bench/run.py` at the top (rewritten by it),
then sections under `## ` headings that a run keeps: `## Turns to the first command` (rewritten by
`bench/turns_to_first_command.py`) and `## History` (kept by hand)."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HISTORY = "## History"


def _split(text: str) -> tuple[str, list[str]]:
    """(the part before the first `## ` heading, each section from its heading on)."""
    head: list[str] = []
    sections: list[list[str]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        else:
            head.append(line)
    return "".join(head), ["".join(s) for s in sections]


def _join(head: str, sections: list[str]) -> str:
    parts = [head.rstrip("\n") + "\n"] + [s.rstrip("\n") + "\n" for s in sections]
    return "\n".join(parts)


def write_figures(figures: str, path: Path = RESULTS) -> None:
    """The run's figures at the top; every section below them kept as it was."""
    _, sections = _split(path.read_text(encoding="utf-8") if path.exists() else "")
    path.write_text(_join(figures, sections), encoding="utf-8")


def write_section(heading: str, body: str, path: Path = RESULTS) -> None:
    """Replace the section under `heading` (a `## ` line), or add it before `## History`."""
    head, sections = _split(path.read_text(encoding="utf-8") if path.exists() else "")
    new = f"{heading}\n\n{body.strip()}\n"
    titles = [s.splitlines()[0] for s in sections]
    if heading in titles:
        sections[titles.index(heading)] = new
    elif HISTORY in titles:
        sections.insert(titles.index(HISTORY), new)
    else:
        sections.append(new)
    path.write_text(_join(head, sections), encoding="utf-8")
