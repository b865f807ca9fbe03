"""How a RUN's model saw its inputs: the feature settings it was trained on, and the check
that this machine's frozen encoders compute the same features.

A model is only right on features made the way its training features were: the same text and
image encoders (same weights, same tokenizer), the same frame sampling and face cropping, the
same maximum clip length. `wavfusion train` records them in RUN/run.json (`features`: the
`CacheSettings` of its feature cache). Runs written before that record existed are read from
their feature cache's cache.json when it is still there; failing both, the defaults are
assumed (`train` could not use other encoders then), and `source` says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from wavfusion.data.errors import DataError
from wavfusion.features.cache import read_cache_file
from wavfusion.features.identity import EncoderIdentity, recorded_identities
from wavfusion.features.settings import CacheSettings, ExtractionOptions

RUN_RECORD = "run.json"
DEFAULT_CACHE_FOLDER = "cache"  # train's default: RUN/cache


class RunMismatchError(DataError):
    """A RUN whose model cannot be fed features the way it was trained on this machine."""


@dataclass(frozen=True)
class RunFeatures:
    """The feature settings of a RUN (None when nowhere recorded) and where they came from."""

    settings: CacheSettings | None
    source: str  # e.g. "RUN/run.json", or "not recorded: default encoders assumed"

    @property
    def options(self) -> ExtractionOptions:
        """The extraction options that reproduce `settings` (the defaults when unknown)."""
        return ExtractionOptions() if self.settings is None else self.settings.extraction_options()

    def text_identity(self) -> EncoderIdentity:
        """The recorded text encoder (stands in for one that is not loaded)."""
        return recorded_identities(self._recorded())[0]

    def image_identity(self) -> EncoderIdentity:
        """The recorded image encoder (stands in for one that is not loaded)."""
        return recorded_identities(self._recorded())[1]

    def _recorded(self) -> CacheSettings:
        if self.settings is None:
            raise ValueError(f"no feature settings recorded ({self.source})")
        return self.settings


def read_run_features(folder: str | Path) -> RunFeatures:
    """The feature settings of the RUN in `folder`: run.json's `features`, else the cache.json
    of the run's feature cache, else unknown. RunMismatchError when run.json is unreadable."""
    folder = Path(folder)
    record_path = folder / RUN_RECORD
    record: dict = {}
    if record_path.is_file():
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            if "features" in record:
                return RunFeatures(CacheSettings.from_dict(record["features"]), str(record_path))
        except (OSError, ValueError, TypeError) as error:
            raise RunMismatchError(record_path, f"unreadable run record ({error})") from error
    cache = Path(record.get("cache") or folder / DEFAULT_CACHE_FOLDER)
    try:
        settings, _ = read_cache_file(cache)
        return RunFeatures(settings, f"{cache}/cache.json")
    except (FileNotFoundError, ValueError):
        return RunFeatures(None, f"not recorded in {folder}: default encoders assumed")


def check_same_features(folder: str | Path, recorded: CacheSettings,
                        here: CacheSettings) -> None:
    """RunMismatchError naming each setting in which the features computed here (`here`)
    would differ from those the RUN's model was trained on (`recorded`)."""
    differences = here.differences(recorded)
    if differences:
        lines = [line.replace(": cache ", ": here ").replace(", expected ", ", trained with ")
                 for line in differences]
        raise RunMismatchError(
            folder, "the frozen encoders here do not compute the features this model was "
            f"trained on ({'; '.join(lines)}); install the encoders it was trained with")


__all__ = [
    "RunFeatures",
    "RunMismatchError",
    "check_same_features",
    "read_run_features",
]
