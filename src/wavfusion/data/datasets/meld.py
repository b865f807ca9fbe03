"""MELD (Poria et al., 2019) raw release → manifest rows, with the official splits.

Layout read (`ROOT` = `MELD.Raw/` after unpacking its train/dev/test archives, or a folder
above it; each name is searched up to three levels below ROOT)::

    train_sent_emo.csv + train_splits/dia{D}_utt{U}.mp4                → split train
    dev_sent_emo.csv   + dev_splits_complete/dia{D}_utt{U}.mp4         → split val
    test_sent_emo.csv  + output_repeated_splits_test/dia{D}_utt{U}.mp4 → split test

with D, U the CSV's Dialogue_ID and Utterance_ID.

The clip is the row's `video`; its audio track is the audio (`audio` left empty). A clip that is
missing (the release lacks a few) is reported and its utterance skipped. Text and speaker names
are cleaned of the release's encoding artefacts (`text.clean_text`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from wavfusion.data.datasets.common import PrepareResult, find_path, usable_file
from wavfusion.data.datasets.labels import MELD_NAMES
from wavfusion.data.datasets.text import clean_text
from wavfusion.data.manifest import ManifestRow, relative_path

# (release split name, csv file, clip folder, manifest split)
MELD_SPLITS = (
    ("train", "train_sent_emo.csv", "train_splits", "train"),
    ("dev", "dev_sent_emo.csv", "dev_splits_complete", "val"),
    ("test", "test_sent_emo.csv", "output_repeated_splits_test", "test"),
)
_COLUMNS = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")


@dataclass
class MeldUtterance:
    """One row of a `*_sent_emo.csv`, cleaned; `emotion` is MELD's own name (e.g. "joy")."""

    dialogue: int
    utterance: int
    text: str
    speaker: str
    emotion: str
    sentiment: str
    season: str = ""
    episode: str = ""

    @property
    def clip_name(self) -> str:
        return f"dia{self.dialogue}_utt{self.utterance}.mp4"


def read_meld_csv(path: str | Path, result: PrepareResult | None = None) -> list[MeldUtterance]:
    """Parse one MELD CSV. Bytes that are not UTF-8 are read as Windows-1252; a row that does
    not parse (missing field, non-numeric ids, unknown emotion) is reported in `result` and
    skipped."""
    path = Path(path)
    text = path.read_bytes().decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [name for name in _COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{path}: not a MELD CSV, columns {', '.join(missing)} missing")
    utterances = []
    for row in reader:
        item = f"{path.name}:{reader.line_num}"
        try:
            short = [name for name, value in row.items() if value is None]
            if short:
                raise ValueError(f"too few fields ({', '.join(short)} missing)")
            emotion = row["Emotion"].strip().lower()
            if emotion not in MELD_NAMES:
                raise ValueError(f"unknown emotion {row['Emotion']!r}")
            utterances.append(
                MeldUtterance(
                    dialogue=int(row["Dialogue_ID"]),
                    utterance=int(row["Utterance_ID"]),
                    text=clean_text(row["Utterance"]),
                    speaker=clean_text(row["Speaker"]),
                    emotion=emotion,
                    sentiment=row["Sentiment"].strip(),
                    season=(row.get("Season") or "").strip(),
                    episode=(row.get("Episode") or "").strip(),
                )
            )
        except ValueError as error:
            if result is None:
                raise ValueError(f"{item}: {error}") from error
            result.skip(item, f"unreadable MELD row: {error}")
    return utterances


def prepare_meld(root: str | Path, out: str | Path) -> PrepareResult:
    """Rows for MELD's 7 emotions with the official train / dev (→ val) / test splits."""
    result = PrepareResult()
    root = Path(root)
    for release_split, csv_name, clip_folder, split in MELD_SPLITS:
        csv_path = find_path(root, csv_name, folder=False)
        if csv_path is None:
            result.skip(root / csv_name, f"{csv_name} not found: {release_split} split skipped")
            continue
        clips = find_path(root, clip_folder, folder=True)
        if clips is None:
            result.skip(root / clip_folder, f"clip folder not found: no {release_split} clips")
        present = {p.name for p in clips.iterdir()} if clips is not None else set()
        try:
            utterances = read_meld_csv(csv_path, result)
        except ValueError as error:
            result.skip(csv_path, str(error))
            continue
        missing = 0
        for utterance in utterances:
            if utterance.clip_name not in present or clips is None:
                missing += 1
                if clips is not None:
                    result.skip(clips / utterance.clip_name, "clip missing from the release")
                continue
            clip = clips / utterance.clip_name
            reason = usable_file(clip)
            if reason is not None:
                result.skip(clip, reason)
                continue
            result.rows.append(
                ManifestRow(
                    id=f"{release_split}_dia{utterance.dialogue}_utt{utterance.utterance}",
                    video=relative_path(clip, out),
                    text=utterance.text,
                    label=MELD_NAMES[utterance.emotion],
                    speaker=utterance.speaker,
                    split=split,
                    extra={
                        "original_label": utterance.emotion,
                        "sentiment": utterance.sentiment,
                        "dialogue_id": str(utterance.dialogue),
                        "utterance_id": str(utterance.utterance),
                        "season": utterance.season,
                        "episode": utterance.episode,
                    },
                )
            )
        if missing:
            result.notes.append(f"{release_split}: {missing} utterance(s) without a clip, skipped")
    result.notes.append("splits: MELD official (train → train, dev → val, test → test)")
    return result
