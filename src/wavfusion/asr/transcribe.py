"""Automatic transcripts with faster-whisper and the bundled Whisper tiny.en, cached on disk.

One ``WhisperModel`` per (folder, compute type, threads, workers) is loaded per process and
reused.

Clips of at most 30 s (one Whisper window) are decoded by CTranslate2's ``generate`` (the
model faster-whisper loaded), doing what ``WhisperModel.transcribe`` does for such a clip with
``without_timestamps=True, temperature=0, vad_filter=False``: the same prompt, suppressed
tokens, ``max_length`` and no-speech test (``no_speech_prob > 0.6`` and mean log-probability
``< -1`` gives ""). One difference: the *waveform* is zero-padded to 30 s before the log-mel,
as OpenAI's ``whisper`` does, where faster-whisper pads the finished log-mel with zeros: it
gets more RAVDESS clips right at the same cost (docs/data.md). Longer clips go through
``WhisperModel.transcribe`` (sliding 30-s windows). Digitally silent clips (peak below one
16-bit step) give "".

Beam 5 is the default: more clips right than greedy for about the same time (the 30-s
encoder pass dominates). Batching clips does not pay on CPU, so ``batch_size`` defaults to 1.
CTranslate2 spreads one clip over a second thread poorly, so clips go to ``workers`` threads
(default one per core) of one thread each. Files are decoded by the project's own PyAV
decoder.

Cache (:class:`TranscriptCache`): the key hashes the audio (resolved path + size + mtime,
or the samples' SHA-256 for arrays), the model (``model.bin`` path + size + mtime), the
language and the beam size, so re-runs are free and any change re-transcribes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from wavfusion.asr.cache import TranscriptCache, default_transcript_cache
from wavfusion.backbones.whisper_encoder import BUNDLED, bundled_whisper_folder
from wavfusion.backbones.whisper_features import CHUNK_SECONDS, HOP_LENGTH, SAMPLE_RATE
from wavfusion.data.media import load_audio

AudioInput = str | Path | np.ndarray
CACHE_FORMAT = "transcripts-v1"
WINDOW_SAMPLES = CHUNK_SECONDS * SAMPLE_RATE
WINDOW_FRAMES = WINDOW_SAMPLES // HOP_LENGTH
DEFAULT_BATCH_SIZE = 1  # see the module docstring
MAX_WORKERS = 4
DEFAULT_BEAM_SIZE = 5
FLUSH_EVERY = 50  # new transcripts between cache rewrites (an interrupted run keeps most)
NO_SPEECH_THRESHOLD = 0.6  # faster-whisper's defaults for "this window is silence"
LOG_PROB_THRESHOLD = -1.0
# Below one 16-bit step: digital silence. Whisper says "you" there (no-speech probability 0.95
# but a confident token), so it is not decoded at all.
SILENCE_PEAK = 1 / 32768


@dataclass(frozen=True)
class DecodingSettings:
    """Options that change the text (all of them are in the cache key)."""

    language: str = "en"
    beam_size: int = DEFAULT_BEAM_SIZE
    window_seconds: int = CHUNK_SECONDS  # shorter: see `decode_windows`

    def key_fields(self) -> list:
        """What of these settings goes into a cache key (the window only when not 30 s, so
        that the entries made before it existed stay valid)."""
        fields = [self.language, self.beam_size]
        return fields if self.window_seconds == CHUNK_SECONDS else [*fields, self.window_seconds]

    def transcribe_kwargs(self) -> dict:
        """For ``WhisperModel.transcribe`` (clips longer than 30 s)."""
        return {
            "language": self.language,
            "beam_size": self.beam_size,
            "temperature": 0.0,  # no sampling fallback: deterministic, so cacheable
            "without_timestamps": True,
            "vad_filter": False,
            "condition_on_previous_text": False,
        }


def asr_model_folder(folder: str | Path | None = None) -> Path:
    """The CTranslate2 Whisper folder to transcribe with: `folder`, or the bundled tiny.en
    for ``None``/``"bundled"``. FileNotFoundError naming it when it holds no ``model.bin``."""
    if folder is None or folder == BUNDLED:
        return bundled_whisper_folder()
    folder = Path(folder)
    if not (folder / "model.bin").is_file():
        raise FileNotFoundError(f"{folder}: not a CTranslate2 Whisper folder (no model.bin)")
    return folder


def default_workers() -> int:
    """One transcription worker per CPU core, at most MAX_WORKERS."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


