"""`wavfusion data check`: validate every row of a manifest and summarise what is usable.

A row is usable when its label is known, its audio (own file, or the video's track) decodes to
at least MIN_SECONDS of finite, non-silent samples, and its video, if any, opens and decodes.
Bad rows are listed with their reason and skipped; nothing else is lost. Notes flag usable rows
worth a look: clips longer than the maximum (truncated when loaded), a container that differs
from the file's extension, an empty transcript, a window past the video's end.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from wavfusion.data.datasets.labels import builtin_form, label_problem
from wavfusion.data.errors import DataError, MediaError, Problem
from wavfusion.data.manifest import SPLITS, Manifest, ManifestRow, read_manifest
from wavfusion.data.media import DEFAULT_MAX_SECONDS, MIN_SECONDS, decode_audio, probe_video
from wavfusion.data.report import problem_table, table

# FFmpeg's container names for the extensions people use, to spot a file named wrongly
CONTAINERS = {
    ".wav": "wav",
    ".flac": "flac",
    ".mp3": "mp3",
    ".ogg": "ogg",
    ".mp4": "mov,mp4,m4a,3gp,3g2,mj2",
    ".m4a": "mov,mp4,m4a,3gp,3g2,mj2",
    ".mov": "mov,mp4,m4a,3gp,3g2,mj2",
    ".avi": "avi",
    ".flv": "flv",
    ".mkv": "matroska,webm",
    ".webm": "matroska,webm",
}
WINDOW_SLACK = 0.5  # seconds a window may run past the end of its video before it is noted


@dataclass
class CheckReport:
    """Outcome of `check_manifest`."""

    manifest: Manifest
    name: str = ""  # the manifest's path as the user gave it, for printing
    usable: list[ManifestRow] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # id → audio seconds, usable rows
    bad: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when something usable remains (the exit code of `data check` is 0)."""
        return bool(self.usable)


def _container_note(path: Path, container: str) -> str | None:
    expected = CONTAINERS.get(path.suffix.lower())
    if expected is None or expected == container:
        return None
    return f"{path.name}: content is {container.split(',')[0]}, not {path.suffix} (read by content)"


def check_row(
    manifest: Manifest,
    row: ManifestRow,
    *,
    labels: tuple[str, ...] | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    min_seconds: float = MIN_SECONDS,
) -> tuple[float, list[str]]:
    """Audio seconds of a usable `row` and notes about it; DataError (item = the row's id)
    with the reason when the row is not usable."""
    problem = label_problem(row.label, labels)
    if problem:
        raise DataError(row.id, problem)
    notes = []
    start, end = row.window
    video_seconds = None
    if row.video:
        video_path = manifest.path_of(row.video)
        try:
            info = probe_video(video_path)
        except MediaError as error:
            raise DataError(row.id, f"video {row.video}: {error.reason}") from error
        notes.append(_container_note(video_path, info.container))
        video_seconds = info.seconds
        if video_seconds is not None and start is not None and start >= video_seconds:
            raise DataError(
                row.id, f"start {start:g} s is past the video's end ({video_seconds:.2f} s)"
            )
        if video_seconds is not None and end is not None and end > video_seconds + WINDOW_SLACK:
            notes.append(f"end {end:g} s is past the video's end ({video_seconds:.2f} s)")
    source = row.audio or row.video
    audio_path = manifest.path_of(source)
    window = (None, None) if row.audio else (start, end)
    try:
        audio = decode_audio(audio_path, start=window[0], end=window[1], max_seconds=None)
    except MediaError as error:
        what = "audio" if row.audio else "audio track of video"
        raise DataError(row.id, f"{what} {source}: {error.reason}") from error
    if audio.seconds < min_seconds:
        raise DataError(row.id, f"audio too short: {audio.seconds:.3f} s < {min_seconds:g} s")
    if audio.seconds > max_seconds:
        notes.append(f"{audio.seconds:.1f} s long: truncated to the first {max_seconds:g} s")
    if row.audio:
        notes.append(_container_note(audio_path, audio.container))
    return audio.seconds, [note for note in notes if note]


