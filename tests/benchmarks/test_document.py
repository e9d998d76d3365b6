"""docs/BENCHMARKS.md keeps every section a run did not measure (a fresh clone has no var/bench/sections)."""
from __future__ import annotations

from benchmarks.__main__ import OWN_COMMAND_SECTIONS, SECTIONS
from benchmarks.common import ROOT
from benchmarks.document import compose, marker, previous_sections


def test_a_run_replaces_what_it_measured_and_keeps_the_rest():
    previous = compose(("a", "b", "c"), {"a": "## A\n\nold a", "b": "## B\n\nold b"})
    assert previous_sections(previous) == {"a": "## A\n\nold a", "b": "## B\n\nold b"}
    document = compose(("a", "new", "b", "c"), {"b": "## B\n\nnew b\n", "new": "## N\n\nfirst"}, previous)
    assert previous_sections(document) == {"a": "## A\n\nold a", "new": "## N\n\nfirst", "b": "## B\n\nnew b"}
    assert document.index(marker("a")) < document.index(marker("new")) < document.index(marker("b"))
    assert compose(("a", "new", "b", "c"), {}, document) == document  # nothing measured: the same document again


def test_the_committed_document_names_its_sections_and_survives_a_run_that_measures_nothing():
    document = (ROOT / "docs" / "BENCHMARKS.md").read_text()
    sections = previous_sections(document)
    assert set(sections) <= set(SECTIONS + OWN_COMMAND_SECTIONS)
    assert {"models", "search", "editor", "summary"} <= set(sections)
    again = compose(SECTIONS + OWN_COMMAND_SECTIONS, {}, document)
    assert previous_sections(again) == sections