@lru_cache(maxsize=2)
def whisper_model(folder: str, compute_type: str = "int8", cpu_threads: int = 1,
                  workers: int = 1):
    """The faster-whisper ``WhisperModel`` for a CTranslate2 folder, loaded once per process;
    `workers` clips can be decoded at once (from as many Python threads)."""
    import torch
    from faster_whisper import WhisperModel

    # CTranslate2 sets the OpenMP thread count of the thread that loads it (to cpu_threads):
    # without this, torch would run every later encoder and model call on that one thread.
    torch_threads = torch.get_num_threads()
    try:
        return WhisperModel(folder, device="cpu", compute_type=compute_type,
                            cpu_threads=cpu_threads, num_workers=workers)
    finally:
        torch.set_num_threads(torch_threads)


def _file_fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def audio_fingerprint(audio: AudioInput) -> str:
    """A file's path + size + mtime, or ``array:<sha256>`` of a float32 waveform."""
    if isinstance(audio, np.ndarray):
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        return f"array:{hashlib.sha256(samples.tobytes()).hexdigest()}"
    path = Path(audio)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: audio file not found")
    return _file_fingerprint(path)


def _load_audio(audio: AudioInput) -> np.ndarray:
    """``(samples,)`` float32 at 16 kHz; files are decoded as training decodes them (whole,
    silence allowed). Not faster-whisper's ``decode_audio``: the same samples, but it runs a
    full ``gc.collect()`` per file, ~0.2 s in a process holding torch and transformers."""
    if isinstance(audio, np.ndarray):
        if audio.ndim != 1:
            raise ValueError(f"expected a mono 16 kHz waveform (samples,), got {audio.shape}")
        return np.ascontiguousarray(audio, dtype=np.float32)
    return load_audio(audio, max_seconds=None, allow_silent=True)


def _tokenizer(model, language: str):
    from faster_whisper.tokenizer import Tokenizer

    if not model.model.is_multilingual and language != "en":
        raise ValueError(f"this Whisper model is English-only; language {language!r} asked")
    return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, "transcribe", language)


