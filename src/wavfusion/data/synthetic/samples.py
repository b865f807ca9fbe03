"""Sample clips to try `predict` on: a WAV (voice only) and an MP4 (a drawn face with the
voice as its audio track), made by the demo corpus generator, with their transcripts; and long
recordings made of clips with pauses between them (`write_recording`), for the timeline.

Used by the latency and timeline benchmarks and the tests; handy for a first `wavfusion
predict`:

    rows = write_sample_clips(Path("samples"), seconds=5.0)
    rows["mp4"].video, rows["mp4"].text     # "video/spk01_0001.mp4", "..."
    spans = write_recording(Path("long.wav"), [clip_a, clip_b, ...])   # [(start, end), ...]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np

from wavfusion.data.manifest import ManifestRow
from wavfusion.data.synthetic.corpus import ClipPlan, make_clip
from wavfusion.data.synthetic.profiles import DEMO_LABELS, make_speakers

SAMPLE_LABELS = {"wav": "happy", "mp4": "sad"}  # the emotion each sample is drawn with


def write_sample_clips(folder: Path, seconds: float = 5.0, seed: int = 0) -> dict[str, ManifestRow]:
    """Write `folder/audio/*.wav` and `folder/video/*.mp4` of `seconds` each; returns their
    manifest rows (paths relative to `folder`; the MP4's row has its audio in the video) by
    kind, "wav" and "mp4"."""
    speaker = make_speakers(3, seed)[0]
    rows = {}
    for number, (kind, label) in enumerate(SAMPLE_LABELS.items()):
        if label not in DEMO_LABELS:
            raise ValueError(f"sample label {label!r} is not one of {DEMO_LABELS}")
        video = kind == "mp4"
        for name in ("audio", "video"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        plan = ClipPlan(number, label, speaker, "test", "own", has_video=video,
                        audio_in_video=video)
        rows[kind] = make_clip(plan, folder, seed=seed, seconds=(seconds, seconds))
    return rows


def write_recording(path: Path, clips: Iterable[np.ndarray], gap_seconds=(0.5, 2.0),
                    noise: float = 1e-3, seed: int = 0, rate: int = 16_000) -> list[tuple]:
    """Write clips `(samples,)` float32 at `rate`, each followed by a pause of uniform random
    length in `gap_seconds` holding Gaussian noise of standard deviation `noise`, into one
    16-bit mono WAV at `path`, written block by block (a long recording never sits in memory
    whole). Returns each clip's `(start, end)` seconds in the recording."""
    generator = np.random.default_rng(seed)
    spans, position = [], 0
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        for clip in clips:
            pause = generator.normal(0.0, noise, round(generator.uniform(*gap_seconds) * rate))
            spans.append((position / rate, (position + clip.size) / rate))
            block = np.clip(np.concatenate([clip, pause]), -1, 1).astype(np.float32)
            position += block.size
            frame = av.AudioFrame.from_ndarray(block[None], format="flt", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return spans


__all__ = ["SAMPLE_LABELS", "write_recording", "write_sample_clips"]
