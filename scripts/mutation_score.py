"""Mutation score per module and overall, from `mutmut results --all true` on stdin.

A mutant counts as killed when a test failed on it or it ran past mutmut's timeout; survivors
and mutants no selected test reaches ("no tests") count against the score. Exits 1 when the
overall score is below --min percent, after listing every mutant that was not killed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable

KILLED = {"killed", "timeout"}


def parse(lines: Iterable[str]) -> dict[str, dict[str, str]]:
    """module -> {mutant name: status}. A name is module.function__mutmut_N (methods: module.xǁClassǁname)."""
    by_module: dict[str, dict[str, str]] = defaultdict(dict)
    for line in lines:
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        by_module[name.rsplit(".", 1)[0]][name] = status
    return by_module


def report(by_module: dict[str, dict[str, str]]) -> tuple[str, float]:
    rows = [f"{'module':<24} {'killed':>7} {'total':>6} {'score':>7}  not killed"]
    killed_all = total_all = 0
    for module in sorted(by_module):
        statuses = by_module[module]
        killed = sum(1 for s in statuses.values() if s in KILLED)
        others = Counter(s for s in statuses.values() if s not in KILLED)
        rest = ", ".join(f"{n} {s}" for s, n in sorted(others.items()))
        rows.append(f"{module:<24} {killed:>7} {len(statuses):>6} {100 * killed / len(statuses):>6.1f}%  {rest}")
        killed_all += killed
        total_all += len(statuses)
    score = 100 * killed_all / total_all if total_all else 0.0
    rows.append(f"{'overall':<24} {killed_all:>7} {total_all:>6} {score:>6.1f}%")
    return "\n".join(rows), score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--min", type=float, default=85.0, help="lowest acceptable overall score, in percent")
    args = parser.parse_args()
    by_module = parse(sys.stdin)
    if not by_module:
        print("No mutant results: did `mutmut run` run?", file=sys.stderr)
        return 1
    table, score = report(by_module)
    not_killed = sorted(f"{name}: {s}" for m in by_module.values() for name, s in m.items() if s not in KILLED)
    if not_killed:
        print("Not killed (`.venv/bin/mutmut show NAME` shows the change):")
        print("\n".join(f"  {line}" for line in not_killed))
    print(table)
    if score < args.min:
        print(f"Mutation score {score:.1f}% is below {args.min:g}%.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
