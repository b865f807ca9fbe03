"""Sample clips to try `predict` on: a WAV (voice only) and an MP4 (a drawn face with the
voice as its audio track), made by the demo corpus generator, with their transcripts.

Used by the latency benchmark and the prediction tests; handy for a first `wavfusion predict`:

    rows = write_sample_clips(Path("samples"), seconds=5.0)
    rows["mp4"].video, rows["mp4"].text     # "video/spk01_0001.mp4", "..."
"""

from __future__ import annotations

from pathlib import Path

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


__all__ = ["SAMPLE_LABELS", "write_sample_clips"]
