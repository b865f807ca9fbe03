"""Silence third-party chatter that says nothing to a wavfusion user.

- transformers' "Loading weights" progress bars (our own progress bars are enough);
- Lightning's info lines ("GPU available: False", the LitLogger tip) and two warnings that
  are expected here: frozen modules are in eval mode on purpose (the frozen prefix, see
  SpeechBackbone.train), and a pytree deprecation inside Lightning itself.
Real warnings still show.
"""

from __future__ import annotations

import logging
import warnings

EXPECTED_WARNINGS = (
    r".*module\(s\) in eval mode at the start of training.*",
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
)


def quiet_third_party() -> None:
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for pattern in EXPECTED_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
