"""`wavfusion extract`: run the frozen encoders over a manifest into a feature cache.

Per part of the plan (see plan.py): decode its rows in worker threads (the next
part decodes while this one computes), then
- audio: Eq 7, the frozen prefix, in length-bucketed batches (audio.py), float16;
- text: Eq 5, per-token features of the transcript, rows without one get none;
- visual: Eq 1, per-frame features of the sampled face crops, rows without video get none;
then write the part atomically (store.py). A row that cannot be decoded (DataError) is left
out and reported with its reason; nothing else is lost.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from wavfusion.atomic import write_bytes
from wavfusion.backbones.image import ImageFeatureEncoder
from wavfusion.backbones.text import TEXT_BATCH_SIZE, TextFeatureEncoder
from wavfusion.config import WavFusionConfig
from wavfusion.data.errors import DataError, Problem
from wavfusion.data.manifest import Manifest, ManifestRow, read_manifest
from wavfusion.features.audio import AudioPrefix, length_buckets
from wavfusion.features.cache import read_cache_file
from wavfusion.features.identity import compute_settings, image_identity, text_identity
from wavfusion.features.plan import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PART_SIZE,
    DEFAULT_WORKERS,
    ChangedRow,
    PlannedPart,
    Shard,
    load_existing,
    plan_parts,
    stale_parts,
)
from wavfusion.features.settings import CacheSettings, ExtractionOptions, check_settings
from wavfusion.features.source import row_source
from wavfusion.features.store import (
    CACHE_FILE,
    FORMAT_NAME,
    MODALITIES,
    PARTS_FOLDER,
    canonical_json,
    part_index_of,
    remove_leftovers,
    remove_part,
    write_part,
)

PREFETCH_PARTS = 1  # parts decoded ahead of the one being encoded


@dataclass
class FrozenEncoders:
    """The three frozen extractors, the options they were loaded for, and the cache
    settings they imply."""

    audio: AudioPrefix
    text: TextFeatureEncoder
    image: ImageFeatureEncoder
    options: ExtractionOptions
    settings: CacheSettings

    @classmethod
    def load(
        cls, config: WavFusionConfig, options: ExtractionOptions, device: str = "cpu"
    ) -> FrozenEncoders:
        audio = AudioPrefix.build(config, device)
        text = TextFeatureEncoder(options.text_encoder, options.max_text_tokens, device)
        image = ImageFeatureEncoder(options.image_encoder, device)
        settings = compute_settings(audio.model, text_identity(text), image_identity(image),
                                    options)
        return cls(audio, text, image, options, settings)


@dataclass
class DecodedRow:
    row: ManifestRow
    audio: np.ndarray | None = None  # (samples,) float32 16 kHz
    frames: np.ndarray | None = None  # (frames, size, size, 3) uint8; None without video
    error: str | None = None


def decode_row(manifest: Manifest, row: ManifestRow, options: ExtractionOptions) -> DecodedRow:
    """Decode one row's audio (always: it validates the row) and frames; a DataError makes
    the row a reported problem."""
    try:
        audio = manifest.load_audio(row, max_seconds=options.max_seconds)
        frames = manifest.load_frames(
            row, options.frames_per_clip, crop_faces=options.crop_faces, size=options.frame_size
        )
    except DataError as error:
        return DecodedRow(row, error=str(error))
    return DecodedRow(row, audio, frames)


def encode_part(
    decoded: list[DecodedRow], encoders: FrozenEncoders, batch_size: int
) -> list[tuple[str, int, dict[str, np.ndarray | None]]]:
    """The entries of a part, in row order: (id, line, {modality: float array or None})."""
    arrays: list[dict[str, np.ndarray | None]] = [
        {"audio": None, "text": None, "visual": None} for _ in decoded
    ]
    if encoders.audio.stored:
        for item, features in zip(arrays, encoders.audio.features(
                [row.audio for row in decoded], batch_size)):
            item["audio"] = features
    with_text = [i for i, row in enumerate(decoded) if row.row.text]
    for bucket in length_buckets([len(decoded[i].row.text) for i in with_text], TEXT_BATCH_SIZE):
        chosen = [with_text[k] for k in bucket]
        for i, features in zip(chosen, encoders.text.encode([decoded[i].row.text for i in chosen])):
            arrays[i]["text"] = features
    with_video = [i for i, row in enumerate(decoded) if row.frames is not None]
    if with_video:
        frames = np.concatenate([decoded[i].frames for i in with_video])
        features = encoders.image.encode(frames)
        bounds = np.cumsum([0] + [len(decoded[i].frames) for i in with_video])
        for k, i in enumerate(with_video):
            arrays[i]["visual"] = features[bounds[k] : bounds[k + 1]]
    return [(row.row.id, row.row.line, item) for row, item in zip(decoded, arrays)]


@dataclass
class ExtractionJob:
    """Everything `extract_features` needs. `config`: the audio backbone and its split (its
    text/visual settings are not used); see `audio.audio_config`."""

    manifest: Path
    out: Path
    config: WavFusionConfig
    options: ExtractionOptions = field(default_factory=ExtractionOptions)
    batch_size: int = DEFAULT_BATCH_SIZE
    workers: int = DEFAULT_WORKERS
    shard: Shard = field(default_factory=Shard)
    part_size: int = DEFAULT_PART_SIZE
    device: str = "cpu"
    retry_failed: bool = False
    progress: bool = True
    only: frozenset[str] | None = None  # extract just these row ids (None: every row)


@dataclass
class ExtractionReport:
    folder: Path
    settings: CacheSettings
    shard: Shard
    rows: int = 0  # manifest rows of this shard (usable or not)
    extracted: int = 0  # entries written by this run
    reused: int = 0  # entries of this shard already in the cache
    parts_written: int = 0
    parts_reused: int = 0
    repaired: list[str] = field(default_factory=list)  # damaged parts deleted and redone
    changed: list[ChangedRow] = field(default_factory=list)  # rows edited since cached
    reextracted: int = 0  # rows extracted again: edited, or in the part of an edited row
    present: tuple[str, ...] = MODALITIES  # modalities some row of the manifest has
    problems: list[Problem] = field(default_factory=list)  # this shard's skipped rows
    seconds: float = 0.0

    @property
    def available(self) -> int:
        """Entries of this shard's rows the cache now holds."""
        return self.extracted + self.reused


