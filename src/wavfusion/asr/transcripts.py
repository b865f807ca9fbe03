"""Fill empty transcripts with automatic ones (faster-whisper with the bundled tiny.en).

Used by `wavfusion data prepare ... --transcribe` (and by prediction). A row whose audio
cannot be decoded keeps its empty transcript and is reported; nothing else is lost.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wavfusion.data.errors import DataError, Problem
from wavfusion.data.manifest import Manifest, ManifestRow

TRANSCRIPT_SOURCE_COLUMN = "text_source"  # "asr" where the transcript was generated
CHUNK = 32  # clips decoded and transcribed together


def add_transcribe_options(parser: argparse.ArgumentParser, fills: str) -> None:
    """--transcribe, --language and --asr-model (`data prepare` and `predict` share them)."""
    parser.add_argument("--transcribe", action="store_true",
                        help=f"fill {fills} with automatic ones (Whisper via faster-whisper; "
                        "cached)")
    parser.add_argument("--language", default="en", help="spoken language for --transcribe")
    parser.add_argument("--asr-model", type=Path, metavar="FOLDER",
                        help="a CTranslate2 Whisper folder for --transcribe (default: the "
                        "bundled tiny.en)")


def fill_missing_transcripts(
    rows: list[ManifestRow], manifest_path: Path, language: str = "en", progress: bool = True,
    model_folder: Path | None = None,
) -> tuple[int, list[Problem]]:
    """Transcribe every row with an empty `text` (in place) with the CTranslate2 Whisper in
    `model_folder` (default: the bundled tiny.en). Returns (filled, problems).

    Audio is decoded as training decodes it (audio file, or the video's track within the
    row's time window), so a transcript always matches the audio the model hears.
    """
    from tqdm import tqdm  # on use only: the command line imports this module for its options

    from wavfusion.asr.transcribe import transcribe

    manifest = Manifest(path=Path(manifest_path), rows=rows)
    pending = [row for row in rows if not row.text.strip()]
    problems: list[Problem] = []
    filled = 0
    bar = tqdm(total=len(pending), desc="transcribing", unit="clip", disable=not progress)
    # Chunks: the model and its transcript cache are loaded once per chunk, not once per row,
    # while at most CHUNK decoded clips are held in memory.
    for start in range(0, len(pending), CHUNK):
        decoded: list[tuple[ManifestRow, object]] = []
        for row in pending[start : start + CHUNK]:
            try:
                decoded.append((row, manifest.load_audio(row)))
            except DataError as error:
                problems.append(Problem(row.id, f"not transcribed: {error}", row.line))
        texts = transcribe([waveform for _, waveform in decoded], language=language,
                           model_folder=model_folder)
        for (row, _), text in zip(decoded, texts):
            if text:
                row.text = text
                row.extra[TRANSCRIPT_SOURCE_COLUMN] = "asr"
                filled += 1
        bar.update(len(pending[start : start + CHUNK]))
    bar.close()
    return filled, problems
