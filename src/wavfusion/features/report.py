"""What `wavfusion extract` prints when it is done."""

from __future__ import annotations

from wavfusion.data.report import SHOWN_PROBLEMS, problem_table
from wavfusion.features.extract import ExtractionReport
from wavfusion.features.settings import CacheSettings


def describe_settings(settings: CacheSettings) -> list[str]:
    """One line per modality: encoder, shape of what is stored."""
    if settings.audio_stored:
        audio = (f"{settings.audio_backbone}, prefix of {settings.shallow_layers} layer(s) "
                 f"-> (frames, {settings.audio_width}) float16")
    else:
        audio = (f"{settings.audio_backbone}: prefix trains (no pretrained weights or "
                 "--freeze-shallow no), so NOT stored; training feeds raw audio")
    crop = "face crops" if settings.crop_faces else "whole frames"
    return [
        f"  audio   {audio}",
        (
            f"  text    {settings.text_encoder} -> (tokens <= {settings.max_text_tokens}, "
            f"{settings.text_dim}) float16"
        ),
        (
            f"  visual  {settings.image_encoder} on {settings.frames_per_clip} {crop} "
            f"({settings.image_size}x{settings.image_size}) -> ({settings.frames_per_clip}, "
            f"{settings.visual_dim}) float16"
        ),
    ]


def format_report(
    report: ExtractionReport, manifest: object, shown: int | None = SHOWN_PROBLEMS
) -> str:
    """The summary: what was extracted, reused, repaired and skipped, and how fast."""
    shard = f" ({report.shard})" if report.shard.count > 1 else ""
    rate = report.extracted / report.seconds if report.seconds else 0.0
    lines = [
        f"{manifest} -> {report.folder}{shard}: cache key {report.settings.key()[:12]}",
        *describe_settings(report.settings),
        (
            f"extracted {report.extracted} utterances in {report.parts_written} parts, "
            f"{report.seconds:.1f} s ({rate:.1f} utterances/s); {report.reused} already in "
            f"the cache ({report.parts_reused} parts)"
        ),
        f"the cache holds {report.available} of this manifest's {report.rows} rows"
        + (f" ({shard.strip(' ()')})" if shard else ""),
    ]
    for message in report.repaired:
        lines.append(f"re-extracted a damaged part: {message}")
    if report.problems:
        count = len(report.problems)
        lines.append(f"skipped {count} row{'' if count == 1 else 's'}:")
        lines.append(problem_table(report.problems, shown))
    if not report.available:
        lines.append("nothing could be extracted")
    return "\n".join(lines)


__all__ = ["describe_settings", "format_report"]