def prepare_folder(out: Path, settings: CacheSettings, part_size: int) -> int:
    """Create the cache folder (or check the one there: StaleCacheError if made with other
    settings); returns the part size the cache uses (an existing cache keeps its own)."""
    (out / PARTS_FOLDER).mkdir(parents=True, exist_ok=True)
    if (out / CACHE_FILE).exists():
        found, part_size = read_cache_file(out)
        check_settings(out, found, settings)
        return part_size
    document = {"format": FORMAT_NAME, "key": settings.key(), "part_size": part_size,
                "settings": settings.to_dict()}
    write_bytes(out / CACHE_FILE, canonical_json(document))
    return part_size


def decoded_rows(
    manifest: Manifest, rows: list[ManifestRow], options: ExtractionOptions, workers: int,
    ahead: int,
) -> Iterator[DecodedRow]:
    """`rows` decoded, in order, by `workers` threads (0: in this one) that keep up to about
    `ahead` rows decoded ahead of the consumer.

    Threads, not forked processes: a process forked while torch's, onnxruntime's or
    CTranslate2's thread pools run can inherit a held lock and hang for ever; FFmpeg
    decoding and OpenCV release the GIL, and the face detector is one CascadeClassifier per
    thread (wavfusion.data.faces). Closing the iterator cancels what has not started."""
    if workers == 0 or not rows:
        yield from (decode_row(manifest, row, options) for row in rows)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="decode")
    waiting = iter(rows)
    pending = deque(pool.submit(decode_row, manifest, row, options)
                    for row in itertools.islice(waiting, max(1, ahead)))
    try:
        while pending:
            decoded = pending.popleft().result()
            for row in itertools.islice(waiting, 1):
                pending.append(pool.submit(decode_row, manifest, row, options))
            yield decoded
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start(
    job: ExtractionJob, manifest: Manifest, settings: CacheSettings
) -> tuple[ExtractionReport, list[PlannedPart], int, dict[str, dict]]:
    """Prepare the folder, clean a killed writer's leftovers, check and reuse the complete
    parts whose rows are unchanged, delete those with an edited row; returns the report so
    far, the parts to extract, the cache's part size and each row's source."""
    out = Path(job.out)
    part_size = prepare_folder(out, settings, job.part_size)
    parts_folder = out / PARTS_FOLDER
    remove_leftovers(parts_folder, job.shard.owns)
    existing, repaired = load_existing(parts_folder, job.shard)
    rows = [row for row in manifest.rows if job.only is None or row.id in job.only]
    sources = {row.id: row_source(manifest, row) for row in rows}
    redo: set[str] = set()  # ids of this shard's parts deleted because a row changed
    changed: list[ChangedRow] = []
    for name, edited in stale_parts(existing, sources).items():
        index = existing.pop(name)  # every shard plans as if it were gone
        if job.shard.owns(part_index_of(name)):
            remove_part(parts_folder, name)
            changed += edited
            redo |= {item["id"] for item in index.entries + index.problems}
    plan = [part for part in plan_parts(rows, part_size, existing, job.retry_failed)
            if job.shard.owns(part.index)]
    report = ExtractionReport(out, settings, job.shard, repaired=repaired,
                              changed=sorted(changed, key=lambda row: row.line))
    report.present = tuple(name for name, there in (
        ("audio", True), ("text", any(row.text for row in rows)),
        ("visual", any(row.video for row in rows))) if there)
    report.reextracted = sum(row.id in redo for part in plan if part.existing is None
                             for row in part.rows)
    if job.shard.index == 0:  # rows read_manifest rejected are reported once, by shard 0
        report.problems = [problem for problem in manifest.problems
                           if job.only is None or problem.item in job.only]
    report.rows = sum(len(part.rows) for part in plan) + len(report.problems)
    for part in plan:
        if part.existing is not None:
            report.parts_reused += 1
            report.reused += len(part.existing.entries)
            report.problems += [Problem(p["id"], p["reason"], p.get("line", 0))
                                for p in part.existing.problems]
    return report, [part for part in plan if part.existing is None], part_size, sources


