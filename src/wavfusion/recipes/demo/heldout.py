"""The held-out clip the demo predicts: a test-split video with a transcript, as one file.

Most corpus videos are silent (their voice is the row's WAV), so the chosen clip is written as
one MP4 with its voice as the audio track, the way a user's own recording would arrive; a row
whose audio already lives in its MP4 is used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from wavfusion.data.manifest import Manifest, ManifestRow
from wavfusion.data.synthetic.face import write_mp4


@dataclass
class HeldOutClip:
    """A file to predict and what the corpus knows about it."""

    path: Path
    transcript: str | None
    row: ManifestRow


def _preference(row: ManifestRow) -> tuple[bool, bool, bool, str]:
    """Sort key, best first: a video, a transcript, audio already in the video."""
    return (not row.video, not row.text.strip(), bool(row.audio), row.id)


def choose_row(manifest: Manifest, split: str = "test") -> ManifestRow:
    """The first `split` row with a video and a transcript (else the best there is)."""
    rows = [row for row in manifest.rows if row.split == split and row.label]
    if not rows:
        raise ValueError(f"{manifest.path}: no labelled row in split {split!r} to predict")
    return min(rows, key=_preference)


def _video_frames(path: Path) -> np.ndarray:
    """Every frame of an MP4 as RGB `(frames, height, width, 3)` uint8."""
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24")
                         for frame in container.decode(video=0)])


def held_out_clip(manifest: Manifest, folder: Path, split: str = "test") -> HeldOutClip:
    """Pick the clip (`choose_row`) and return it as one file: the row's MP4 when it holds the
    voice, else `folder/<id>.mp4` (its frames + its WAV as the audio track), else its WAV."""
    row = choose_row(manifest, split)
    transcript = row.text.strip() or None
    if row.video and not row.audio:
        return HeldOutClip(manifest.path_of(row.video), transcript, row)
    if not row.video:
        return HeldOutClip(manifest.path_of(row.audio), transcript, row)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{row.id}.mp4"
    if not path.is_file():
        temporary = folder / f".{row.id}.tmp.mp4"
        write_mp4(temporary, _video_frames(manifest.path_of(row.video)),
                  manifest.load_audio(row).astype(np.float32))
        temporary.replace(path)
    return HeldOutClip(path, transcript, row)
