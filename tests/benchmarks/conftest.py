"""Fixtures of the benchmark's tests (the made-up table rows live in nasbench_rows.py, importable
by test modules whatever order pytest collects the folders in)."""
from __future__ import annotations

from pathlib import Path

import pytest

from nasbench_rows import write_fixture_table


@pytest.fixture
def fixture_table_path(tmp_path: Path) -> Path:
    return write_fixture_table(tmp_path / "table.jsonl")
