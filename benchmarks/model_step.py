"""One training step of WavFusion from raw audio vs from the cached shallow-prefix output.

wav2vec2-base sizes (random weights), 9 shallow (frozen) / 3 deep layers, batch 8 x 4 s,
20 text tokens and 16 face frames. The raw path runs the frozen prefix (Eq 7) every step; the
cached path reads it (what `wavfusion extract` stores). Both must give the same logits (1e-4).
A third arm times the cached step on a mixed batch (a quarter of the samples without text,
a quarter without video, a quarter with neither), where the deep layers run each part only
on the samples that need it. `--profile` prints where a cached step's time goes: its parts
(deep-layer fusion and feed-forward, the text and visual encoders, backward, optimiser) and
the top operators.

    python benchmarks/model_step.py [--batch 8] [--seconds 4] [--repeats 5] [--threads N]
                                    [--profile] [--record]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from results import record  # benchmarks/ is on sys.path: run as a script

from wavfusion import WavFusion, WavFusionConfig
from wavfusion.model.speech_backbone import normalize_waveform


def time_steps(step, repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (this process, all threads) of each step after a warm-up one; CPU
    time moves less than wall time when other jobs share the cores."""
    step()  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return walls, cpus


def mixed_masks(inputs: dict, batch: int) -> dict:
    """The same batch with rows 1, 5, ... without text, 2, 6, ... without video, 3, 7, ...
    with neither."""
    inputs = dict(inputs)
    text_mask = torch.ones(inputs["text"].shape[:2], dtype=torch.bool)
    visual_mask = torch.ones(inputs["visual"].shape[:2], dtype=torch.bool)
    rows = torch.arange(batch) % 4
    text_mask[(rows == 1) | (rows == 3)] = False
    visual_mask[(rows == 2) | (rows == 3)] = False
    inputs["text_mask"], inputs["visual_mask"] = text_mask, visual_mask
    return inputs


def profile_step(model: WavFusion, optimiser, inputs: dict) -> str:
    """Print the parts of one step (forward hooks label the modules) and the top operators;
    return a one-line summary of them."""
    from torch.profiler import ProfilerActivity, profile, record_function

    parts = {"text encoder": model.text_encoder, "visual encoder": model.visual_encoder}
    for index, layer in enumerate(model.backbone.deep_layers):
        parts[f"deep {index}: gated cross-modal attention"] = layer.fusion
        parts[f"deep {index}: feed-forward"] = layer.feed_forward
    handles = []
    for name, module in parts.items():
        def enter(module, args, name=name):
            module._profile_range = record_function(f"part: {name}")
            module._profile_range.__enter__()

        def leave(module, args, output):
            module._profile_range.__exit__(None, None, None)

        handles += [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        optimiser.zero_grad()
        with record_function("step: forward"):
            loss = model(**inputs).loss
        with record_function("step: backward"):
            loss.backward()
        with record_function("step: optimiser"):
            optimiser.step()
    for handle in handles:
        handle.remove()
    events = profiler.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / 1e6
    print(f"cached step under the profiler: {total:.2f} CPU s (self time, all operators)")
    seconds: dict[str, float] = {}
    for event in sorted(events, key=lambda e: -e.cpu_time_total):
        if event.key.startswith(("part: ", "step: ")):
            print(f"  {event.key:48s} {event.cpu_time_total / 1e6:6.2f} s")
            name = event.key.split(": ", 1)[1].split(": ")[-1]  # deep layers summed per part
            seconds[name] = seconds.get(name, 0.0) + event.cpu_time_total / 1e6
    print(events.table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=28))
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:4]
    return ("profile of one cached step: " + ", ".join(
        f"{name} {value:.2f} s" for name, value in seconds.items()) + "; top operators (self "
        "CPU): " + ", ".join(f"{e.key} {100 * e.self_cpu_time_total / 1e6 / total:.0f} %"
                             for e in top))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: "
                        "torch's own); 1 is steadier when other jobs share the cores")
    parser.add_argument("--profile", action="store_true", help="profile one cached step")
    parser.add_argument("--record", action="store_true",
                        help="write docs/benchmarks/model_step.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
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
    audio_mask = torch.ones_like(audio, dtype=torch.bool)
    with torch.no_grad():
        model.eval()
        from_raw = model(audio=audio, **inputs).logits
        cached, cached_mask = model.backbone.shallow_forward(
            normalize_waveform(audio, audio_mask), audio_mask)
        from_cache = model(audio_features=cached.half(), audio_features_mask=cached_mask,
                           **inputs).logits
    difference = (from_raw - from_cache).abs().max().item()
    model.train()
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5,
                                  fused=True)

    def step(batch_inputs, **audio_inputs):
        def run():
            optimiser.zero_grad()
            model(**audio_inputs, **batch_inputs).loss.backward()
            optimiser.step()
        return run

    from_prefix = {"audio_features": cached.half(), "audio_features_mask": cached_mask}
    arms = {
        "raw audio": time_steps(step(inputs, audio=audio), args.repeats),
        "cached prefix": time_steps(step(inputs, **from_prefix), args.repeats),
        "cached prefix, mixed batch": time_steps(
            step(mixed_masks(inputs, batch), **from_prefix), args.repeats),
    }
    medians = {name: statistics.median(times[0]) for name, times in arms.items()}
    cpu = {name: statistics.median(times[1]) for name, times in arms.items()}
    ratio = medians["raw audio"] / medians["cached prefix"]
    cpu_ratio = cpu["raw audio"] / cpu["cached prefix"]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"model: wav2vec2-base sizes (random), 9/3 split, {trainable / 1e6:.1f} M trainable; "
          f"batch {batch} x {args.seconds:g} s; torch threads {torch.get_num_threads()}")
    for name, (walls, _) in arms.items():
        print(f"training step from {name:27s}: median {medians[name]:.3f} s over "
              f"{args.repeats} (all: {', '.join(f'{t:.2f}' for t in walls)}); "
              f"CPU {cpu[name]:.3f} s")
    print(f"speed-up (raw / cached, same run) : {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU  "
          f"(target >= 3.0x)")
    print(f"max |logits raw - logits cached|  : {difference:.2e}  (prefix stored as fp16; "
          f"target <= 1e-4)")
    summary = profile_step(model, optimiser, {**inputs, **from_prefix}) if args.profile else ""
    if args.record:
        rows = [[f"training step from {name}", round(medians[name], 3), round(cpu[name], 3)]
                for name in arms]
        rows.append(["speed-up, raw / cached", f"{ratio:.2f}x", f"{cpu_ratio:.2f}x"])
        rows.append(["max logit difference, raw vs cached", f"{difference:.1e}", ""])
        record("model_step", "One training step: raw audio vs cached prefix (wav2vec2-base "
               "sizes, 9/3)", f"python benchmarks/model_step.py --batch {batch} --seconds "
               f"{args.seconds:g} --repeats {args.repeats}"
               + (f" --threads {args.threads}" if args.threads else "")
               + (" --profile" if args.profile else "") + " --record",
               ["arm", "median wall seconds", "median CPU seconds"], rows,
               notes=f"batch {batch} x {args.seconds:g} s, 20 text tokens, 16 face frames, "
               f"{trainable / 1e6:.1f} M trainable; fused AdamW; the mixed batch lacks text, "
               "video or both in three rows of four. " + summary)
    if difference > 1e-4:
        raise SystemExit("FAIL: cached and raw logits differ by more than 1e-4")


if __name__ == "__main__":
    main()
