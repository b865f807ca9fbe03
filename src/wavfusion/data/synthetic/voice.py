"""Synthesised voiced "speech": a source-filter model, vectorised in numpy.

Source: a glottal pulse train whose pitch follows a per-syllable accent contour with a final
fall, plus jitter (period perturbation), shimmer (pulse amplitude perturbation) and aspiration
noise (breathiness). Filter: four formants of a vowel per syllable (five vowel sets, scaled by
the speaker's vocal-tract size, glided between syllables) and a spectral tilt (tense vs
breathy voice), applied frame by frame in the STFT domain. A syllable-rate amplitude envelope
with pauses and short unvoiced consonant bursts makes it sound like babble at a speaking rate.

    params = draw(VOICE_PARAMETERS, "angry", rng)  # one clip's prosody (see profiles.py)
    utterance = synthesise(params, speaker, 2.0, rng)
    utterance.samples                              # (32000,) float32 at 16 kHz
    utterance.activity(times)                      # (len(times),) 0..1 voicing, for lip sync
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wavfusion.data.media import SAMPLE_RATE
from wavfusion.data.synthetic.profiles import DEMO_REFERENCE_RMS, Speaker

# F1-F4 (Hz) of an average adult male vowel; a speaker scales them by `formant_scale`
VOWELS = np.array(
    [
        [730, 1090, 2440, 3400],  # a
        [530, 1840, 2480, 3500],  # e
        [270, 2290, 3010, 3600],  # i
        [570, 840, 2410, 3300],  # o
        [300, 870, 2240, 3300],  # u
    ],
    dtype=np.float64,
)
BANDWIDTHS = np.array([80.0, 100.0, 150.0, 220.0])  # formant bandwidths (Hz), clean voice
WINDOW, HOP, NFFT = 512, 128, 1024  # STFT filtering: 32 ms Hann frames every 8 ms
PAUSE_PROBABILITY = 0.12  # chance of a short pause after a syllable
CONSONANT_PROBABILITY = 0.6  # chance that a syllable starts with an unvoiced burst
CONSONANT_LEVEL = 0.6  # burst RMS relative to the vowels' RMS
BACKGROUND_RMS = 0.0015  # room noise added to every clip (about -56 dBFS)


@dataclass
class Utterance:
    """A synthesised clip: `samples` `(n,)` float32 at 16 kHz, and its voicing envelope."""

    samples: np.ndarray
    envelope: np.ndarray  # (ceil(n / HOP),) voicing envelope 0..1, one value per 8 ms

    def activity(self, times: np.ndarray) -> np.ndarray:
        """Voicing envelope (0..1) at `times` seconds, e.g. to open a drawn mouth in sync."""
        grid = np.arange(self.envelope.size) * HOP / SAMPLE_RATE
        return np.interp(times, grid, self.envelope)


@dataclass
class _Syllable:
    start: float  # seconds
    end: float
    vowel: int
    accent: float  # semitones
    gain: float  # linear amplitude factor
    consonant: float  # seconds of unvoiced burst at the start (0 = none)


def _syllables(params: dict[str, float], seconds: float, rng) -> list[_Syllable]:
    """Syllables laid out at the clip's speaking rate, with pauses, until the clip ends."""
    syllables: list[_Syllable] = []
    time = rng.uniform(0.05, 0.15)
    while True:
        length = rng.uniform(0.75, 1.25) / params["rate"]
        if time + length > seconds - 0.06:
            break
        accent = rng.normal(0.0, params["pitch_range"])
        gain = 10 ** (rng.normal(0.0, 1.5) / 20) * (1 + 0.04 * accent)  # accents are louder
        consonant = rng.uniform(0.02, 0.05) if rng.random() < CONSONANT_PROBABILITY else 0.0
        syllables.append(
            _Syllable(time, time + length, int(rng.integers(len(VOWELS))), accent, gain, consonant)
        )
        time += length
        if rng.random() < PAUSE_PROBABILITY:
            time += rng.uniform(0.08, 0.25)
    if not syllables:  # a very short clip still says one syllable
        syllables.append(_Syllable(0.05, seconds - 0.05, 0, 0.0, 1.0, 0.0))
    return syllables


