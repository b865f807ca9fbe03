"""The exceptions of backbones (audio, text, image): one base class, one subclass per failure."""

from __future__ import annotations

from pathlib import Path


class BackboneError(Exception):
    """Base class: a backbone cannot be found, read, converted or split as asked."""


BackboneLoadError = BackboneError  # the earlier name of the same class


class BackboneNotFoundError(BackboneError, FileNotFoundError):
    """A backbone source (folder, file or bundled package) does not exist."""


class BackboneFormatError(BackboneError, ValueError):
    """A backbone file exists but its content is not what the reader expects.

    The message always starts with the file path, then says what is wrong.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class BackboneSplitError(BackboneError, ValueError):
    """The backbone cannot be split into the shallow / deep layers asked for."""
