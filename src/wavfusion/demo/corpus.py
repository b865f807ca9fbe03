"""The demo corpus: a small synthetic three-modality emotion corpus, deterministic by seed.

DOCS_PLACEHOLDER
"""

from __future__ import annotations

import json
import sys
import wave
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from wavfusion.data.manifest import ManifestRow, write_manifest
from wavfusion.data.media import SAMPLE_RATE
from wavfusion.demo import sentences
from wavfusion.demo.face import render_face, write_mp4
from wavfusion.demo.profiles import (
    AUDIO_IN_VIDEO_FRACTION,
    DEMO_LABELS,
    FACE_PARAMETERS,
    FPS,
    TEXT_MIX,
    VOICE_PARAMETERS,
    Speaker,
    draw,
    make_speakers,
)
from wavfusion.demo.voice import synthesise

MANIFEST_NAME = "manifest.csv"
SETTINGS_NAME = "corpus.json"
TEST_SPEAKER_FRACTION = 0.25  # the last quarter of the speakers are the test set
VAL_SPEAKER_FRACTION = 0.125  # the eighth before them are the validation set


@dataclass
class ClipPlan:
    """Everything decided about one clip before any media is made."""

    number: int  # position in the corpus, part of the clip's random seed
    label: str
    speaker: Speaker
    split: str
    text_kind: str  # own / shared / contradicting / empty
    has_video: bool
    audio_in_video: bool  # the audio is only the MP4's track (empty `audio` cell)

    @property
    def id(self) -> str:
        return f"{self.speaker.name}_{self.number:04d}"


def speaker_splits(count: int) -> list[str]:
    """Split of each of `count` speakers (speaker-independent): the last quarter (at least
    one) test, the eighth before them (at least one) val, the rest train; with 8 speakers
    spk01-05 train, spk06 val, spk07-08 test."""
    if count < 3:
        raise ValueError(f"a speaker-independent split needs at least 3 speakers, got {count}")
    test = max(1, round(count * TEST_SPEAKER_FRACTION))
    val = max(1, round(count * VAL_SPEAKER_FRACTION))
    return ["train"] * (count - test - val) + ["val"] * val + ["test"] * test


def _quotas(total: int, fractions: dict[str, float]) -> list[str]:
    """`total` items assigned to the keys of `fractions` in proportion (largest remainder),
    listed key by key."""
    exact = {key: total * share / sum(fractions.values()) for key, share in fractions.items()}
    counts = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(exact, key=lambda key: counts[key] - exact[key])
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return [key for key in fractions for _ in range(counts[key])]


def plan_corpus(
    per_class: int,
    speakers: list[Speaker],
    *,
    seed: int,
    video_fraction: float,
    text_fraction: float,
) -> list[ClipPlan]:
    """Labels, speakers, splits and modalities of every clip. Clip i of a class goes to
    speaker i mod len(speakers); within each (class, split) group exact quotas (largest
    remainder) decide which clips have video, audio only in the video, and which transcript."""
    splits = speaker_splits(len(speakers))
    rng = np.random.default_rng([seed, 0])
    plans: list[ClipPlan] = []
    for label in DEMO_LABELS:
        for index in range(per_class):
            owner = index % len(speakers)
            plans.append(ClipPlan(0, label, speakers[owner], splits[owner], "empty", False, False))
    for label in DEMO_LABELS:
        for split in ("train", "val", "test"):
            group = [p for p in plans if p.label == label and p.split == split]
            n = len(group)
            video = _quotas(n, {"yes": video_fraction, "no": 1 - video_fraction})
            text = _quotas(n, {"text": text_fraction, "empty": 1 - text_fraction})
            kinds = iter(rng.permutation(_quotas(text.count("text"), TEXT_MIX)))
            for plan, video_cell, text_cell in zip(
                group, rng.permutation(video), rng.permutation(text)
            ):
                plan.has_video = video_cell == "yes"
                plan.text_kind = str(next(kinds)) if text_cell == "text" else "empty"
            with_video = [plan for plan in group if plan.has_video]
            embedded = _quotas(
                len(with_video), {"yes": AUDIO_IN_VIDEO_FRACTION, "no": 1 - AUDIO_IN_VIDEO_FRACTION}
            )
            for plan, flag in zip(with_video, rng.permutation(embedded)):
                plan.audio_in_video = flag == "yes"
    # rows by speaker, in random order within a speaker (labels do not follow the ids)
    position = {speaker.name: index for index, speaker in enumerate(speakers)}
    plans = [plans[index] for index in rng.permutation(len(plans))]
    plans.sort(key=lambda plan: position[plan.speaker.name])  # stable: keeps the shuffle
    for number, plan in enumerate(plans):
        plan.number = number
    return plans


