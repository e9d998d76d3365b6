"""argparse value types shared by the command lines: a bad number names itself and the range."""
from __future__ import annotations

import argparse
from typing import Callable


def bounded(cast: Callable[[str], float], description: str, *, low: float | None = None, high: float | None = None,
            low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {description}, got {text!r}") from None
        below = low is not None and (value <= low if low_open else value < low)
        above = high is not None and (value >= high if high_open else value > high)
        if below or above or value != value:
            raise argparse.ArgumentTypeError(f"expected {description}, got {value}")
        return value

    parse.__name__ = description  # argparse shows it in "invalid ... value" messages
    return parse


positive_int = bounded(int, "a positive integer", low=1)
non_negative_int = bounded(int, "an integer >= 0", low=0)
positive_float = bounded(float, "a positive number", low=0, low_open=True)
fraction = bounded(float, "a number in [0, 1)", low=0, high=1, high_open=True)
