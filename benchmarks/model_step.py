"""One training step of WavFusion from raw audio vs from the cached shallow-prefix output.

wav2vec2-base sizes (random weights), 9 shallow (frozen) / 3 deep layers, batch 8 x 4 s,
text and video present. The raw path runs the frozen prefix (Eq 7) every step; the cached
path reads it (what `wavfusion extract` stores). Both must give the same logits (1e-4).

    python benchmarks/model_step.py [--batch 8] [--seconds 4] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from wavfusion import WavFusion, WavFusionConfig


def time_steps(step, repeats: int) -> list[float]:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    config = WavFusionConfig(audio_backbone="wav2vec2-base-random", deep_layers=3,
                             freeze_shallow=True, num_classes=6)
    model = WavFusion(config)
    batch = args.batch
    audio = torch.randn(batch, int(args.seconds * 16000))
    inputs = {
        "text": torch.randn(batch, 20, config.text_dim),
        "visual": torch.randn(batch, 16, config.visual_dim),
        "labels": torch.arange(batch) % config.num_classes,
    }
    with torch.no_grad():
        model.eval()
        from_raw = model(audio=audio, **inputs).logits
        cached, cached_mask = model.backbone.shallow_forward(
            _normalized(audio), torch.ones_like(audio, dtype=torch.bool))
        from_cache = model(audio_features=cached.half(), audio_features_mask=cached_mask,
                           **inputs).logits
    difference = (from_raw - from_cache).abs().max().item()
    model.train()
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5,
                                  fused=True)

    def step(**audio_inputs):
        def run():
            optimiser.zero_grad()
            model(**audio_inputs, **inputs).loss.backward()
            optimiser.step()
        return run

    raw_times = time_steps(step(audio=audio), args.repeats)
    cached_times = time_steps(step(audio_features=cached.half(), audio_features_mask=cached_mask),
                              args.repeats)
    raw, fast = statistics.median(raw_times), statistics.median(cached_times)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"model: wav2vec2-base sizes (random), 9/3 split, {trainable / 1e6:.1f} M trainable; "
          f"batch {batch} x {args.seconds:g} s; torch threads {torch.get_num_threads()}")
    print(f"training step from raw audio      : median {raw:.3f} s over {args.repeats} "
          f"(all: {', '.join(f'{t:.2f}' for t in raw_times)})")
    print(f"training step from cached prefix  : median {fast:.3f} s over {args.repeats} "
          f"(all: {', '.join(f'{t:.2f}' for t in cached_times)})")
    print(f"speed-up (raw / cached, same run) : {raw / fast:.2f}x  (target >= 3.0x)")
    print(f"max |logits raw - logits cached|  : {difference:.2e}  (prefix stored as fp16; "
          f"target <= 1e-4)")
    if difference > 1e-4:
        raise SystemExit("FAIL: cached and raw logits differ by more than 1e-4")


def _normalized(audio: torch.Tensor) -> torch.Tensor:
    from wavfusion.model.speech_backbone import normalize_waveform

    return normalize_waveform(audio, torch.ones_like(audio, dtype=torch.bool))


if __name__ == "__main__":
    main()
