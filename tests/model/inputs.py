"""Small random models and ragged inputs for the model tests (generated, never stored)."""

from __future__ import annotations

import torch
from transformers import Wav2Vec2Config, WhisperConfig

from wavfusion import WavFusionConfig

TEXT_DIM, VISUAL_DIM = 24, 40


def tiny_wav2vec2_config(stable_layer_norm: bool = False, layers: int = 4) -> Wav2Vec2Config:
    """wav2vec2-base's architecture (group-norm feature encoder, post-norm layers) or
    large-lv60's (layer norms, pre-norm layers), at toy width."""
    return Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=layers, num_attention_heads=4, intermediate_size=64,
        conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
        feat_extract_norm="layer" if stable_layer_norm else "group",
        conv_bias=stable_layer_norm, do_stable_layer_norm=stable_layer_norm,
    )


def tiny_whisper_config(layers: int = 4) -> WhisperConfig:
    """Whisper's architecture (pre-norm encoder, k_proj without bias) at toy width."""
    return WhisperConfig(
        d_model=32, encoder_layers=layers, encoder_attention_heads=4, encoder_ffn_dim=64,
        decoder_layers=1, decoder_attention_heads=4, decoder_ffn_dim=64, vocab_size=64,
        num_mel_bins=80, max_source_positions=1500, max_target_positions=16,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=0,
        suppress_tokens=None, begin_suppress_tokens=None,
    )


def small_config(backbone: str, **overrides) -> WavFusionConfig:
    values = {
        "audio_backbone": backbone, "deep_layers": 2, "text_dim": TEXT_DIM, "text_hidden": 16,
        "visual_dim": VISUAL_DIM, "visual_hidden": 16, "lvc_codewords": 8, "encoder_heads": 2,
        "shared_dim": 16, "classifier_hidden": 16, "num_classes": 4,
    }
    values.update(overrides)
    return WavFusionConfig(**values)


def make_batch(batch: int = 4, seconds: float = 0.5, seed: int = 0) -> dict[str, torch.Tensor]:
    """Ragged inputs: different audio lengths, some samples without text or video."""
    generator = torch.Generator().manual_seed(seed)
    samples = int(seconds * 16000)
    audio = torch.randn(batch, samples, generator=generator)
    audio_mask = torch.ones(batch, samples, dtype=torch.bool)
    text = torch.randn(batch, 7, TEXT_DIM, generator=generator)
    text_mask = torch.ones(batch, 7, dtype=torch.bool)
    visual = torch.randn(batch, 6, VISUAL_DIM, generator=generator)
    visual_mask = torch.ones(batch, 6, dtype=torch.bool)
    for index in range(batch):
        audio_mask[index, samples - index * samples // (2 * batch):] = False
        text_mask[index, 7 - index:] = False
        visual_mask[index, 6 - 2 * (index % 3):] = False
    if batch > 2:
        text_mask[1] = False  # no transcript
        visual_mask[2] = False  # no video
    audio = audio.masked_fill(~audio_mask, 0.0)
    labels = torch.arange(batch) % 2
    return {"audio": audio, "audio_mask": audio_mask, "text": text, "text_mask": text_mask,
                "visual": visual, "visual_mask": visual_mask, "labels": labels}


def select(batch: dict[str, torch.Tensor], index: int) -> dict[str, torch.Tensor]:
    """One sample of a batch, cut to its own length (no padding at all)."""
    single = {}
    for name in ("audio", "text", "visual"):
        mask = batch[f"{name}_mask"][index]
        length = max(int(mask.sum()), 1)
        single[name] = batch[name][index : index + 1, :length]
        single[f"{name}_mask"] = mask[None, :length]
    return single


def exercised(model, passes: int = 3):
    """Run a few training-mode forwards (no gradient) so BatchNorm running statistics leave
    their initial 0/1 values, then switch to eval: with fresh statistics padded frames come
    out of the LVC as exact zeros and would hide a masking bug."""
    import torch

    model.train()
    with torch.no_grad():
        for seed in range(passes):
            model(**make_batch(seed=100 + seed))
    return model.eval()
