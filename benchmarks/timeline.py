"""The emotion timeline of a long recording of real speech: wall time, real-time factor, the
time of each stage, whether the segments fall on the clips, and peak memory against length.

Recording: RAVDESS speech clips (ravdess-speech-16k of the shared data, every 7th file, so
all actors and emotions) until --minutes of audio, each followed by 0.5-2 s of low noise
(`write_recording`), as one 16-kHz WAV in a temporary folder. Model: an untrained WavFusion
on the defaults (bundled Whisper tiny.en, 3 shallow + 1 deep layer), RAVDESS labels, saved
and loaded back with `Predictor.from_run` (weights do not change the cost). Cases:

1. audio only: `predict_timeline` with the default VAD segmentation. Target: a 10-min
   recording in at most 15 s (real-time factor 0.025) on 2 cores.
2. `--transcribe`: the same, with Whisper tiny.en on each segment (beam 5, a cold transcript
   cache). Target: at most 2 min for 10 min.
3. memory: a fresh process predicts the timeline of a --short-minutes and a --long-minutes
   recording (the clips repeated) and reports its peak RSS. Target: long <= 1.5x short.

Beside the wall time, the CPU seconds of the process (all threads): on a machine shared with
other jobs the wall time also counts waiting for a core, the CPU time does not. It also
counts the clips that overlap exactly one segment (target >= 95 %), the segments that lie
inside one clip's span (0.25 s slack), and, with --agreement, the clips whose single segment
gets the label `predict` gives the clip alone (meaningful with a trained --model RUN).

    python benchmarks/timeline.py [--minutes 10] [--threads 2] [--skip-transcribe]
        [--skip-memory] [--short-minutes 1] [--long-minutes 60] [--agreement]
        [--model RUN] [--padding 0.2] [--context 0.5] [--record]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wavfusion import WavFusion, WavFusionConfig
from wavfusion.data.datasets.labels import LABEL_SETS
from wavfusion.data.media import load_audio
from wavfusion.data.synthetic.samples import write_recording
from wavfusion.inference import Predictor
from wavfusion.inference.segments import SegmentOptions, TimelineOptions

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data"
SPEECH = "ravdess-speech-16k"
EVERY = 7  # every 7th file: all actors, statements and emotions
SLACK = 0.25  # seconds a segment may reach past its clip's span
STAGES = ("decode", "vad", "encoders", "model", "transcribe")
TARGET_RTF = 0.025
TARGET_TRANSCRIBE_SECONDS = 120.0  # for 10 minutes
TARGET_RSS_RATIO = 1.5


def speech_files(data: Path) -> list[Path]:
    files = sorted((data / SPEECH).glob("Actor_*/*.flac"))
    if not files:
        raise SystemExit(f"no RAVDESS clips under {data / SPEECH} (set WAVFUSION_DATA)")
    return files[::EVERY]


def build_recording(path: Path, files: list[Path], seconds: float) -> tuple[list, list[Path]]:
    """Clips of `files` (cycled) until `seconds` of speech and pauses; their spans, files."""
    chosen, total = [], 0.0
    for file in itertools.cycle(files):
        if total >= seconds:
            break
        chosen.append(file)
        total += load_audio(file).size / 16_000 + 1.25  # the mean pause
    spans = write_recording(path, (load_audio(file) for file in chosen), seed=0)
    return spans, chosen


def overlaps(segment: dict, span: tuple[float, float]) -> bool:
    return min(segment["end"], span[1]) - max(segment["start"], span[0]) > 0


def placement(segments: list[dict], spans: list) -> dict[str, int]:
    """Clips overlapping exactly one segment; segments inside one clip's span (with SLACK)."""
    single = sum(sum(overlaps(s, span) for s in segments) == 1 for span in spans)
    inside = 0
    for segment in segments:
        hit = [span for span in spans if overlaps(segment, span)]
        inside += len(hit) == 1 and (hit[0][0] - SLACK <= segment["start"]
                                     and segment["end"] <= hit[0][1] + SLACK)
    return {"clips": len(spans), "single": single, "segments": len(segments), "inside": inside}


STATEMENTS = {"01": "kids are talking by the door", "02": "dogs are sitting by the door"}


def statements_heard(segments: list[dict], spans: list, files: list[Path]) -> int:
    """Segments on one clip whose transcript is that clip's statement, word for word."""
    right = 0
    for segment in segments:
        hit = [file for span, file in zip(spans, files) if overlaps(segment, span)]
        said = re.sub(r"[^a-z ]", " ", (segment["transcript"] or "").lower()).split()
        right += len(hit) == 1 and said == STATEMENTS[hit[0].name.split("-")[4]].split()
    return right