def _envelopes(syllables: list[_Syllable], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Voiced and unvoiced (consonant) amplitude envelopes, `(n,)` each."""
    voiced, unvoiced = np.zeros(n), np.zeros(n)
    for syllable in syllables:
        first = int(syllable.start * SAMPLE_RATE)
        vowel_start = int((syllable.start + syllable.consonant) * SAMPLE_RATE)
        last = min(n, int(syllable.end * SAMPLE_RATE))
        if last - vowel_start > 2:
            x = np.linspace(0.0, 1.0, last - vowel_start)
            voiced[vowel_start:last] += syllable.gain * np.sin(np.pi * x) ** 0.6
        if vowel_start - first > 2:
            x = np.linspace(0.0, 1.0, vowel_start - first)
            unvoiced[first:vowel_start] += 0.5 * syllable.gain * np.sin(np.pi * x)
    return voiced, unvoiced


def _pitch(params, speaker: Speaker, syllables, n: int, rng) -> np.ndarray:
    """Pitch contour `(n,)` in Hz: accents interpolated between syllable centres, a final
    fall, jitter every 2.5 ms."""
    seconds = n / SAMPLE_RATE
    centres = np.array([(s.start + s.end) / 2 for s in syllables])
    accents = np.array([s.accent for s in syllables])
    times = np.arange(n) / SAMPLE_RATE
    contour = np.interp(times, centres, accents)
    contour += np.interp(times, [0.0, 0.7 * seconds, seconds], [0.8, 0.0, -2.0])  # declination
    step = SAMPLE_RATE // 400
    jitter = rng.normal(0.0, params["jitter"], n // step + 1)
    semitones = params["pitch_shift"] + contour
    return speaker.base_pitch * 2 ** (semitones / 12) * (1 + np.repeat(jitter, step)[:n])


def _pulses(f0: np.ndarray, voiced: np.ndarray, params, rng) -> np.ndarray:
    """Glottal excitation `(n,)`: one impulse per pitch period, shimmered, scaled by `voiced`."""
    phase = np.cumsum(f0) / SAMPLE_RATE
    at = np.flatnonzero(np.diff(np.floor(phase), prepend=0.0) > 0)
    excitation = np.zeros(f0.size)
    shimmer = 1 + rng.normal(0.0, 3 * params["jitter"], at.size)
    excitation[at] = voiced[at] * shimmer
    return excitation


def _filter_envelopes(params, speaker, syllables, frames: int) -> np.ndarray:
    """Spectral envelope per STFT frame, `(frames, NFFT // 2 + 1)`: the product of four
    formant resonances (gain 1 at 0 Hz) times the source tilt."""
    times = np.arange(frames) * HOP / SAMPLE_RATE
    centres = np.array([(s.start + s.end) / 2 for s in syllables])
    targets = VOWELS[[s.vowel for s in syllables]] * speaker.formant_scale  # (syllables, 4)
    formants = np.stack([np.interp(times, centres, targets[:, i]) for i in range(4)], axis=1)
    bandwidths = BANDWIDTHS * (1 + 2 * params["breathiness"])  # breathy voice: damped formants
    freqs = np.fft.rfftfreq(NFFT, 1 / SAMPLE_RATE)[None, :, None]  # (1, bins, 1)
    f2 = formants[:, None, :] ** 2  # (frames, 1, 4)
    resonance = f2 / np.sqrt((f2 - freqs**2) ** 2 + (bandwidths * freqs) ** 2)
    tilt = (np.maximum(freqs[0, :, 0], 100.0) / 100.0) ** (params["tilt"] / 6.02)
    highpass = freqs[0, :, 0] ** 2 / (freqs[0, :, 0] ** 2 + 70.0**2)
    return resonance.prod(axis=2) * tilt * highpass


def _stft_filter(signal: np.ndarray, envelopes: np.ndarray) -> np.ndarray:
    """Filter `signal` `(n,)` with a spectral envelope per frame (overlap-add of zero-padded,
    Hann-windowed frames; the windows at 75 % overlap sum to 2)."""
    n = signal.size
    padded = np.pad(signal, (WINDOW // 2, WINDOW + HOP))
    frames = np.lib.stride_tricks.sliding_window_view(padded, WINDOW)[::HOP]
    frames = frames[: envelopes.shape[0]] * np.hanning(WINDOW + 1)[:-1]
    filtered = np.fft.irfft(np.fft.rfft(frames, NFFT) * envelopes, NFFT)  # (frames, NFFT)
    count, blocks = filtered.shape[0], NFFT // HOP
    out = np.zeros((count + blocks, HOP))
    pieces = filtered.reshape(count, blocks, HOP)
    for block in range(blocks):
        out[block : block + count] += pieces[:, block]
    return out.reshape(-1)[WINDOW // 2 : WINDOW // 2 + n] / 2.0


def synthesise(
    params: dict[str, float], speaker: Speaker, seconds: float, rng: np.random.Generator
) -> Utterance:
    """One clip of `seconds` of speech-like sound in the voice of `speaker` with the prosody
    `params` (the fields of `profiles.VOICE_PARAMETERS`, drawn for this clip)."""
    n = round(seconds * SAMPLE_RATE)
    syllables = _syllables(params, seconds, rng)
    voiced, unvoiced = _envelopes(syllables, n)
    f0 = _pitch(params, speaker, syllables, n, rng)
    pulse_level = np.sqrt(f0 / SAMPLE_RATE)  # RMS of a unit impulse train at f0
    source = _pulses(f0, voiced, params, rng)
    source += params["breathiness"] * pulse_level * voiced * rng.standard_normal(n)
    envelopes = _filter_envelopes(params, speaker, syllables, n // HOP + 1)
    speech = _stft_filter(source, envelopes)
    active = voiced > 0.1
    level = max(np.sqrt(np.mean(speech[active] ** 2)) if active.any() else 0.0, 1e-9)
    hiss = np.diff(rng.standard_normal(n + 1)) / np.sqrt(2)  # high-passed white noise
    speech += CONSONANT_LEVEL * level * unvoiced * hiss
    speech *= DEMO_REFERENCE_RMS * 10 ** (params["loudness"] / 20) / level
    speech += BACKGROUND_RMS * rng.standard_normal(n)
    peak = np.abs(speech).max()
    if peak > 0.95:  # a very loud clip saturates softly instead of wrapping around
        speech = 0.95 * np.tanh(speech / 0.95)
    envelope = np.minimum(1.0, voiced[::HOP] / max(voiced.max(), 1e-9))
    return Utterance(speech.astype(np.float32), envelope)
