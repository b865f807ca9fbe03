"""Data: decode any clip, and turn IEMOCAP, MELD, RAVDESS or your own CSV into one manifest.

    from wavfusion.data import read_manifest
    manifest = read_manifest("manifest.csv")
    row = manifest.rows[0]
    wave = manifest.load_audio(row)        # (samples,) float32, 16 kHz mono
    frames = manifest.load_frames(row)     # (16, 224, 224, 3) uint8 face crops, None if no video

`load_audio` / `load_frames` decode a single file; `wavfusion data prepare` and
`wavfusion data check` are the command-line side (see README.md, "Data").
"""

from wavfusion.data.errors import DataError, ManifestError, MediaError, Problem
from wavfusion.data.manifest import COLUMNS, Manifest, ManifestRow, read_manifest, write_manifest
from wavfusion.data.media import SAMPLE_RATE, decode_audio, load_audio, load_frames, probe_video

__all__ = [
    "COLUMNS",
    "SAMPLE_RATE",
    "DataError",
    "Manifest",
    "ManifestError",
    "ManifestRow",
    "MediaError",
    "Problem",
    "decode_audio",
    "load_audio",
    "load_frames",
    "probe_video",
    "read_manifest",
    "write_manifest",
]
