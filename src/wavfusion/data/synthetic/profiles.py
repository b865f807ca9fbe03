"""Every number that shapes the demo corpus: per-emotion voice and face styles, speakers, and
the mix of transcripts. The generator draws each clip's parameters from these.

Every clip draws its voice and face parameters from a normal distribution around its
emotion's mean (`Parameter`), with one standard deviation shared by all emotions, so the
classes overlap in every single parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from wavfusion.data.datasets.labels import LABEL_SETS

# the four classes of the usual IEMOCAP protocol: neutral, happy, sad, angry
DEMO_LABELS: tuple[str, ...] = LABEL_SETS["iemocap4"]


@dataclass(frozen=True)
class Parameter:
    """A clip-level parameter: each clip draws it from N(mean of its emotion, sd), clipped to
    `[low, high]`. One sd for every emotion, so neighbouring means overlap by design."""

    meaning: str
    means: tuple[float, float, float, float]  # neutral, happy, sad, angry (DEMO_LABELS order)
    sd: float
    low: float = -np.inf
    high: float = np.inf

    def draw(self, label: str, rng: np.random.Generator) -> float:
        mean = self.means[DEMO_LABELS.index(label)]
        return float(np.clip(rng.normal(mean, self.sd), self.low, self.high))


# Prosody and voice quality, relative to the speaker's own voice.
VOICE_PARAMETERS: dict[str, Parameter] = {
    "pitch_shift": Parameter(
        "semitones above the speaker's base pitch", (0.0, 3.0, -1.5, 2.0), 2.0
    ),
    "pitch_range": Parameter(
        "semitones, sd of the per-syllable pitch accents", (1.6, 3.4, 1.0, 2.8), 0.9, 0.3
    ),
    "loudness": Parameter("dB re -28 dBFS RMS of voiced speech", (0.0, 2.5, -4.0, 5.0), 3.0),
    "rate": Parameter("syllables per second", (4.2, 4.8, 3.4, 5.0), 0.7, 2.0),
    "tilt": Parameter(
        "source spectral tilt, dB/octave (higher = tense voice)", (-7.0, -5.5, -9.5, -3.0), 2.0
    ),
    "breathiness": Parameter(
        "aspiration noise / pulse ratio", (0.08, 0.08, 0.20, 0.05), 0.05, 0.0, 0.5
    ),
    "jitter": Parameter(
        "period perturbation (shimmer is 3x)", (0.010, 0.010, 0.015, 0.018), 0.004, 0.002
    ),
}

# Facial expression; 0 (1 for eye_open) is the neutral pose of each parameter.
FACE_PARAMETERS: dict[str, Parameter] = {
    "brow_raise": Parameter("brow height, eye heights", (0.0, 0.3, 0.15, -0.45), 0.35),
    "brow_tilt": Parameter(
        "degrees, + inner ends up (sad), - down (frown)", (0.0, 0.0, 13.0, -15.0), 7.0
    ),
    "eye_open": Parameter("eye opening, 1 = neutral", (1.0, 0.85, 0.72, 1.2), 0.15, 0.3, 1.5),
    "smile": Parameter(
        "mouth-corner lift, mouth half-widths (- frown)", (0.0, 0.38, -0.25, -0.12), 0.15
    ),
    "mouth_open": Parameter(
        "jaw opening while the voice is active", (0.25, 0.55, 0.15, 0.50), 0.15, 0.0, 1.0
    ),
}


def parameter_table(parameters: dict[str, Parameter]) -> str:
    """A markdown table of `parameters`: per-class means, the shared sd, and, in sds, how far
    apart the extreme class means lie and the closest two (0: it cannot tell those apart)."""
    lines = [
        f"| parameter | {' | '.join(DEMO_LABELS)} | sd | span / sd | closest / sd |",
        "|---" * (len(DEMO_LABELS) + 4) + "|",
    ]
    for name, parameter in parameters.items():
        means = sorted(parameter.means)
        span = (means[-1] - means[0]) / parameter.sd
        closest = min(high - low for low, high in pairwise(means)) / parameter.sd
        cells = " | ".join(f"{mean:g}" for mean in parameter.means)
        lines.append(
            f"| `{name}`: {parameter.meaning} | {cells} | {parameter.sd:g} | {span:.1f} "
            f"| {closest:.1f} |"
        )
    return "\n".join(lines)


def draw(
    parameters: dict[str, Parameter], label: str, rng: np.random.Generator
) -> dict[str, float]:
    """One clip's values of `parameters` (VOICE_ or FACE_PARAMETERS) for emotion `label`,
    drawn in order with `rng`."""
    return {name: parameter.draw(label, rng) for name, parameter in parameters.items()}


DEMO_REFERENCE_RMS = 0.04  # RMS (full scale 1) of voiced speech at loudness 0 dB, -28 dBFS


@dataclass(frozen=True)
class Speaker:
    """A synthetic speaker: base pitch (Hz), vocal-tract scale (formants × scale), face look."""

    name: str
    base_pitch: float
    formant_scale: float
    skin: tuple[int, int, int]  # RGB
    hair: tuple[int, int, int]  # RGB
    face_width: float  # head ellipse width relative to the average head


# skin tones light to medium-dark; darker ones are left out because OpenCV's Haar cascade
# misses most of them in these drawings (face crops would fall back to whole frames)
SKINS = ((240, 205, 180), (232, 190, 160), (198, 150, 120), (160, 110, 80), (140, 95, 70))
HAIRS = ((50, 35, 30), (110, 70, 40), (30, 30, 30), (150, 120, 70), (80, 60, 50))
FEMALE_PITCH, MALE_PITCH = (175.0, 235.0), (95.0, 135.0)  # base pitch ranges, Hz
FEMALE_FORMANTS, MALE_FORMANTS = (1.12, 1.20), (0.96, 1.04)  # vocal-tract scale ranges


def make_speakers(count: int, seed: int) -> list[Speaker]:
    """`count` speakers alternating female-like (base pitch 175-235 Hz, formants x 1.12-1.20)
    and male-like (95-135 Hz, formants x 0.96-1.04). Skin tones go round SKINS from a
    seed-dependent start (so every split gets a mix); hair colour and head width are random."""
    rng = np.random.default_rng([seed, 7919])
    first_skin = int(rng.integers(len(SKINS)))
    speakers = []
    for index in range(count):
        female = index % 2 == 0
        pitch = rng.uniform(*(FEMALE_PITCH if female else MALE_PITCH))
        formants = rng.uniform(*(FEMALE_FORMANTS if female else MALE_FORMANTS))
        speakers.append(
            Speaker(
                name=f"spk{index + 1:02d}",
                base_pitch=float(pitch),
                formant_scale=float(formants),
                skin=SKINS[(first_skin + index) % len(SKINS)],
                hair=HAIRS[int(rng.integers(len(HAIRS)))],
                face_width=float(rng.uniform(0.92, 1.08)),
            )
        )
    return speakers


# How the transcripts of rows that have one are chosen (fractions of those rows).
TEXT_MIX = {
    "own": 0.60,  # a sentence that carries the row's emotion
    "shared": 0.25,  # an uninformative sentence, drawn for any emotion
    "contradicting": 0.15,  # a sentence of another emotion (sarcasm-like)
}
AUDIO_IN_VIDEO_FRACTION = 0.1  # rows with video whose audio is only the MP4's track

FRAME_SIZE = 128  # video frames are FRAME_SIZE x FRAME_SIZE pixels
FPS = 12
