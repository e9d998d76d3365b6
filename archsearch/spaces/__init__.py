"""Search spaces, one module per family."""
from __future__ import annotations

from archsearch.spaces.base import Mutation, SearchSpace, SpaceConfig


def make_space(family: str, config: SpaceConfig) -> SearchSpace:
    if family == "tvn":
        from archsearch.spaces.tvn import TVNSpace

        return TVNSpace(config)
    if family == "evanet":
        from archsearch.spaces.evanet import EvaNetSpace

        return EvaNetSpace(config)
    if family == "assemblenet":
        from archsearch.spaces.assemblenet import AssembleNetSpace

        return AssembleNetSpace(config)
    raise ValueError(f"unknown family {family!r}; expected evanet, assemblenet or tvn")


__all__ = ["Mutation", "SearchSpace", "SpaceConfig", "make_space"]
