"""Seconds per clip of each audio backbone family on this machine (docs/benchmarks.md).

On N RAVDESS speech clips (every k-th file of ../shared/data/ravdess-speech-16k, 3-5 s), one
clip at a time, with each backbone's default split (a quarter of its layers deep):
- prefix: Eq 7, the frozen shallow layers: what `wavfusion extract` computes per clip;
- audio-only model: the whole audio path (prefix, deep layers, pooling, classifier): what
  `wavfusion predict` runs for an audio file once it is decoded.
Backbones: the bundled Whisper tiny.en (pretrained); Whisper base sizes (6 layers, width 512)
and wav2vec2-base sizes (12 layers, width 768), both with random weights (cost does not
depend on the weights; nothing is downloaded). Reported: the median wall seconds per clip,
and the CPU seconds of this process per clip (all threads).

    python benchmarks/backbone_cost.py [--clips 40] [--threads N] [--data FOLDER]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from extract_throughput import pick_clips

from wavfusion import WavFusion, WavFusionConfig
from wavfusion.data.media import load_audio
from wavfusion.quiet import quiet_third_party

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / \
    "ravdess-speech-16k"


def whisper_base_sized(folder: Path) -> str:
    """A random transformers Whisper with whisper-base's encoder sizes, saved to `folder`."""
    from transformers import WhisperConfig, WhisperModel

    torch.manual_seed(0)
    config = WhisperConfig(d_model=512, encoder_layers=6, encoder_attention_heads=8,
                           encoder_ffn_dim=2048, decoder_layers=1, decoder_attention_heads=8,
                           decoder_ffn_dim=2048, num_mel_bins=80)
    WhisperModel(config).save_pretrained(folder)
    return str(folder)


def per_clip(run, waves: list[np.ndarray]) -> tuple[float, float]:
    """(median wall s, mean CPU s) of `run(audio, mask)` over the clips, after one warm-up."""
    def call(wave: np.ndarray) -> None:
        audio = torch.from_numpy(wave)[None]
        run(audio, torch.ones_like(audio, dtype=torch.bool))

    call(waves[0])
    walls = []
    cpu = time.process_time()
    for wave in waves:
        start = time.perf_counter()
        call(wave)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), (time.process_time() - cpu) / len(waves)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    quiet_third_party()
    waves = [load_audio(path) for path in pick_clips(args.data, args.clips)]
    seconds = sum(len(wave) for wave in waves) / 16000 / len(waves)
    print(f"{len(waves)} RAVDESS clips, mean {seconds:.2f} s; one clip at a time; torch threads "
          f"{torch.get_num_threads()}; default split (a quarter of the layers deep)")
    print(f"{'backbone':44s} {'split':>6s} {'prefix s/clip':>16s} {'audio model s/clip':>19s}")
    with tempfile.TemporaryDirectory() as scratch:
        backbones = {
            "whisper-tiny.en-bundled (pretrained)": "whisper-tiny.en-bundled",
            "Whisper base sizes (random weights)": whisper_base_sized(Path(scratch) / "base"),
            "wav2vec2-base sizes (random weights)": "wav2vec2-base-random",
        }
        for name, source in backbones.items():
            config = WavFusionConfig(audio_backbone=source, modalities=["audio"],
                                     freeze_shallow=True)
            model = WavFusion(config).eval()
            with torch.no_grad():
                prefix = per_clip(model.audio_prefix, waves)
                whole = per_clip(lambda a, m, model=model: model(audio=a, audio_mask=m), waves)
            split = f"{model.config.shallow_layers}/{model.config.deep_layers}"
            print(f"{name:44s} {split:>6s} {prefix[0]:7.3f} ({prefix[1]:.3f} CPU) "
                  f"{whole[0]:8.3f} ({whole[1]:.3f} CPU)", flush=True)


if __name__ == "__main__":
    main()
