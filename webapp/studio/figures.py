"""Numbers as every page shows them, server side: the same rules as static/common/format.js
(tests/webapp/test_figures.py runs both over the same values and compares).

    count(568_123) -> "568 k", count(1_234_567) -> "1.23 M", count(36_912_345) -> "36.9 M" (params, MACs)
    accuracy(0.81234) -> "81.2 %"
    ms(0.123) -> "0.12 ms", ms(12.34) -> "12.3 ms", ms(123.4) -> "123 ms"
    generation(0) -> 1: the engine counts generations from 0, people from 1 (the first population)

A value nobody measured is MISSING ("–"); callers that would rather omit a field test for None.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

MISSING = "–"


def _missing(value) -> bool:
    if value is None or value == "" or isinstance(value, bool):
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def _fixed(number: float, digits: int) -> str:
    # JavaScript's toFixed rounds a tie away from zero on the float's exact value; so does this.
    return str(Decimal(number).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def fixed(value, digits: int) -> str:
    return MISSING if _missing(value) else _fixed(float(value), digits)


def count(value) -> str:
    """Three significant figures with a unit prefix (k, M, G); numbers under 1000 as whole numbers."""
    if _missing(value):
        return MISSING
    number = float(value)
    magnitude = abs(number)
    # The thresholds sit where rounding to three figures carries over (999,950 is "1.00 M", not "1000 k").
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= scale * 0.9995:
            scaled = magnitude / scale
            digits = 0 if scaled >= 99.95 else 1 if scaled >= 9.995 else 2
            return f"{_fixed(number / scale, digits)} {unit}"
    return _fixed(number, 0)


def exact(value) -> str:
    """The exact count with its thousands grouped (a tooltip beside count())."""
    if _missing(value):
        return MISSING
    number = float(value)
    return f"{int(number):,}" if number == int(number) else f"{number:,}"


def ms(value) -> str:
    """Enough decimals to tell two latencies apart, never more than the measurement carries."""
    if _missing(value):
        return MISSING
    number = float(value)
    magnitude = abs(number)
    return f"{_fixed(number, 2 if magnitude < 1 else 1 if magnitude < 100 else 0)} ms"


def percent(fraction, digits: int = 1) -> str:
    return MISSING if _missing(fraction) else f"{_fixed(100 * float(fraction), digits)} %"


def accuracy(fraction) -> str:
    """An accuracy (a fraction of clips right) as a percentage with one decimal."""
    return percent(fraction, 1)


def generation(index) -> int | str:
    """The generation as people count it: the engine's index 0 (the first population) is generation 1."""
    return MISSING if _missing(index) else int(index) + 1
