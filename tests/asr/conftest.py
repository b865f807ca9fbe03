"""The Whisper fixtures of the backbone tests (the bundled tiny.en, a tiny CTranslate2
folder), shared here: automatic transcripts run the same models."""

from tests.backbones.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    _offline,
    bundled_folder,
    tiny_ct2_folder,
    tiny_encoder,
)
