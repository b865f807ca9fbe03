"""IEMOCAP (Busso et al., 2008) raw release → manifest rows.

Layout read (the release as unpacked, `ROOT` = `IEMOCAP_full_release/` or a folder above it)::

    ROOT/Session{1..5}/sentences/wav/<dialog>/<utterance>.wav      audio, one file per utterance
    ROOT/Session{1..5}/dialog/EmoEvaluation/<dialog>.txt           label, times, V/A/D per utterance
    ROOT/Session{1..5}/dialog/transcriptions/<dialog>.txt          "<utterance> [t0-t1]: text"
    ROOT/Session{1..5}/dialog/avi/DivX/<dialog>.avi                video of the whole dialog

Each session has one female and one male actor; an utterance id such as
`Ses01F_impro01_M003` names its speaker by the letter before the number (here M), and the
dialog name (`Ses01F`) names the actor who wore the motion-capture markers (here F).

Face of the speaking actor: the dialog video shows both actors side by side. We assume, as in
published IEMOCAP video preprocessing, that the marker-wearing actor is on the left half and the
other actor on the right; each row's `face_region` is the half of the utterance's speaker, and
the face crop only looks there (`marker_side="right"` flips the assumption).
"""

from __future__ import annotations

import re
from pathlib import Path

from wavfusion.data.datasets.common import PrepareResult, find_path, usable_file
from wavfusion.data.datasets.labels import iemocap_label
from wavfusion.data.datasets.splits import apply_fold
from wavfusion.data.datasets.text import clean_text
from wavfusion.data.manifest import ManifestRow, relative_path

SESSIONS = (1, 2, 3, 4, 5)
PROTOCOLS = ("session5", "loso")
# "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]"
_EVALUATION_LINE = re.compile(
    r"^\[\s*([\d.]+)\s*-\s*([\d.]+)\s*\]\s+(\S+)\s+(\S+)"  # [start - end] utterance code
    r"\s+\[\s*([\d.]+),\s*([\d.]+),\s*([\d.]+)\s*\]"  # [valence, arousal, dominance]
)
# "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me."
_TRANSCRIPT_LINE = re.compile(r"^(\S+)\s+\[[^\]]*\]:\s?(.*)$")


def find_root(root: Path) -> Path | None:
    """The folder holding Session1..5 (`root` itself or one found below it)."""
    session = find_path(root, "Session1", folder=True)
    return session.parent if session is not None else None


def parse_evaluation(path: Path, result: PrepareResult) -> list[dict[str, str]]:
    """Utterance entries of one EmoEvaluation file: id, start, end, code, valence, arousal,
    dominance. A line that looks like an entry but does not parse is reported."""
    entries = []
    for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
        if not line.startswith("["):
            continue
        match = _EVALUATION_LINE.match(line)
        if match is None:
            result.skip(f"{path}:{number}", f"unreadable evaluation line: {line[:60]!r}")
            continue
        keys = ("start", "end", "id", "code", "valence", "arousal", "dominance")
        entries.append(dict(zip(keys, match.groups())))
    return entries


def parse_transcripts(path: Path) -> dict[str, str]:
    """Utterance id → transcript of one transcription file (empty dict if it is missing)."""
    if not path.is_file():
        return {}
    texts = {}
    for line in path.read_text("utf-8", errors="surrogateescape").splitlines():
        match = _TRANSCRIPT_LINE.match(line.strip())
        if match:
            texts[match.group(1)] = clean_text(match.group(2))
    return texts


def speaker_gender(utterance: str) -> str:
    """F or M: the letter before the number in the last part of the utterance id."""
    last = utterance.rsplit("_", 1)[-1]
    return last[:1].upper()


def face_region(utterance: str, dialog: str, marker_side: str = "left") -> str:
    """Half of the dialog video showing the utterance's speaker (see module docstring)."""
    other = "right" if marker_side == "left" else "left"
    marker_actor = dialog[5:6].upper()  # "Ses01F_impro01" → F
    return marker_side if speaker_gender(utterance) == marker_actor else other


def prepare_iemocap(
    root: str | Path,
    out: str | Path,
    *,
    classes: int = 4,
    protocol: str = "session5",
    video: bool = True,
    marker_side: str = "left",
) -> PrepareResult:
    """Rows for the 4- or 6-class IEMOCAP task; paths are relative to the manifest `out`.

    `protocol="session5"`: session 5 is test, val is speaker-disjoint from sessions 1–4.
    `protocol="loso"`: `split` left empty, the `fold` column (the session) drives
    leave-one-session-out (`splits.apply_fold(rows, "3")` makes fold 3).
    """
    if classes not in (4, 6):
        raise ValueError(f"IEMOCAP classes must be 4 or 6, got {classes}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"IEMOCAP protocol must be one of {PROTOCOLS}, got {protocol!r}")
    result = PrepareResult()
    base = find_root(Path(root))
    if base is None:
        result.skip(root, "no Session1 folder found: is this the IEMOCAP release?")
        return result
    no_text = no_video = 0
    for session in SESSIONS:
        session_dir = base / f"Session{session}"
        evaluations = sorted((session_dir / "dialog" / "EmoEvaluation").glob("[!._]*.txt"))
        if not evaluations:
            result.skip(session_dir, "no dialog/EmoEvaluation/*.txt: session missing")
        for evaluation in evaluations:
            dialog = evaluation.stem
            texts = parse_transcripts(session_dir / "dialog" / "transcriptions" / f"{dialog}.txt")
            avi = session_dir / "dialog" / "avi" / "DivX" / f"{dialog}.avi"
            has_video = video and usable_file(avi) is None
            for entry in parse_evaluation(evaluation, result):
                label = iemocap_label(entry["code"], classes)
                if label is None:
                    result.dropped[entry["code"]] += 1
                    continue
                utterance = entry["id"]
                wav = session_dir / "sentences" / "wav" / dialog / f"{utterance}.wav"
                reason = usable_file(wav)
                if reason is not None:
                    result.skip(wav, reason)
                    continue
                extra = {
                    "fold": str(session),
                    "original_label": entry["code"],
                    "valence": entry["valence"],
                    "arousal": entry["arousal"],
                    "dominance": entry["dominance"],
                    "start": entry["start"] if has_video else "",
                    "end": entry["end"] if has_video else "",
                    "face_region": face_region(utterance, dialog, marker_side) if has_video else "",
                }
                text = texts.get(utterance, "")
                no_text += not text
                no_video += not has_video
                result.rows.append(
                    ManifestRow(
                        id=utterance,
                        audio=relative_path(wav, out),
                        video=relative_path(avi, out) if has_video else "",
                        text=text,
                        label=label,
                        speaker=f"Ses{session:02d}_{speaker_gender(utterance)}",
                        extra=extra,
                    )
                )
    if protocol == "session5":
        result.notes.append("protocol session5: " + apply_fold(result.rows, "5"))
    else:
        result.notes.append("protocol loso: split left empty; the fold column is the session")
    if no_text:
        result.notes.append(f"{no_text} utterance(s) have no transcript (text left empty)")
    if no_video:
        result.notes.append(f"{no_video} utterance(s) have no dialog video (video left empty)")
    return result
