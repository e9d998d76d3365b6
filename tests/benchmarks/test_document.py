"""docs/BENCHMARKS.md keeps every section a run did not measure (a fresh clone has no var/bench/sections)."""
from __future__ import annotations

from benchmarks.common import ROOT
from benchmarks.document import OWN_COMMAND_SECTIONS, SECTIONS, compose, marker, previous_sections, write


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


def test_a_section_written_by_its_own_command_joins_the_document_and_the_rest_stays(tmp_path):
    document = tmp_path / "docs" / "BENCHMARKS.md"
    store = tmp_path / "sections"
    store.mkdir()
    (store / "search.md").write_text("## Search\n\nfirst")
    write(store, document)
    (store / "search.md").unlink()  # another machine: only the confirmation measured here
    (store / "confirm.md").write_text("## Confirm\n\nfive seeds")
    assert previous_sections(write(store, document).read_text()) == {"search": "## Search\n\nfirst", "confirm": "## Confirm\n\nfive seeds"}
