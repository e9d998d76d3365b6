"""Exceptions for the data pipeline.

Every error a user can cause (a bad path, a broken video, a malformed CSV) is a
`DataError`, so the CLI can print its message and exit 2 instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """A problem with the user's data or arguments; the message is meant for humans."""


class VideoDecodeError(DataError):
    """A video file could not be decoded (empty, truncated, corrupt or not a video)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class LayoutError(DataError):
    """A dataset folder or manifest does not follow a supported layout."""


class CacheError(DataError):
    """A clip cache is missing, incomplete or was made with other parameters."""
