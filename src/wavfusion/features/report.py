"""What `wavfusion extract` prints when it is done."""

from __future__ import annotations

from wavfusion.data.errors import Problem
from wavfusion.data.report import SHOWN_PROBLEMS, problem_table
from wavfusion.features.extract import ExtractionReport
from wavfusion.features.settings import CacheSettings


def describe_settings(settings: CacheSettings, present=("audio", "text", "visual")
                      ) -> list[str]:
    """One line per modality in `present`: encoder, shape of what is stored."""
    if settings.audio_stored:
        audio = (f"{settings.audio_backbone}, prefix of {settings.shallow_layers} layer(s) "
                 f"-> (frames, {settings.audio_width}) float16")
    else:
        audio = (f"{settings.audio_backbone}: prefix trains (no pretrained weights or "
                 "--freeze-shallow no), so NOT stored; training feeds raw audio")
    crop = "face crops" if settings.crop_faces else "whole frames"
    lines = {
        "audio": f"  audio   {audio}",
        "text": (
            f"  text    {settings.text_encoder} -> (tokens <= {settings.max_text_tokens}, "
            f"{settings.text_dim}) float16"
        ),
        "visual": (
            f"  visual  {settings.image_encoder} on {settings.frames_per_clip} {crop} "
            f"({settings.image_size}x{settings.image_size}) -> ({settings.frames_per_clip}, "
            f"{settings.visual_dim}) float16"
        ),
    }
    absent = [name for name in lines if name not in present]
    return [line for name, line in lines.items() if name in present] + (
        [f"  (no row has {' or '.join(absent)}: nothing to extract for it)"] if absent else [])


def format_report(
    report: ExtractionReport, manifest: object, shown: int | None = SHOWN_PROBLEMS
) -> str:
    """The summary: what was extracted, reused, repaired and skipped, and how fast."""
    shard = f" ({report.shard})" if report.shard.count > 1 else ""
    rate = report.extracted / report.seconds if report.seconds else 0.0
    lines = [
        f"{manifest} -> {report.folder}{shard}: cache key {report.settings.key()[:12]}",
        *describe_settings(report.settings, report.present),
        (
            f"reused {report.reused}, re-extracted {report.reextracted}, new "
            f"{max(0, report.extracted - report.reextracted)} entries: extracted "
            f"{report.extracted} utterances in {report.parts_written} part(s), "
            f"{report.seconds:.1f} s ({rate:.1f} utterances/s); {report.parts_reused} part(s) "
            "reused"
        ),
        f"the cache holds {report.available} of this manifest's {report.rows} rows"
        + (f" ({shard.strip(' ()')})" if shard else ""),
    ]
    if report.changed:
        count = len(report.changed)
        lines.append(f"{count} row{'' if count == 1 else 's'} changed since cached (extracted "
                     "again, with the other rows of their parts):")
        lines.append(problem_table([Problem(row.id, ", ".join(row.changes), row.line)
                                    for row in report.changed], shown))
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
