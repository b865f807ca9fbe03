"""Exceptions raised while locating, reading or converting pretrained backbones."""

from __future__ import annotations

from pathlib import Path


class BackboneLoadError(Exception):
    """Base class: a pretrained backbone could not be provided."""


class BackboneNotFoundError(BackboneLoadError, FileNotFoundError):
    """A backbone source (folder, file or bundled package) does not exist."""


class BackboneFormatError(BackboneLoadError, ValueError):
    """A backbone file exists but its content is not what the reader expects.

    The message always starts with the file path, then says what is wrong.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
