"""Command line of the benchmark: build the table, query it, compare search strategies on it."""
from __future__ import annotations

import sys

COMMANDS = ("build", "query", "compare")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m benchmarks.nasbench {{{','.join(COMMANDS)}}} ...", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "build":
        from benchmarks.nasbench.build import main as run
    elif command == "query":
        from benchmarks.nasbench.query import main as run
    else:
        from benchmarks.nasbench.compare import main as run
    return run(rest)
