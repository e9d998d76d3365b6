"""Names users give things: what is left once invisible characters are gone."""
from __future__ import annotations

import unicodedata

# Control, format (zero-width, BOM, soft hyphen, bidi marks), surrogate, private and unassigned.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}


def clean_name(raw: object) -> str:
    """NFC-normalised, invisible characters removed, runs of white space made one space.

    Returns "" for a name with nothing visible in it; callers decide whether that is an error."""
    if not isinstance(raw, str):
        return ""
    text = unicodedata.normalize("NFC", raw)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in _INVISIBLE:
            if char in "\t\n\r":
                kept.append(" ")
            continue
        kept.append(" " if category in ("Zs", "Zl", "Zp") else char)
    return " ".join("".join(kept).split())