def extract_features(
    job: ExtractionJob, encoders: FrozenEncoders | None = None
) -> ExtractionReport:
    """Extract this shard's part of `job.manifest` into `job.out`, resuming what is there.

    `encoders`: already loaded ones (loaded for job.options; job.config is then not used).
    """
    if job.batch_size < 1 or job.workers < 0:
        raise ValueError(f"batch_size must be >= 1 and workers >= 0, got {job.batch_size} and "
                         f"{job.workers}")
    started = time.perf_counter()
    manifest = read_manifest(job.manifest)
    if encoders is not None and encoders.options != job.options:
        raise ValueError(f"the encoders were loaded for {encoders.options}, the job asks for "
                         f"{job.options}")
    encoders = encoders or FrozenEncoders.load(job.config, job.options, job.device)
    report, todo, part_size, sources = _start(job, manifest, encoders.settings)
    parts_folder = Path(job.out) / PARTS_FOLDER
    rows = decoded_rows(manifest, [row for part in todo for row in part.rows], job.options,
                        job.workers, ahead=PREFETCH_PARTS * part_size)
    bar = tqdm(total=report.rows, initial=report.rows - sum(len(p.rows) for p in todo),
               unit="utt", desc="extract", disable=not job.progress, dynamic_ncols=True)
    try:
        for part in todo:
            decoded = list(itertools.islice(rows, len(part.rows)))
            good = [row for row in decoded if row.error is None]
            problems = [{"id": row.row.id, "line": row.row.line, "reason": row.error,
                         "source": sources[row.row.id]}
                        for row in decoded if row.error is not None]
            entries = encode_part(good, encoders, job.batch_size) if good else []
            write_part(parts_folder, part.name, entries, problems, sources)
            report.parts_written += 1
            report.extracted += len(entries)
            report.problems += [Problem(p["id"], p["reason"], p["line"]) for p in problems]
            bar.update(len(part.rows))
    finally:
        bar.close()
        rows.close()  # stops the decoding workers
    report.problems.sort(key=lambda problem: problem.line)
    report.seconds = time.perf_counter() - started
    return report


__all__ = [
    "DecodedRow",
    "ExtractionJob",
    "ExtractionReport",
    "FrozenEncoders",
    "decode_row",
    "encode_part",
    "extract_features",
    "prepare_folder",
]