def _write_wav(path: Path, samples: np.ndarray) -> None:
    """16 kHz mono 16-bit PCM WAV (stdlib `wave`: the bytes depend only on the samples)."""
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(pcm.tobytes())


def make_clip(plan: ClipPlan, out: Path, *, seed: int, seconds: tuple[float, float]) -> ManifestRow:
    """Synthesise the media of one clip into `out` and return its manifest row. The clip's
    random streams (voice, face, transcript) come from (seed, clip number) alone, so a clip
    does not change when another one does."""
    voice_rng, face_rng, text_rng = (
        np.random.default_rng(child)
        for child in np.random.SeedSequence([seed, 1, plan.number]).spawn(3)
    )
    duration = float(voice_rng.uniform(*seconds))
    utterance = synthesise(
        draw(VOICE_PARAMETERS, plan.label, voice_rng), plan.speaker, duration, voice_rng
    )
    audio = video = ""
    if not plan.audio_in_video:
        audio = f"audio/{plan.id}.wav"
        _write_wav(out / audio, utterance.samples)
    if plan.has_video:
        video = f"video/{plan.id}.mp4"
        times = (np.arange(max(1, round(duration * FPS))) + 0.5) / FPS
        expression = draw(FACE_PARAMETERS, plan.label, face_rng)
        frames = render_face(expression, plan.speaker, utterance.activity(times), face_rng)
        track = utterance.samples if plan.audio_in_video else None
        write_mp4(out / video, frames, track)
    return ManifestRow(
        id=plan.id,
        audio=audio,
        video=video,
        text=_transcript(plan, text_rng),
        label=plan.label,
        speaker=plan.speaker.name,
        split=plan.split,
        extra={"text_kind": plan.text_kind},
    )


def _transcript(plan: ClipPlan, rng: np.random.Generator) -> str:
    if plan.text_kind == "own":
        return sentences.transcript(sentences.EMOTION_SENTENCES[plan.label], rng)
    if plan.text_kind == "shared":
        return sentences.transcript(sentences.SHARED_SENTENCES, rng)
    if plan.text_kind == "contradicting":
        others = [label for label in DEMO_LABELS if label != plan.label]
        other = others[int(rng.integers(len(others)))]
        return sentences.transcript(sentences.EMOTION_SENTENCES[other], rng)
    return ""


def generate_corpus(
    out: Path,
    *,
    per_class: int = 40,
    seed: int = 0,
    seconds: tuple[float, float] = (1.5, 3.0),
    video_fraction: float = 0.8,
    text_fraction: float = 0.85,
    speakers: int = 8,
    progress: bool = True,
) -> Path:
    """Write the demo corpus into `out`: `audio/*.wav`, `video/*.mp4`, `manifest.csv` and
    `corpus.json` (the settings and counts). Returns the manifest's path.

    `per_class` clips for each of DEMO_LABELS, `seconds` the range of clip lengths,
    `video_fraction` / `text_fraction` the share of clips with a video / a transcript,
    `speakers` (>= 3) synthetic speakers split speaker-independently (`speaker_splits`).
    The same arguments give byte-identical files; existing files of the same names are
    overwritten, other files in `out` are left alone."""
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    low, high = seconds
    if not 0.5 <= low <= high:
        raise ValueError(
            f"seconds must be a range (low, high) with 0.5 <= low <= high, got {seconds}"
        )
    for name, value in (("video_fraction", video_fraction), ("text_fraction", text_fraction)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {value}")
    out = Path(out)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    (out / "video").mkdir(parents=True, exist_ok=True)
    voices = make_speakers(speakers, seed)
    plans = plan_corpus(
        per_class, voices, seed=seed, video_fraction=video_fraction, text_fraction=text_fraction
    )
    bar = tqdm(plans, desc="demo corpus", unit="clip", disable=not progress, file=sys.stderr)
    rows = [make_clip(plan, out, seed=seed, seconds=(low, high)) for plan in bar]
    manifest = write_manifest(out / MANIFEST_NAME, rows, ["text_kind"])
    settings = {
        "per_class": per_class,
        "seed": seed,
        "seconds": [low, high],
        "video_fraction": video_fraction,
        "text_fraction": text_fraction,
        "speakers": {voice.name: split for voice, split in zip(voices, speaker_splits(speakers))},
        "rows": {
            "split": dict(Counter(row.split for row in rows)),
            "text_kind": dict(Counter(row.extra["text_kind"] for row in rows)),
            "video": sum(bool(row.video) for row in rows),
            "audio_in_video_only": sum(not row.audio for row in rows),
        },
    }
    (out / SETTINGS_NAME).write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
    return manifest
