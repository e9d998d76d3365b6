import json
from pathlib import Path

import pytest

TINY_TVN_PATH = Path(__file__).with_name("tiny_tvn.json")


@pytest.fixture
def tiny_tvn() -> dict:
    """A small valid TVN-family spec (2 blocks, 4x32x32 input), fresh for each test."""
    return json.loads(TINY_TVN_PATH.read_text())