def agreement(predictor: Predictor, segments: list[dict], spans: list,
              files: list[Path]) -> tuple[int, int]:
    """(clips whose one segment has predict's label for the clip alone, such clips)."""
    same = total = 0
    for span, file in zip(spans, files):
        hit = [s for s in segments if overlaps(s, span)]
        if len(hit) == 1:
            total += 1
            same += hit[0]["label"] == predictor.predict(file)["label"]
    return same, total


def save_model(folder: Path) -> Path:
    import torch

    torch.manual_seed(0)
    WavFusion(WavFusionConfig(labels=list(LABEL_SETS["ravdess"]), num_classes=8)
              ).save_pretrained(folder)
    return folder


def timed_timeline(predictor: Predictor, path: Path,
                   options: TimelineOptions | None = None) -> tuple[dict, float, float]:
    """The timeline, its wall seconds and this process's CPU seconds (all threads)."""
    started, cpu = time.perf_counter(), time.process_time()
    timeline = predictor.predict_timeline(path, options=options)
    return timeline, time.perf_counter() - started, time.process_time() - cpu


def peak_rss(run: Path, recording: Path, threads: int) -> dict:
    """In a fresh process: load the predictor, predict the timeline; its peak RSS (MiB)."""
    output = subprocess.run(
        [sys.executable, __file__, "--rss-of", str(recording), "--run", str(run),
         "--threads", str(threads)], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def status_mib(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def rss_child(recording: Path, run: Path) -> None:
    """Peak RSS of the whole process, and of the timeline alone: loading the encoders peaks
    higher than what stays resident, so the high-water mark is reset after loading (writing
    5 to /proc/self/clear_refs) and read again after the timeline."""
    predictor = Predictor.from_run(run)
    gc.collect()
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path("/proc/self/clear_refs").write_text("5")
    resident = status_mib("VmRSS")
    timeline, wall, _ = timed_timeline(predictor, recording)
    print(json.dumps({"duration": timeline["duration"], "segments": len(timeline["segments"]),
                      "wall": wall, "loaded_mb": loaded, "resident_mb": resident,
                      "timeline_peak_mb": status_mib("VmHWM"),
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def stage_text(timings: dict) -> str:
    return ", ".join(f"{name} {timings[name]:.1f} s" for name in STAGES if name in timings)


def stage_cells(timings: dict) -> list:
    return [round(timings.get(name, 0.0), 2) for name in STAGES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("WAVFUSION_DATA", DEFAULT_DATA)))
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--skip-transcribe", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--short-minutes", type=float, default=1.0)
    parser.add_argument("--long-minutes", type=float, default=60.0)
    parser.add_argument("--agreement", action="store_true",
                        help="also predict each clip alone and compare labels")
    parser.add_argument("--context", type=float, default=TimelineOptions().context,
                        help="seconds around each segment the model hears")
    parser.add_argument("--padding", type=float, default=SegmentOptions().padding,
                        help="seconds of audio kept each side of a speech region")
    parser.add_argument("--model", type=Path,
                        help="a trained RUN instead of the untrained default (same cost)")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks/timeline.json")
    parser.add_argument("--rss-of", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import torch  # after wavfusion, which sets torch's OpenMP wait policy before it loads

    torch.set_num_threads(args.threads)
    if args.rss_of is not None:
        rss_child(args.rss_of, args.run)
        return
    files = speech_files(args.data)
    rows, lines = [], []
    with tempfile.TemporaryDirectory(prefix="timeline-bench-") as temporary:
        folder = Path(temporary)
        run = args.model or save_model(folder / "run")
        recording = folder / "recording.wav"
        spans, chosen = build_recording(recording, files, args.minutes * 60)
        predictor = Predictor.from_run(run)
        options = TimelineOptions(cut=SegmentOptions(padding=args.padding), context=args.context)
        timeline, wall, cpu = timed_timeline(predictor, recording, options)
        duration = timeline["duration"]
        found = placement(timeline["segments"], spans)
        rtf = wall / duration
        lines.append(f"audio only: {duration:.0f} s recording ({found['clips']} clips), "
                     f"{found['segments']} segments, wall {wall:.2f} s, RTF {rtf:.4f} (target "
                     f"{TARGET_RTF}), CPU {cpu:.1f} s; {stage_text(timeline['timings'])}")
        lines.append(f"  clips overlapping exactly one segment {found['single']}/{found['clips']}"
                     f"; segments inside one clip's span {found['inside']}/{found['segments']}")
        rows.append(["audio only", round(duration, 1), found["segments"], round(wall, 2),
                     round(rtf, 4), round(cpu, 1), *stage_cells(timeline["timings"]),
                     f"{found['single']}/{found['clips']}"])
        if args.agreement:
            same, total = agreement(predictor, timeline["segments"], spans, chosen)
            lines.append(f"  segment label = predict on the clip alone: {same}/{total}")
        if not args.skip_transcribe:
            import wavfusion.asr.transcribe as asr

            cold = folder / "transcripts.jsonl"
            asr.default_transcript_cache = lambda: cold  # a cold cache: Whisper really runs
            speaking = Predictor.from_run(run, transcribe=True)
            timeline, wall, cpu = timed_timeline(speaking, recording, options)
            said = sum(bool(s["transcript"]) for s in timeline["segments"])
            right = statements_heard(timeline["segments"], spans, chosen)
            lines.append(f"--transcribe: wall {wall:.2f} s (target <= "
                         f"{TARGET_TRANSCRIBE_SECONDS * args.minutes / 10:.0f} s), RTF "
                         f"{wall / duration:.4f}, CPU {cpu:.1f} s; {stage_text(timeline['timings'])}; "
                         f"{said}/{len(timeline['segments'])} segments with a transcript, "
                         f"{right} of them their clip's statement word for word")
            rows.append(["--transcribe", round(duration, 1), len(timeline["segments"]),
                         round(wall, 2), round(wall / duration, 4), round(cpu, 1),
                         *stage_cells(timeline["timings"]),
                         f"{said} transcribed, {right} word for word"])
        memory = ""
        if not args.skip_memory:
            measured = {}
            for minutes in (args.short_minutes, args.long_minutes):
                path = folder / f"recording-{minutes:g}min.wav"
                build_recording(path, files, minutes * 60)
                measured[minutes] = peak_rss(run, path, args.threads)
                path.unlink()
                m = measured[minutes]
                lines.append(f"fresh process, {m['duration']:.0f} s recording: peak RSS "
                             f"{m['peak_mb']:.0f} MiB (loading peaked at {m['loaded_mb']:.0f}, "
                             f"{m['resident_mb']:.0f} resident after it; the timeline's peak "
                             f"{m['timeline_peak_mb']:.0f}), wall {m['wall']:.1f} s, RTF "
                             f"{m['wall'] / m['duration']:.4f}")
            short, long = measured[args.short_minutes], measured[args.long_minutes]
            ratio = long["peak_mb"] / short["peak_mb"]
            during = long["timeline_peak_mb"] / short["timeline_peak_mb"]
            lines.append(f"peak RSS {args.long_minutes:g} min / {args.short_minutes:g} min: "
                         f"{ratio:.2f}x for the process, {during:.2f}x during the timeline "
                         f"(target <= {TARGET_RSS_RATIO}x)")
            memory = (f"; peak RSS of a fresh process: {short['peak_mb']:.0f} MiB for "
                      f"{short['duration']:.0f} s, {long['peak_mb']:.0f} MiB for "
                      f"{long['duration']:.0f} s ({ratio:.2f}x; target <= {TARGET_RSS_RATIO}x),"
                      f" loading the encoders sets it; during the timeline alone "
                      f"{short['timeline_peak_mb']:.0f} vs {long['timeline_peak_mb']:.0f} MiB "
                      f"({during:.2f}x); the {long['duration']:.0f}-s timeline took "
                      f"{long['wall']:.1f} s")
    print("\n".join(lines))
    if args.record:
        from results import record

        record("timeline", "Emotion timeline of a long recording (real RAVDESS speech)",
               "python benchmarks/timeline.py " + " ".join(sys.argv[1:]),
               ["case", "recording s", "segments", "wall s", "RTF", "CPU s", "decode s", "VAD s",
                "encoders s", "model s", "ASR s", "clips on one segment"], rows,
               notes=f"{'model ' + str(args.model) if args.model else 'untrained default WavFusion'}, audio-only WAV, torch threads "
               f"{args.threads}, {os.cpu_count()} cores shared with other jobs; targets: RTF "
               f"<= {TARGET_RTF} audio only, <= {TARGET_TRANSCRIBE_SECONDS:g} s per 10 min "
               f"with --transcribe{memory}")


if __name__ == "__main__":
    main()
