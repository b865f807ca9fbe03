"""WavFusion, assembled: encoders (Eq 1-7), deep fusion (Eq 8-11), losses (Eq 12-15).

    text features e^t  --TextEncoder (Eq 6)-----------> X^t --+
    face features e^v  --VisualEncoder (Eq 2-4)-------> X^v --+--> keys/values
    waveform S^a --shallow prefix (Eq 7)--> X^a --deep FusionLayers (Eq 8-11)--> X^F
                                                                pool --> MLP --> logits
    pooled X^a, X^t, X^v --SharedEncoder (Eq 12)--> margin loss (Eq 13); CE + lambda L_mar (15)

The model does no I/O: it takes tensors. Audio comes either raw (the frozen prefix runs here)
or as the precomputed prefix output (what the feature cache stores).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from wavfusion.config import WavFusionConfig
from wavfusion.model.backbones import build_backbone
from wavfusion.model.encoders import TextEncoder, VisualEncoder
from wavfusion.model.losses import SharedEncoder, modality_margin_loss, total_loss
from wavfusion.model.masking import masked_mean, zero_padding
from wavfusion.model.speech_backbone import SpeechBackbone, normalize_waveform


@dataclass
class WavFusionOutput:
    logits: torch.Tensor  # (batch, num_classes)
    loss: torch.Tensor | None = None  # Eq 15
    cross_entropy: torch.Tensor | None = None  # Eq 14
    margin_loss: torch.Tensor | None = None  # Eq 13
    gates: list[torch.Tensor] = field(default_factory=list)
    """P of Eq 10 for every deep layer: (batch, frames, width); 1 = text drove the fusion,
    0 = video; NaN for samples that had neither (pretrained self-attention used)."""
    audio_mask: torch.Tensor | None = None  # (batch, frames), the frames of `gates`


class WavFusion(nn.Module):
    """The WavFusion model. Build from a WavFusionConfig; see forward() for the inputs."""

    def __init__(self, config: WavFusionConfig, *, load_backbone_weights: bool = True) -> None:
        super().__init__()
        config = copy.deepcopy(config)
        self.backbone: SpeechBackbone | None = None
        widths: dict[str, int] = {}
        if "audio" in config.modalities:
            self.backbone = build_backbone(config, load_backbone_weights)
            widths["audio"] = self.backbone.width
        if "text" in config.modalities:
            self.text_encoder = TextEncoder(
                config.text_dim, config.text_hidden, config.encoder_heads, config.dropout
            )
            widths["text"] = config.text_hidden
        if "visual" in config.modalities:
            self.visual_encoder = VisualEncoder(
                config.visual_dim, config.visual_hidden, config.encoder_heads, config.dropout,
                config.use_lvc, config.lvc_codewords,
            )
            widths["visual"] = config.visual_hidden
        classifier_in = widths["audio"] if config.uses_fusion_layers else sum(widths.values())
        self.classifier = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(classifier_in, config.classifier_hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.classifier_hidden, config.num_classes),
        )
        # Eq 12-13 need two modalities at least (a positive is another modality).
        self.shared_encoder = (
            SharedEncoder(widths, config.shared_dim) if len(widths) > 1 else None
        )
        self.config = config

    def forward(
        self,
        audio: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
        audio_features: torch.Tensor | None = None,
        audio_features_mask: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
        text_mask: torch.Tensor | None = None,
        visual: torch.Tensor | None = None,
        visual_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        class_weights: torch.Tensor | None = None,
    ) -> WavFusionOutput:
        """All masks are bool, True = real data; a sample whose text_mask / visual_mask is all
        False has no transcript / video.

        audio: (batch, samples) 16 kHz waveform, audio_mask: (batch, samples); OR
        audio_features: (batch, frames, width) = output of the shallow prefix (Eq 7),
            audio_features_mask: (batch, frames).
        text: (batch, tokens, text_dim) frozen token features (Eq 5), text_mask (batch, tokens).
        visual: (batch, frames, visual_dim) frozen per-frame features (Eq 1), visual_mask.
        labels: (batch,) class ids; when given, the losses of Eq 13-15 are returned too.
        class_weights: (num_classes,) optional weights of the cross-entropy (Eq 14).
        """
        config = self.config
        pooled: dict[str, torch.Tensor] = {}
        present: dict[str, torch.Tensor] = {}
        contexts: dict[str, torch.Tensor | None] = {
            "text": None, "text_mask": None, "visual": None, "visual_mask": None,
        }
        hidden = frame_mask = None
        if self.backbone is not None:
            hidden, frame_mask = self._audio_states(
                audio, audio_mask, audio_features, audio_features_mask
            )
            pooled["audio"], present["audio"] = masked_mean(hidden, frame_mask), frame_mask.any(1)
        reference = next(x for x in (hidden, text, visual) if x is not None)
        for name, encoder_name in (("text", "text_encoder"), ("visual", "visual_encoder")):
            if name not in config.modalities:
                continue
            features, mask = self._sequence_or_empty(
                reference, text if name == "text" else visual,
                text_mask if name == "text" else visual_mask,
                config.text_dim if name == "text" else config.visual_dim,
            )
            states = getattr(self, encoder_name)(features, mask)  # Eq 6 / Eq 2-4
            pooled[name], present[name] = masked_mean(states, mask), mask.any(1)
            contexts[name], contexts[f"{name}_mask"] = states, mask

        gates: list[torch.Tensor] = []
        if config.uses_fusion_layers:
            fused, gates = self.backbone.deep_forward(hidden, frame_mask, **contexts)
            utterance = masked_mean(fused, frame_mask)
        else:  # concat baseline (Table 6, 12/0) and single auxiliary modalities (Table 3)
            utterance = torch.cat([pooled[m] for m in config.modalities], dim=-1)
        output = WavFusionOutput(
            logits=self.classifier(utterance), gates=gates, audio_mask=frame_mask
        )
        if labels is not None:
            margin = output.logits.sum() * 0.0
            if self.shared_encoder is not None:
                margin = modality_margin_loss(
                    self.shared_encoder(pooled), present, labels, config.margin
                )
            output.loss, output.cross_entropy = total_loss(
                output.logits, labels, margin, config.margin_weight, class_weights
            )
            output.margin_loss = margin
        return output

    def _audio_states(self, audio, audio_mask, features, features_mask):
        """X^a and its frame mask, from raw audio (runs Eq 7) or from the cached prefix."""
        if features is not None:
            if features_mask is None:
                features_mask = torch.ones(features.shape[:2], dtype=torch.bool,
                                           device=features.device)
            return features.to(self.classifier[1].weight.dtype), features_mask
        if audio is None:
            raise ValueError("audio is an enabled modality: pass `audio` or `audio_features`")
        return self.audio_prefix(audio, audio_mask)

    def audio_prefix(self, audio: torch.Tensor, audio_mask: torch.Tensor | None = None):
        """Eq 7 on raw audio: (batch, samples) 16 kHz -> X^a (batch, frames, width) and its
        (batch, frames) mask. What `audio_features` expects, so what a feature cache stores
        (one clip at a time, or any batch: the result does not depend on padding, except for
        wav2vec2-base's group-norm feature encoder)."""
        if audio_mask is None:
            audio_mask = torch.ones_like(audio, dtype=torch.bool)
        if self.config.normalize_audio and self.backbone.expects_normalized_audio:
            audio = normalize_waveform(audio, audio_mask)
        return self.backbone.shallow_forward(audio, audio_mask)

    @staticmethod
    def _sequence_or_empty(reference, features, mask, width):
        """Features with their padding zeroed (garbage never enters); an all-absent stand-in
        when the modality is not given for this batch at all, made on `reference`'s device
        (any input of the batch: the stand-in must live where the batch lives)."""
        if features is None:
            batch, device = reference.shape[0], reference.device
            empty = torch.zeros(batch, 1, width, device=device)
            return empty, torch.zeros(batch, 1, dtype=torch.bool, device=device)
        if mask is None:
            mask = torch.ones(features.shape[:2], dtype=torch.bool, device=features.device)
        return zero_padding(features.float(), mask), mask  # caches store float16

    # --- persistence: config.json + model.safetensors -----------------------------------
    def save_pretrained(self, folder: str | Path) -> Path:
        from wavfusion.model.serialization import save_model

        return save_model(self, folder)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> WavFusion:
        from wavfusion.model.serialization import load_model

        return load_model(cls, folder)

