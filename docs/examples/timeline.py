"""The README's timeline example: six RAVDESS clips of unseen actors joined into one recording,
its timeline predicted with `--transcribe`, drawn as a PNG and written as JSON.

Clips: one per emotion (neutral, happy, sad, angry, fearful, surprised), strong intensity,
from actors 17-20 (the test actors of `wavfusion data prepare ravdess`), each followed by
0.5-2 s of low noise (`write_recording`). Model: RUN, e.g. the quick start's runs/ravdess.

    python docs/examples/timeline.py --model runs/ravdess [--data ../shared/data]
        [--image docs/images/timeline.png] [--json docs/examples/timeline.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from wavfusion.data.datasets.labels import RAVDESS_CODES
from wavfusion.data.media import load_audio
from wavfusion.data.synthetic.samples import write_recording
from wavfusion.inference import Predictor
from wavfusion.inference.timeline_formats import plot_timeline

REPO = Path(__file__).resolve().parents[2]
EMOTIONS = ("01", "03", "04", "05", "06", "08")  # neutral, happy, sad, angry, fearful, surprised
ACTORS = (17, 18, 19, 20, 17, 18)
RECORDING_NAME = "ravdess-six-emotions.wav"


def example_clips(data: Path) -> list[Path]:
    """One clip per emotion: strong intensity (neutral has only normal), statements in turn."""
    clips = []
    for number, (emotion, actor) in enumerate(zip(EMOTIONS, ACTORS)):
        intensity = "01" if emotion == "01" else "02"
        name = f"03-01-{emotion}-{intensity}-0{number % 2 + 1}-01-{actor:02d}.flac"
        clips.append(data / "ravdess-speech-16k" / f"Actor_{actor:02d}" / name)
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a trained RUN folder")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "WAVFUSION_DATA", REPO / ".." / "shared" / "data")))
    parser.add_argument("--image", type=Path, default=REPO / "docs" / "images" / "timeline.png")
    parser.add_argument("--json", type=Path, default=REPO / "docs" / "examples" / "timeline.json")
    args = parser.parse_args()
    clips = example_clips(args.data)
    predictor = Predictor.from_run(args.model, transcribe=True)
    with tempfile.TemporaryDirectory() as temporary:
        path = Path(temporary) / RECORDING_NAME
        spans = write_recording(path, (load_audio(clip) for clip in clips), seed=0)
        timeline = predictor.predict_timeline(path)
        timeline["file"] = RECORDING_NAME
        timeline.pop("timings")  # machine-dependent
        plot_timeline(timeline, args.image)
    args.json.write_text(json.dumps(timeline, indent=1, ensure_ascii=False) + "\n")
    for clip, (start, end) in zip(clips, spans):
        said = [s["label"] for s in timeline["segments"] if s["start"] < end and s["end"] > start]
        print(f"{start:6.2f}-{end:6.2f} s  {RAVDESS_CODES[clip.stem.split('-')[2]]:<10} "
              f"predicted {', '.join(said) or '-'}")
    print(f"wrote {args.image} ({args.image.stat().st_size // 1024} KB) and {args.json}")


if __name__ == "__main__":
    main()