def window_samples(waveforms: list[np.ndarray], window_seconds: int) -> int:
    """The window the clips are padded to: `window_seconds`, or the longest clip rounded up
    to the second, at most 30 s."""
    longest = max(waveform.size for waveform in waveforms)
    seconds = max(window_seconds, -(-longest // SAMPLE_RATE))
    return min(seconds, CHUNK_SECONDS) * SAMPLE_RATE


def decode_windows(model, waveforms: list[np.ndarray], settings: DecodingSettings) -> list[str]:
    """Transcribe clips of at most 30 s with one ``generate`` call (see the module docstring).

    With ``settings.window_seconds`` under 30, clips are padded to that many seconds (or to
    their own length, rounded up to the second) instead of 30: the encoder's cost falls with
    the window (about 4x at 10 s). Whisper then decodes with timestamps, which are dropped
    from the text: without them it tends to repeat a short clip's sentence to fill a window
    shorter than the 30 s it was trained on.

    Args:
        model: a faster-whisper ``WhisperModel``.
        waveforms: ``(samples,)`` float32 16 kHz clips, ``samples <= 480000``.
    """
    from ctranslate2 import StorageView
    from faster_whisper.transcribe import get_suppressed_tokens

    tokenizer = _tokenizer(model, settings.language)
    samples = window_samples(waveforms, settings.window_seconds)
    frames = samples // HOP_LENGTH
    windows = np.zeros((len(waveforms), samples), np.float32)
    for row, waveform in enumerate(waveforms):
        windows[row, : waveform.size] = waveform
    features = np.stack([model.feature_extractor(w, padding=0)[:, :frames] for w in windows])
    timestamps = samples < WINDOW_SAMPLES
    prompt = [*tokenizer.sot_sequence] + ([] if timestamps else [tokenizer.no_timestamps])
    results = model.model.generate(
        StorageView.from_array(np.ascontiguousarray(features, dtype=np.float32)),
        [prompt] * len(waveforms),
        beam_size=settings.beam_size,
        max_length=model.max_length,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
    )
    texts = []
    for result in results:
        tokens = result.sequences_ids[0]  # decode() drops the timestamp tokens
        # The score is the mean log-probability of the len(tokens) tokens (length penalty 1);
        # faster-whisper's test averages over len + 1 (the end token counts). Timestamp
        # tokens, near-certain, would dilute it: their share of the sum goes to the text's
        # tokens (noise in a 10-s window: "You" at -0.96 over 4 tokens, -1.9 over its one).
        text_tokens = sum(token < tokenizer.eot for token in tokens)
        mean_log_prob = result.scores[0] * len(tokens) / (text_tokens + 1)
        silent = result.no_speech_prob > NO_SPEECH_THRESHOLD and mean_log_prob < LOG_PROB_THRESHOLD
        texts.append("" if silent else tokenizer.decode(tokens).strip())
    return texts


def _transcribe_batch(model, waveforms: list[np.ndarray], settings: DecodingSettings) -> list[str]:
    texts = {i: "" for i, w in enumerate(waveforms) if w.size == 0 or np.abs(w).max() < SILENCE_PEAK}
    short = [i for i, w in enumerate(waveforms) if i not in texts and w.size <= WINDOW_SAMPLES]
    if short:
        texts.update(zip(short, decode_windows(model, [waveforms[i] for i in short], settings)))
    for i in set(range(len(waveforms))) - set(texts):
        segments, _ = model.transcribe(waveforms[i], **settings.transcribe_kwargs())
        texts[i] = "".join(segment.text for segment in segments).strip()
    return [texts[i] for i in range(len(waveforms))]


def transcribe(
    paths_or_waveforms: Iterable[AudioInput],
    language: str = "en",
    *,
    beam_size: int = DEFAULT_BEAM_SIZE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    model_folder: str | Path | None = None,
    compute_type: str = "int8",
    workers: int = 0,
    cpu_threads: int = 1,
    cache_file: Path | None = None,
    use_cache: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    window_seconds: int = CHUNK_SECONDS,
) -> list[str]:
    """Transcribe audio files (any format PyAV decodes) or 16 kHz mono float32 waveforms.

    Args:
        paths_or_waveforms: file paths, or ``(samples,)`` float32 arrays at 16 kHz.
        language: spoken language; English-only models (tiny.en) accept only ``"en"``.
        beam_size: beams; 1 = greedy (see the module docstring for the default).
        batch_size: clips per decoder call (more may pay on a GPU, not on CPU).
        model_folder: a CTranslate2 Whisper folder; ``None``/``"bundled"`` = tiny.en.
        compute_type: CTranslate2 compute type; ``int8`` is the fast CPU choice.
        workers: clips transcribed at once, each on its own thread; 0 = one per CPU core,
            at most 4 (see the module docstring).
        cpu_threads: CTranslate2 threads per worker.
        cache_file: JSON-lines cache; default :func:`default_transcript_cache`.
        use_cache: read and write the cache.
        on_progress: called as ``on_progress(done, total)`` after each batch.
        window_seconds: the window clips are padded to (see `decode_windows`); 30 = Whisper's.

    Returns:
        One stripped transcript per input, in order ("" for silence).
    """
    items = list(paths_or_waveforms)
    folder = asr_model_folder(model_folder)
    model_id = _file_fingerprint(folder / "model.bin")
    settings = DecodingSettings(language=language, beam_size=beam_size,
                                window_seconds=window_seconds)
    cache = TranscriptCache(cache_file or default_transcript_cache()) if use_cache else None
    texts: list[str | None] = []
    pending: list[tuple[int, dict]] = []  # (position, cache entry without text)
    for position, audio in enumerate(items):
        audio_id = audio_fingerprint(audio)
        fields = [CACHE_FORMAT, audio_id, model_id, *settings.key_fields()]
        key = hashlib.sha256(json.dumps(fields).encode()).hexdigest()
        texts.append(cache.get(key) if cache else None)
        if texts[-1] is None:
            entry = {"key": key, "audio": audio_id, "model": model_id, "language": language,
                     "beam_size": beam_size, "window_seconds": window_seconds}
            pending.append((position, entry))
    batches = [pending[start : start + batch_size] for start in range(0, len(pending), batch_size)]
    workers = workers or default_workers()
    model = whisper_model(str(folder), compute_type, cpu_threads, workers) if batches else None

    def run(batch: list[tuple[int, dict]]) -> list[str]:
        waveforms = [_load_audio(items[position]) for position, _ in batch]
        return _transcribe_batch(model, waveforms, settings)

    done = len(items) - len(pending)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="transcribe")
    try:  # results come back in order; each is cached as it arrives
        for batch, batch_texts in zip(batches, pool.map(run, batches)):
            for (position, entry), text in zip(batch, batch_texts):
                texts[position] = text
                if cache:
                    cache.put({**entry, "text": text})
            if cache and cache.unsaved >= FLUSH_EVERY:
                cache.flush()
            done += len(batch)
            if on_progress:
                on_progress(done, len(items))
    finally:  # on an error (a bad file), the clips not yet started are not transcribed
        pool.shutdown(wait=True, cancel_futures=True)
        if cache:
            cache.flush()
    return texts
