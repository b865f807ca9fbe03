"""Warm latency of `Predictor.predict` on a 5-s clip with the embedded defaults.

Model: an untrained WavFusion on the defaults (bundled Whisper tiny.en backbone, 3 shallow +
1 deep layer; MiniLM text; EfficientNet-Lite0 image), saved to a temporary RUN folder and
loaded back with `Predictor.from_run` (weights do not change the cost). Clips: a demo-corpus
clip of exactly --seconds (synthesised voice; as a WAV, and as an MP4 of the drawn face with
the voice as its audio track, 12 fps) and a demo transcript. Cases:
1. audio only (WAV, no transcript);
2. audio + transcript;
3. video + transcript (MP4: audio track, 16 sampled face-cropped frames, EfficientNet-Lite0).
Each case: --warmup calls, then --runs timed calls; the median and 90th percentile of the
wall time of `predict` (decode, encoders, model; what the result's `timings` say), per stage
medians beside them, and the median CPU seconds of this process per call (on a machine shared
with other jobs the wall time also counts waiting for a core; CPU time does not, and with one
thread it is what the wall time would be on an idle core). Target: <= 0.3 s on 2 cores.

    python benchmarks/predict_latency.py [--seconds 5] [--runs 20] [--warmup 3] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from untrained import untrained_run  # benchmarks/ is on sys.path: run as a script

from wavfusion.data.synthetic.samples import write_sample_clips
from wavfusion.inference import Predictor

TARGET_SECONDS = 0.3
STAGES = ("decode", "encoders", "model", "total")


def measure(predictor: Predictor, path: Path, transcript: str | None, runs: int,
            warmup: int) -> dict[str, list[float]]:
    """Per-stage wall seconds and CPU seconds (`cpu`) of `runs` warm predictions (after
    `warmup` untimed ones)."""
    for _ in range(warmup):
        predictor.predict(path, transcript)
    seen: dict[str, list[float]] = {stage: [] for stage in (*STAGES, "cpu")}
    for _ in range(runs):
        cpu = time.process_time()
        timings = predictor.predict(path, transcript)["timings"]
        seen["cpu"].append(time.process_time() - cpu)
        for stage in STAGES:
            seen[stage].append(timings[stage])
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        clips = {kind: (folder / (row.video or row.audio), row.text)
                 for kind, row in write_sample_clips(folder, args.seconds).items()}
        predictor = Predictor.from_run(untrained_run(folder))
        cases = {
            "audio only (WAV)": (clips["wav"][0], None),
            "audio + transcript (WAV)": clips["wav"],
            "video + transcript (MP4)": clips["mp4"],
        }
        print(f"predict latency: {args.seconds:g}-s clip, defaults "
              f"({predictor.model.config.audio_backbone}, {predictor.encoders.options.text_encoder}"
              f", {predictor.encoders.options.image_encoder}), torch threads "
              f"{torch.get_num_threads()}, warm: median (p90) of {args.runs} runs after "
              f"{args.warmup} warm-up calls")
        print(f"{'case':<26} {'total s':>16} " + " ".join(f"{s + ' s':>10}" for s in STAGES[:-1])
              + f" {'CPU s':>8}")
        for name, (path, transcript) in cases.items():
            seen = measure(predictor, path, transcript, args.runs, args.warmup)
            total = seen["total"]
            verdict = "ok" if statistics.median(total) <= TARGET_SECONDS else "over target"
            print(f"{name:<26} {statistics.median(total):>7.3f} ({np.percentile(total, 90):.3f}) "
                  + " ".join(f"{statistics.median(seen[s]):>10.3f}" for s in STAGES[:-1])
                  + f" {statistics.median(seen['cpu']):>8.3f}"
                  + f"   {verdict} (<= {TARGET_SECONDS} s)")


if __name__ == "__main__":
    main()