def check_manifest(
    path: str | Path,
    *,
    labels: tuple[str, ...] | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    min_seconds: float = MIN_SECONDS,
    progress: bool = True,
) -> CheckReport:
    """Validate every row of the manifest at `path` (decoding its media); see module docs.
    Raises ManifestError only when the file itself cannot be read."""
    manifest = read_manifest(path)
    report = CheckReport(manifest, str(path), bad=list(manifest.problems))
    rows = tqdm(manifest.rows, desc="checking", unit="row", disable=not progress, file=sys.stderr)
    for row in rows:
        try:
            seconds, notes = check_row(
                manifest, row, labels=labels, max_seconds=max_seconds, min_seconds=min_seconds
            )
        except DataError as error:
            report.bad.append(Problem(row.id, error.reason, row.line))
            continue
        report.usable.append(row)
        report.seconds[row.id] = seconds
        report.notes += [Problem(row.id, note, row.line) for note in notes]
    if any(row.text.strip() for row in report.usable):  # a text modality is in use
        report.notes += [
            Problem(row.id, "empty transcript (text modality missing)", row.line)
            for row in report.usable
            if not row.text.strip()
        ]
    report.bad.sort(key=lambda problem: problem.line)
    report.notes.sort(key=lambda problem: problem.line)
    report.notes = _label_notes(report.usable) + report.notes
    return report


def _label_notes(rows: list[ManifestRow]) -> list[Problem]:
    """One note per label name that is another form of a built-in one."""
    counts = Counter(row.label for row in rows)
    notes = []
    for name, count in sorted(counts.items()):
        builtin = builtin_form(name)
        if builtin is not None:
            notes.append(Problem(f"label {name!r}", f"{count} rows: another form of the "
                                 f"built-in {builtin!r}; models of the dataset adapters say "
                                 f"{builtin!r} (rename it to compare or combine them)"))
    return notes


def _why_most_are_bad(report: CheckReport) -> str | None:
    """One line with the commonest reason when most rows are bad, and the fix."""
    if len(report.bad) <= len(report.usable):
        return None
    kinds = Counter(re.sub(r"'[^']*'|\(.*\)|\S*/\S*", "", problem.reason).strip(" :")
                    for problem in report.bad)
    kind, count = kinds.most_common(1)[0]
    fixes = {
        "unknown label": "leave --labels out to accept the manifest's own label names, or "
                         "add the missing names to --labels",
        "file not found": f"paths are read relative to the manifest's folder "
                          f"({report.manifest.folder}); check the audio/video columns",
    }
    fix = next((text for key, text in fixes.items() if key in kind), "see the bad rows below")
    return f"most rows are bad: {count} of {len(report.bad)} for {kind!r}; {fix}"


def format_report(report: CheckReport, *, show: int | None = 20) -> str:
    """The summary `data check` prints: counts, hours, missing modalities, split × class
    table, bad rows and notes (at most `show` of each)."""
    usable, seconds = report.usable, list(report.seconds.values())
    total_rows = len(report.manifest.rows) + len(report.manifest.problems)
    lines = [
        f"{report.name or report.manifest.path}: {total_rows} rows, {len(usable)} usable, {len(report.bad)} bad",
    ]
    why = _why_most_are_bad(report)
    if why:
        lines.append(why)
    if seconds:
        lines.append(
            f"audio: {sum(seconds) / 3600:.2f} h in usable rows (clip length min "
            f"{min(seconds):.1f} s, mean {sum(seconds) / len(seconds):.1f} s, "
            f"max {max(seconds):.1f} s)"
        )
        no_video = sum(not row.video for row in usable)
        no_text = sum(not row.text.strip() for row in usable)
        own_audio = sum(bool(row.audio) for row in usable)
        lines.append(
            f"missing modalities: video {no_video}, text {no_text} "
            f"(audio from its own file {own_audio}, "
            f"from the video's track {len(usable) - own_audio})"
        )
        lines += ["usable rows per split and class:", _split_table(usable)]
    if report.bad:
        lines += [f"bad rows ({len(report.bad)}), skipped:", problem_table(report.bad, show)]
    if report.notes:
        lines += [f"notes ({len(report.notes)}):", problem_table(report.notes, show)]
    if not usable:
        lines.append("nothing usable remains")
    return "\n".join(lines)


def _split_table(rows: list[ManifestRow]) -> str:
    counts = Counter((row.label, row.split) for row in rows)
    splits = [s for s in (*SPLITS, "") if any(split == s for _, split in counts)]
    labels = sorted({label for label, _ in counts})
    header = ["label", *(s or "(none)" for s in splits), "total"]
    body = [
        [label, *(counts[label, s] for s in splits), sum(counts[label, s] for s in splits)]
        for label in labels
    ]
    totals = [sum(counts[label, s] for label in labels) for s in splits]
    return table(header, [*body, ["total", *totals, sum(totals)]])
