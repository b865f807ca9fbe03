"""--transcribe: empty transcripts filled by the bundled Whisper, undecodable rows reported."""

from __future__ import annotations

import re

from wavfusion.data.manifest import ManifestRow
from wavfusion.data.transcripts import fill_missing_transcripts


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
