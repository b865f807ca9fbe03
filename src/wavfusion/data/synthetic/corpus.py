"""The demo corpus: a small synthetic three-modality emotion corpus, deterministic by seed.

    from wavfusion.data.synthetic import generate_corpus
    manifest_path = generate_corpus(Path("demo/corpus"), per_class=40, seed=0)

It is written as real data is: `audio/<id>.wav` (16 kHz mono 16-bit PCM), `video/<id>.mp4`
(128 x 128, 12 fps, H.264), `manifest.csv` (the usual columns, plus `text_kind`: own / shared
/ contradicting / empty, the truth about each transcript, for analysis) and `corpus.json`
(the settings and the counts). Same arguments, same seed: byte-identical files.

**Rows.** `per_class` clips of each of neutral, happy, sad, angry, spread evenly over
`speakers` synthetic speakers, alternately female-like (base pitch 175-235 Hz, formants
x 1.12-1.20) and male-like (95-135 Hz, x 0.96-1.04), each with their own face colours.
Split by speaker (`speaker_splits`): with 8, spk01-05 train, spk06 val, spk07-08 test, so
62.5 / 12.5 / 25 % of the rows, every class alike. Clip length is uniform in `seconds`
(default 1.5-3 s) whatever the class. Modalities are assigned by exact quotas within each
(class, split) group (rounded): video in `video_fraction` of the rows (80 %), a transcript
in `text_fraction` (85 %); 10 % of the rows with video have no WAV (empty `audio` cell),
their audio being the MP4's AAC track, to exercise that path.

**Audio evidence** (`voice.py`): prosody and voice quality. Each clip draws every parameter
from N(class mean, sd), one sd for all classes (`profiles.VOICE_PARAMETERS`):

| parameter | neutral | happy | sad | angry | sd | span / sd | closest / sd |
|---|---|---|---|---|---|---|---|
| `pitch_shift`: semitones above the speaker's base pitch | 0 | 3 | -1.5 | 2 | 2 | 2.2 | 0.5 |
| `pitch_range`: semitones, sd of the per-syllable pitch accents | 1.6 | 3.4 | 1 | 2.8 | 0.9 | 2.7 | 0.7 |
| `loudness`: dB re -28 dBFS RMS of voiced speech | 0 | 2.5 | -4 | 5 | 3 | 3.0 | 0.8 |
| `rate`: syllables per second | 4.2 | 4.8 | 3.4 | 5 | 0.7 | 2.3 | 0.3 |
| `tilt`: source spectral tilt, dB/octave (higher = tense voice) | -7 | -5.5 | -9.5 | -3 | 2 | 3.2 | 0.8 |
| `breathiness`: aspiration noise / pulse ratio | 0.08 | 0.08 | 0.2 | 0.05 | 0.05 | 3.0 | 0.0 |
| `jitter`: period perturbation (shimmer is 3x) | 0.01 | 0.01 | 0.015 | 0.018 | 0.004 | 2.0 | 0.0 |

"span / sd" is how far apart the extreme class means are, "closest / sd" the two closest;
no single parameter separates the four classes (happy and angry differ mostly in tilt and
jitter, neutral and happy in pitch and range). On top, per clip: random syllable accents
and durations, a pause after 12 % of the syllables, loudness +-1.5 dB per syllable, an
unvoiced burst before 60 % of the syllables, room noise at -56 dBFS; and the speaker's base
pitch, which moves absolute pitch more (an octave between voices) than any emotion does.

**Video evidence** (`face.py`): the drawn face's expression (`profiles.FACE_PARAMETERS`):

| parameter | neutral | happy | sad | angry | sd | span / sd | closest / sd |
|---|---|---|---|---|---|---|---|
| `brow_raise`: brow height, eye heights | 0 | 0.3 | 0.15 | -0.45 | 0.35 | 2.1 | 0.4 |
| `brow_tilt`: degrees, + inner ends up (sad), - down (frown) | 0 | 0 | 13 | -15 | 7 | 4.0 | 0.0 |
| `eye_open`: eye opening, 1 = neutral | 1 | 0.85 | 0.72 | 1.2 | 0.15 | 3.2 | 0.9 |
| `smile`: mouth-corner lift, mouth half-widths (- frown) | 0 | 0.38 | -0.25 | -0.12 | 0.15 | 4.2 | 0.8 |
| `mouth_open`: jaw opening while the voice is active | 0.25 | 0.55 | 0.15 | 0.5 | 0.15 | 2.7 | 0.3 |

The expression builds from 70 % to full over the first 0.5 s; the mouth opens with the
voice's envelope (x `mouth_open`). Nuisances, drawn per clip: placement +-10 px and sway
2-7 px, roll 2-9 degrees, zoom 0.88-1.06 (+-3 %), light gain 0.75-1.15 (+-0.08 drift), a
left-right light gradient up to +-25 %, sensor noise sd 3-8 grey levels, blinks in 4 % of
frames, 6-13 background shapes; the background is darker than the skin (by about 60 grey
levels where possible), because OpenCV's Haar cascade misses faces that melt into their
background; skin tones are light to medium-dark for the same reason. The cascade finds the
face in 98 % of the sampled frames of the seed-0 corpus (per_class 40: 128 clips x 8
frames), and in some frame of every clip (a frame without borrows its neighbour's box).

**Text evidence** (`sentences.py`): of the rows with a transcript, 60 % carry a sentence of
their own class (20 per class; every happy / sad / angry one holds a cue word of its class,
neutral ones are matter-of-fact logistics), 25 % one of 24 shared sentences that say nothing
about emotion, 15 % a sentence of one of the other three classes (sarcasm-like
contradiction). Over all rows: 51 % own, 21 % shared, 13 % contradicting, 15 % empty
(rounding within the small groups makes it 50 / 20 / 12.5 / 17.5 % at per_class 40). 30 %
of sentences start with a shared discourse marker ("Well, ...").

**Measured evidence** (`wavfusion.data.synthetic.evidence`: logistic regressions on simple features
of the decoded files, fit on train, scored on test; mean over seeds 0-2; accuracy / weighted
F1 over all test rows, a row without the modality counted as the majority class):

| per_class (train / test rows) | audio | video | text | concat | late fusion |
|---|---|---|---|---|---|
| 40 (100 / 40), accuracy | 0.675 | 0.575 | 0.542 | 0.667 | 0.733 |
| 40, weighted F1 | 0.671 | 0.574 | 0.537 | 0.667 | 0.739 |
| 40, accuracy on rows with the modality | 0.675 | 0.656 | 0.615 | | |
| 100 (256 / 96), accuracy | 0.681 | 0.604 | 0.569 | 0.781 | 0.854 |
| 100, weighted F1 | 0.680 | 0.597 | 0.570 | 0.783 | 0.856 |
| 100, accuracy on rows with the modality | 0.681 | 0.697 | 0.633 | | |

Chance is 0.25. Seed to seed, on 40 test rows, accuracies move by up to +-0.1 (audio
0.65-0.72, video 0.47-0.68, text 0.45-0.60, late fusion 0.70-0.78). `concat` is one
logistic regression on the concatenated features (12 audio, 288 video, ~210 words);
`late_fusion` multiplies the three single-modality classifiers' probabilities. With 100
training rows `concat` only matches audio (0.667 vs 0.675); with 256 it beats every single
modality (0.78 vs 0.68), and late fusion beats them at both sizes (+6 and +17 points over
the best one).
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
from wavfusion.data.synthetic import sentences
from wavfusion.data.synthetic.face import render_face, write_mp4
from wavfusion.data.synthetic.profiles import (
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
from wavfusion.data.synthetic.voice import synthesise

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


def _remove_stale_media(out: Path, written: set[str]) -> None:
    """Delete clips an earlier corpus left in `out/audio` and `out/video` (files named like
    ours, `spkNN_NNNN.wav` / `.mp4`, that this corpus did not write)."""
    for pattern in ("audio/spk*_*.wav", "video/spk*_*.mp4"):
        for path in out.glob(pattern):
            if path.relative_to(out).as_posix() not in written:
                path.unlink()


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
    `speakers` (>= 3) synthetic speakers split speaker-independently (`speaker_splits`;
    with `per_class` below `speakers` the last speakers, val and test, get no clips).
    The same arguments give byte-identical files. Clips of an earlier corpus in `out/audio`
    and `out/video` are replaced or deleted; other files in `out` are left alone."""
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
    _remove_stale_media(out, {cell for row in rows for cell in (row.audio, row.video) if cell})
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
