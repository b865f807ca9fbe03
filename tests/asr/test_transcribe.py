"""Automatic transcripts: the cache (with a stand-in model) and the bundled tiny.en on RAVDESS."""

from __future__ import annotations

import os
import re
import time
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import wavfusion.asr.transcribe as transcribe_module
from tests.backbones.conftest import require_package, speech_like
from wavfusion.asr.transcribe import DecodingSettings, transcribe
from wavfusion.backbones.errors import BackboneFormatError
from wavfusion.data.errors import MediaError

RAVDESS_STATEMENTS = {"01": "kids are talking by the door", "02": "dogs are sitting by the door"}
# The bundled tiny.en (int8, beam 5) matches 93.2-93.4 % of the 1200 clips (docs/data.md,
# "Automatic transcripts"); the floor leaves room for int8 kernels that differ across CPUs.
RAVDESS_MATCH_FLOOR = 0.90
SAMPLE_EVERY = 4  # 300 of the 1200 clips


def words(text: str) -> list[str]:
    """Lower case, punctuation dropped: "Kids are talking by the door." -> 5 words."""
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).replace("'", "").split()


def write_wav(path: Path, waveform: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(16_000)
        stream.writeframes((np.clip(waveform, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture()
def stand_in(monkeypatch, tiny_ct2_folder):
    """Replaces faster-whisper's decoding by one that records what it was asked."""
    calls = []

    def decode(model, waveforms, settings):
        calls.extend(settings for _ in waveforms)
        return [f"{waveform.size} samples, ok" for waveform in waveforms]

    monkeypatch.setattr(transcribe_module, "whisper_model", lambda *args: None)
    monkeypatch.setattr(transcribe_module, "_transcribe_batch", decode)
    return SimpleNamespace(calls=calls, folder=tiny_ct2_folder)


def test_rerun_is_served_from_the_cache(tmp_path, stand_in):
    clips = [write_wav(tmp_path / f"{i}.wav", speech_like(0.5 + i / 10, seed=i)) for i in range(3)]
    cache_file = tmp_path / "cache" / "transcripts.jsonl"

    def run(items, **options):
        return transcribe(items, model_folder=stand_in.folder, cache_file=cache_file, **options)

    first = run(clips)
    assert first == ["8000 samples, ok", "9600 samples, ok", "11200 samples, ok"]
    assert len(stand_in.calls) == 3 and stand_in.calls[0].beam_size == 5
    assert run(clips) == first and len(stand_in.calls) == 3
    assert [p.name for p in cache_file.parent.iterdir()] == ["transcripts.jsonl"]  # no temporary

    run(clips[:1], beam_size=1)
    stat = clips[1].stat()
    os.utime(clips[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    run(clips[1:2])
    assert len(stand_in.calls) == 5  # new beam size, then a touched file: transcribed again


def test_parallel_workers_keep_the_order_and_report_progress(tmp_path, monkeypatch, stand_in):
    delays = iter(np.random.default_rng(0).uniform(0, 0.02, 12))

    def slow_decode(model, waveforms, settings):  # finishes out of order
        time.sleep(next(delays))
        return [f"{waveform.size}" for waveform in waveforms]

    monkeypatch.setattr(transcribe_module, "_transcribe_batch", slow_decode)
    waveforms = [speech_like(0.1 + i / 100, seed=i) for i in range(12)]
    progress = []
    texts = transcribe(waveforms, model_folder=stand_in.folder, workers=3, use_cache=False,
                       on_progress=lambda done, total: progress.append((done, total)))
    assert texts == [str(w.size) for w in waveforms]
    assert progress == [(done, 12) for done in range(1, 13)]


def test_a_corrupt_file_is_named_and_the_clips_before_it_stay_cached(tmp_path, stand_in):
    clips = [write_wav(tmp_path / f"{i}.wav", speech_like(0.3, seed=i)) for i in range(2)]
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF not really a wave file")
    cache_file = tmp_path / "t.jsonl"
    with pytest.raises(MediaError, match="corrupt.wav"):
        transcribe([*clips, corrupt], model_folder=stand_in.folder, cache_file=cache_file,
                   workers=1)
    assert len(transcribe_module.TranscriptCache(cache_file).entries) == 2


def test_waveforms_are_keyed_by_content(tmp_path, stand_in):
    cache_file = tmp_path / "transcripts.jsonl"
    waveform = speech_like(0.4)
    for _ in range(2):
        transcribe([waveform], model_folder=stand_in.folder, cache_file=cache_file)
    transcribe([waveform * 0.5], model_folder=stand_in.folder, cache_file=cache_file)
    assert len(stand_in.calls) == 2


def test_concurrent_writers_keep_each_others_entries(tmp_path, stand_in):
    cache_file = tmp_path / "transcripts.jsonl"
    other = transcribe_module.TranscriptCache(cache_file)  # opened before the run below
    transcribe([speech_like(0.3)], model_folder=stand_in.folder, cache_file=cache_file)
    other.put({"key": "elsewhere", "text": "from another process"})
    other.flush()
    assert len(transcribe_module.TranscriptCache(cache_file).entries) == 2


def test_no_cache_means_no_file(tmp_path, stand_in):
    transcribe([speech_like(0.3)], model_folder=stand_in.folder,
               cache_file=tmp_path / "t.jsonl", use_cache=False)
    assert not (tmp_path / "t.jsonl").exists()


def test_bad_inputs_are_named(tmp_path, stand_in):
    with pytest.raises(FileNotFoundError, match="absent.wav: audio file not found"):
        transcribe([tmp_path / "absent.wav"], model_folder=stand_in.folder, use_cache=False)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text('{"key": "a", "text": "fine"}\nnot json\n')
    with pytest.raises(BackboneFormatError, match="line 2 is not a transcript entry") as error:
        transcribe([speech_like(0.3)], model_folder=stand_in.folder, cache_file=damaged)
    assert error.value.path == damaged


def test_clips_over_30s_take_faster_whispers_sliding_windows(monkeypatch):
    monkeypatch.setattr(transcribe_module, "decode_windows",
                        lambda model, waveforms, settings: [f"short {w.size}" for w in waveforms])
    long_calls = []

    class Model:
        def transcribe(self, waveform, **options):
            long_calls.append(options)
            return iter([SimpleNamespace(text=" long"), SimpleNamespace(text=f" {waveform.size} ")]), None

    sizes = [16_000, 30 * 16_000 + 1, 30 * 16_000]
    waveforms = [np.full(n, 0.1, np.float32) for n in sizes] + [np.zeros(9, np.float32)]
    texts = transcribe_module._transcribe_batch(Model(), waveforms, transcribe_module.DecodingSettings())
    assert texts == ["short 16000", "long 480001", "short 480000", ""]  # "": digital silence
    assert long_calls[0]["without_timestamps"] and not long_calls[0]["vad_filter"]


def ravdess_clips(shared_data: Path) -> list[Path]:
    folder = shared_data / "ravdess-speech-16k"
    clips = sorted(folder.glob("Actor_*/03-01-*.flac"))
    if len(clips) != 1200:
        pytest.fail(f"{folder}: expected 1200 RAVDESS speech clips, found {len(clips)}")
    return clips


def test_short_windows_fit_the_clip_and_are_cached_apart(tmp_path, stand_in):
    seconds = [np.zeros(round(s * 16_000), np.float32) for s in (5.0, 12.3, 30.0)]
    assert [transcribe_module.window_samples([w], 10) for w in seconds] == [
        160_000, 208_000, 480_000]  # 10 s, or the clip rounded up to the second; 30 s at most
    assert transcribe_module.window_samples(seconds[:1], 30) == 480_000
    assert DecodingSettings().key_fields() == ["en", 5]  # the keys made before windows existed
    clip = [write_wav(tmp_path / "a.wav", speech_like(1.0, seed=0))]
    cache_file = tmp_path / "t.jsonl"
    transcribe(clip, model_folder=stand_in.folder, cache_file=cache_file, window_seconds=10)
    transcribe(clip, model_folder=stand_in.folder, cache_file=cache_file, window_seconds=10)
    transcribe(clip, model_folder=stand_in.folder, cache_file=cache_file)
    assert [call.window_seconds for call in stand_in.calls] == [10, 30]


def statement(clip: Path) -> str:
    return RAVDESS_STATEMENTS[clip.stem.split("-")[4]]


@pytest.mark.real_data
def test_bundled_model_transcribes_one_ravdess_clip(shared_data, tmp_path):
    require_package("faster_whisper")
    clip = shared_data / "ravdess-speech-16k" / "Actor_01" / "03-01-01-01-01-01-01.flac"
    (text,) = transcribe([clip], cache_file=tmp_path / "t.jsonl")
    assert words(text) == words(statement(clip))
    (short,) = transcribe([clip], cache_file=tmp_path / "t.jsonl", window_seconds=10)
    assert words(short) == words(statement(clip))  # timestamps dropped, no repeated sentence


def test_silence_and_noise_give_empty_transcripts(tmp_path, bundled_folder):
    require_package("faster_whisper")
    noise = 0.01 * np.random.default_rng(0).standard_normal(3 * 16_000).astype(np.float32)
    silence = np.zeros(3 * 16_000, np.float32)
    # Digital silence is skipped; noise is decoded, then dropped by the no-speech test.
    assert transcribe([silence, noise], cache_file=tmp_path / "t.jsonl") == ["", ""]
    assert transcribe([silence, noise], cache_file=tmp_path / "t.jsonl",
                      window_seconds=10) == ["", ""]


@pytest.fixture(scope="module")
def ravdess_transcripts(shared_data, tmp_path_factory) -> tuple[list[Path], list[str]]:
    """Every SAMPLE_EVERY-th of the 1200 clips (all actors and statements) transcribed once
    (fresh cache) with the defaults; prints the cost. The whole set took about 14 minutes of
    the suite on 2 loaded cores: its figure belongs in docs/data.md, not in a timed test."""
    require_package("faster_whisper")
    clips = ravdess_clips(shared_data)[::SAMPLE_EVERY]
    cache_file = tmp_path_factory.mktemp("transcripts") / "t.jsonl"
    start = time.perf_counter()
    texts = transcribe(clips, cache_file=cache_file)
    print(f"\nRAVDESS: {(time.perf_counter() - start) / len(clips):.3f} s/clip")
    return clips, texts


def match_rate(clips: list[Path], texts: list[str]) -> float:
    misses = [(c.name, t) for c, t in zip(clips, texts) if words(t) != words(statement(c))]
    print(f"RAVDESS: {1 - len(misses) / len(clips):.2%} match; misses, e.g. {misses[:12]}")
    return 1 - len(misses) / len(clips)


@pytest.mark.slow
@pytest.mark.real_data
def test_ravdess_transcripts_match_the_statement(ravdess_transcripts):
    assert match_rate(*ravdess_transcripts) >= RAVDESS_MATCH_FLOOR


def test_loading_whisper_leaves_torch_its_threads():
    require_package("faster_whisper")
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        transcribe_module.whisper_model.cache_clear()
        transcribe_module.whisper_model(str(transcribe_module.asr_model_folder()), "int8", 1, 1)
        assert torch.get_num_threads() == 2  # CTranslate2 would have left 1
    finally:
        transcribe_module.whisper_model.cache_clear()
        torch.set_num_threads(before)
