"""The spec of the review tests' candidates and versions. Their data (team A: alice owner, bob member,
dave viewer; team B: charlie; a search of team A with a parent/child pair of candidates, and team A's
architecture) is the ``world`` fixture in conftest.py."""
from __future__ import annotations


def small_spec():
    from videomodels.presets import get_preset

    return get_preset("tvn-small").to_dict()
