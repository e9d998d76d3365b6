"""docs/BENCHMARKS.md from its sections: each one measured now (``var/bench/sections``) or, where this
machine has not measured it (a fresh clone, ``--only``), kept as the document last had it.

Every section is written between ``<!-- section: NAME -->`` markers so that a later run can find it
again; a section no run has measured yet is left out."""
from __future__ import annotations

import re
from pathlib import Path

# In order: claim-evolved reuses the baselines' and the search's results when they exist; summary reads them all.
SECTIONS = ("models", "data", "baselines", "search", "nasbench", "claim-evolved", "claim-ensemble", "claim-assemblenet", "studio",
            "editor", "review", "leaderboard", "gpu", "summary")
# Written by their own, longer commands (python -m benchmarks.confirm); included when present.
OWN_COMMAND_SECTIONS = ("confirm",)

HEADER = ["# Benchmarks", "", "Written by `make bench` (`python -m benchmarks`). Each section notes when and where it was measured; "
          "figures are medians, and each stands beside a baseline measured in the same run.", ""]
_MARKER = re.compile(r"^<!-- section: ([\w-]+) -->$", re.MULTILINE)


def marker(name: str) -> str:
    return f"<!-- section: {name} -->"


def previous_sections(document: str) -> dict[str, str]:
    """The sections of an earlier document, by name (each up to the next marker)."""
    found = list(_MARKER.finditer(document))
    return {match[1]: document[match.end():(found[i + 1].start() if i + 1 < len(found) else len(document))].strip("\n")
            for i, match in enumerate(found)}


def compose(names: tuple[str, ...], measured: dict[str, str], previous: str = "") -> str:
    """The document: in ``names`` order, each section as measured now, else as ``previous`` had it."""
    kept = previous_sections(previous)
    parts = list(HEADER)
    for name in names:
        text = measured.get(name, kept.get(name))
        if text is not None:
            parts += [marker(name), text.strip("\n"), ""]
    return "\n".join(parts)


def write(store: Path, document: Path) -> Path:
    """``document`` again with every section measured on this machine (``store``) and the rest as it was."""
    names = SECTIONS + OWN_COMMAND_SECTIONS
    measured = {name: (store / f"{name}.md").read_text() for name in names if (store / f"{name}.md").exists()}
    previous = document.read_text() if document.exists() else ""
    document.parent.mkdir(exist_ok=True)
    document.write_text(compose(names, measured, previous))
    return document
