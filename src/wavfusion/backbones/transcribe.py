"""Automatic transcripts with faster-whisper and the bundled Whisper tiny.en, cached on disk.

One ``WhisperModel`` per (folder, compute type, threads) is loaded per process and reused.
Decoding is greedy by default, without timestamps, VAD or conditioning on previous text:
a clip of a few seconds is one 30-s window, and those options only cost time there.

Cache: a JSON-lines file, one ``{"key", "audio", "model", "language", "beam_size", "text"}``
object per line. ``key`` hashes the audio (resolved path + size + modification time, or the
samples' SHA-256 for arrays), the model (``model.bin`` path + size + mtime), the language and
the beam size, so re-runs are free and any change re-transcribes. The file is rewritten
atomically (temporary name, then ``os.replace``), merged with what other processes wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from wavfusion.backbones.conversion_cache import default_cache_dir
from wavfusion.backbones.errors import BackboneFormatError
from wavfusion.backbones.whisper_encoder import BUNDLED, bundled_whisper_folder
from wavfusion.backbones.whisper_features import SAMPLE_RATE

AudioInput = str | Path | np.ndarray
CACHE_FORMAT = "transcripts-v1"
FLUSH_EVERY = 50  # new transcripts between cache rewrites (an interrupted run keeps most)


@dataclass(frozen=True)
class DecodingSettings:
    """faster-whisper options that change the text (all of them are in the cache key)."""

    language: str = "en"
    beam_size: int = 1

    def transcribe_kwargs(self) -> dict:
        return {
            "language": self.language,
            "beam_size": self.beam_size,
            "temperature": 0.0,  # no sampling fallback: deterministic, so cacheable
            "without_timestamps": True,
            "vad_filter": False,
            "condition_on_previous_text": False,
        }


@lru_cache(maxsize=2)
def whisper_model(folder: str, compute_type: str = "int8", cpu_threads: int = 0):
    """The faster-whisper ``WhisperModel`` for a CTranslate2 folder, loaded once per process."""
    from faster_whisper import WhisperModel

    return WhisperModel(folder, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)


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


class TranscriptCache:
    """``key -> text`` backed by a JSON-lines file; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict] = self._read()
        self.unsaved = 0

    def _read(self) -> dict[str, dict]:
        if not self.path.is_file():
            return {}
        entries = {}
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            try:
                entry = json.loads(line)
                entries[entry["key"]] = entry
            except (ValueError, KeyError, TypeError) as error:
                raise BackboneFormatError(
                    self.path, f"line {number} is not a transcript entry ({error}); delete it"
                ) from None
        return entries

    def get(self, key: str) -> str | None:
        entry = self.entries.get(key)
        return None if entry is None else entry["text"]

    def put(self, entry: dict) -> None:
        self.entries[entry["key"]] = entry
        self.unsaved += 1

    def flush(self) -> None:
        """Merge with the file's current content and rewrite it atomically."""
        if not self.unsaved:
            return
        self.entries = {**self._read(), **self.entries}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w") as stream:
                stream.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in self.entries.values())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.unsaved = 0


def default_transcript_cache() -> Path:
    """``$WAVFUSION_CACHE/transcripts.jsonl`` (default ``~/.cache/wavfusion/``)."""
    return default_cache_dir().parent / "transcripts.jsonl"


def _load_audio(audio: AudioInput) -> np.ndarray:
    if isinstance(audio, np.ndarray):
        if audio.ndim != 1:
            raise ValueError(f"expected a mono 16 kHz waveform (samples,), got {audio.shape}")
        return np.ascontiguousarray(audio, dtype=np.float32)
    from faster_whisper import decode_audio

    return decode_audio(str(audio), sampling_rate=SAMPLE_RATE)


def transcribe(
    paths_or_waveforms: Iterable[AudioInput],
    language: str = "en",
    *,
    beam_size: int = 1,
    model_folder: str | Path | None = None,
    compute_type: str = "int8",
    cpu_threads: int = 0,
    cache_file: Path | None = None,
    use_cache: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Transcribe audio files (any format PyAV decodes) or 16 kHz mono float32 waveforms.

    Args:
        paths_or_waveforms: file paths, or ``(samples,)`` float32 arrays at 16 kHz.
        language: spoken language; English-only models (tiny.en) accept only ``"en"``.
        beam_size: 1 = greedy (default: on RAVDESS as accurate as 5 and faster).
        model_folder: a CTranslate2 Whisper folder; ``None``/``"bundled"`` = tiny.en.
        compute_type: CTranslate2 compute type; ``int8`` is the fast CPU choice.
        cpu_threads: 0 = CTranslate2's default (all cores).
        cache_file: JSON-lines cache; default :func:`default_transcript_cache`.
        use_cache: read and write the cache.
        on_progress: called as ``on_progress(done, total)`` after each item.

    Returns:
        One stripped transcript per input, in order ("" for silence).
    """
    items = list(paths_or_waveforms)
    if model_folder is None or model_folder == BUNDLED:
        folder = bundled_whisper_folder()
    else:
        folder = Path(model_folder)
    model_id = _file_fingerprint(folder / "model.bin")
    settings = DecodingSettings(language=language, beam_size=beam_size)
    cache = TranscriptCache(cache_file or default_transcript_cache()) if use_cache else None
    texts: list[str] = []
    try:
        for done, audio in enumerate(items, start=1):
            audio_id = audio_fingerprint(audio)
            fields = [CACHE_FORMAT, audio_id, model_id, settings.language, settings.beam_size]
            key = hashlib.sha256(json.dumps(fields).encode()).hexdigest()
            text = cache.get(key) if cache else None
            if text is None:
                model = whisper_model(str(folder), compute_type, cpu_threads)
                segments, _ = model.transcribe(_load_audio(audio), **settings.transcribe_kwargs())
                text = "".join(segment.text for segment in segments).strip()
                if cache:
                    cache.put({"key": key, "audio": audio_id, "model": model_id,
                               "language": language, "beam_size": beam_size, "text": text})
                    if cache.unsaved >= FLUSH_EVERY:
                        cache.flush()
            texts.append(text)
            if on_progress:
                on_progress(done, len(items))
    finally:
        if cache:
            cache.flush()
    return texts
