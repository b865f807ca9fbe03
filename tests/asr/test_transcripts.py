"""--transcribe: empty transcripts filled by the bundled Whisper, undecodable rows reported."""

from __future__ import annotations

import re

import wavfusion.asr.transcribe as transcribe_module
from wavfusion.asr.transcripts import fill_missing_transcripts
from wavfusion.backbones.whisper_encoder import bundled_whisper_folder
from wavfusion.cli import main
from wavfusion.data.manifest import ManifestRow


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z]+", text.lower()))


def test_empty_transcripts_are_filled_and_bad_audio_is_reported(shared_data, tmp_path):
    clip = shared_data / "ravdess-speech-16k" / "Actor_01" / "03-01-05-01-01-01-01.flac"
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00")
    rows = [
        ManifestRow(id="kids", audio=str(clip), label="angry"),
        ManifestRow(id="given", audio=str(clip), text="already here", label="angry"),
        ManifestRow(id="broken", audio=str(broken), label="angry"),
    ]
    filled, problems = fill_missing_transcripts(rows, tmp_path / "manifest.csv", progress=False)
    assert filled == 1
    assert _words(rows[0].text) == "kids are talking by the door"
    assert rows[0].extra["text_source"] == "asr"
    assert rows[1].text == "already here" and "text_source" not in rows[1].extra
    assert rows[2].text == ""
    assert [p.item for p in problems] == ["broken"] and "broken.wav" in problems[0].reason


def test_asr_model_folder_is_used_and_a_wrong_one_is_named(shared_data, tmp_path, monkeypatch,
                                                          capsys):
    """--asr-model: the given CTranslate2 Whisper transcribes (here a copy of the bundled
    one, by path); a folder without model.bin is refused before the release is read."""
    clip = shared_data / "ravdess-speech-16k" / "Actor_01" / "03-01-05-01-01-01-01.flac"
    asked = []
    real = transcribe_module.transcribe

    def recording(items, **options):
        asked.append(options["model_folder"])
        return real(items, **options)

    monkeypatch.setattr(transcribe_module, "transcribe", recording)
    monkeypatch.setenv("WAVFUSION_CACHE", str(tmp_path / "cache"))
    rows = [ManifestRow(id="kids", audio=str(clip), label="angry")]
    folder = bundled_whisper_folder()
    assert fill_missing_transcripts(rows, tmp_path / "m.csv", progress=False,
                                    model_folder=folder)[0] == 1
    assert asked == [folder] and _words(rows[0].text) == "kids are talking by the door"

    out = tmp_path / "r.csv"
    code = main(["data", "prepare", "ravdess", "--root", str(clip.parent), "--out", str(out),
                 "--transcribe", "--asr-model", str(tmp_path)])
    assert code == 1 and not out.exists()
    assert f"{tmp_path}: not a CTranslate2 Whisper folder (no model.bin)" in capsys.readouterr().out
