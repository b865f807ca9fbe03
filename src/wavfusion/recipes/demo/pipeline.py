"""`wavfusion demo`: the whole system on a generated corpus, offline, in minutes.

    corpus -> evidence -> features -> compare (full vs concat vs A, T, V over seeds)
           -> ablations (Tables 3-6) -> predict one held-out clip -> report.md / report.json

Everything lands in one folder (DIR):

    corpus/       the demo corpus (manifest.csv, audio/, video/, corpus.json)
    evidence.json single-modality scores of simple classifiers (wavfusion.data.synthetic.evidence)
    cache/        the frozen features, extracted once and read by every run
    ablation/     runs/<run>/ (one per configuration and seed; the full model of the first
                  seed keeps model.safetensors), caches/ (other shallow depths),
                  ablation.md, ablation.json
    predict/      the held-out clip as one MP4, prediction.json
    report.md, report.json

Rerunning with the same settings reuses the corpus, the cache and every finished run; a
changed corpus setting starts over (the cache rows are keyed by clip id, not content).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

from wavfusion.data.manifest import Manifest, read_manifest
from wavfusion.data.synthetic.corpus import MANIFEST_NAME, SETTINGS_NAME, generate_corpus
from wavfusion.recipes.demo.compare import full_model_folder, run_compared, summarise_compared
from wavfusion.recipes.demo.heldout import held_out_clip
from wavfusion.recipes.demo.report import write_report
from wavfusion.recipes.demo.settings import DemoSettings
from wavfusion.recipes.demo.stages import Stages
from wavfusion.training.reports import write_json
from wavfusion.training.run import TrainSettings

STAGES = 6
EVIDENCE_FILE = "evidence.json"
DERIVED = ("cache", "ablation", "predict", EVIDENCE_FILE)  # what a new corpus invalidates


def train_settings(settings: DemoSettings, manifest_path: Path) -> TrainSettings:
    """The base training setup of every run (each run replaces out, seed and model)."""
    return TrainSettings(
        manifest=manifest_path, out=settings.out / "ablation", cache=settings.cache_folder,
        epochs=settings.epochs, min_steps=0, batch_size=settings.batch_size,
        learning_rate=settings.learning_rate, patience=settings.patience, progress=False,
        # the demo's own tuned recipe: one constant learning rate for every weight
        backbone_lr_scale=1.0, warmup=0.0, schedule="constant", label_smoothing=0.0,
        select="val_wf1", model=settings.model,
    )


def _corpus_matches(folder: Path, settings: DemoSettings) -> bool:
    try:
        recorded = json.loads((folder / SETTINGS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return ((folder / MANIFEST_NAME).is_file()
            and recorded.get("per_class") == settings.per_class
            and recorded.get("seed") == settings.corpus_seed
            and recorded.get("seconds") == list(settings.seconds)
            and len(recorded.get("speakers", {})) == settings.speakers)


def make_corpus(settings: DemoSettings, stages: Stages) -> Path:
    """The corpus manifest: reused when made with these settings, else (re)generated after
    removing what was derived from an earlier corpus."""
    folder = settings.corpus_folder
    if _corpus_matches(folder, settings):
        stages.note(f"reusing {folder} (same settings)")
        return folder / MANIFEST_NAME
    for name in DERIVED:
        path = settings.out / name
        if path.exists():
            stages.note(f"removing {path} (made from another corpus)")
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return generate_corpus(folder, per_class=settings.per_class, seed=settings.corpus_seed,
                           seconds=settings.seconds, speakers=settings.speakers,
                           progress=settings.progress)


def measure(manifest_path: Path, settings: DemoSettings) -> dict[str, Any]:
    """Single-modality evidence (simple classifiers), cached in DIR/evidence.json."""
    from wavfusion.data.synthetic.evidence import measure_evidence

    path = settings.out / EVIDENCE_FILE
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    report = measure_evidence(manifest_path, progress=settings.progress)
    document = {"train_rows": report.train_rows, "test_rows": report.test_rows,
                "scores": {name: dataclasses.asdict(score)
                           for name, score in report.scores.items()},
                "table": report.table()}
    write_json(path, document)
    return document


def corpus_summary(manifest: Manifest) -> dict[str, Any]:
    """Rows per split and per modality, for the report."""
    rows = [row for row in manifest.rows if row.label]
    return {"rows": len(rows),
            "split": {split: sum(row.split == split for row in rows)
                      for split in ("train", "val", "test")},
            "with_video": sum(bool(row.video) for row in rows),
            "with_transcript": sum(bool(row.text.strip()) for row in rows),
            "labels": sorted({row.label for row in rows})}


def run_demo(settings: DemoSettings) -> dict[str, Any]:
    """Run every stage (module docs) and return the report.json document."""
    import torch

    from wavfusion.quiet import quiet_third_party

    quiet_third_party()
    torch.set_num_threads(settings.threads)
    stages = Stages(STAGES)
    stages.echo(f"wavfusion demo -> {settings.out}/ (per_class {settings.per_class}, "
                f"{settings.seeds} seed(s), {settings.epochs} epochs, tables "
                f"{','.join(map(str, settings.tables)) or 'none'})")
    settings.out.mkdir(parents=True, exist_ok=True)
    with stages.stage("corpus", "Generate the demo corpus"):
        manifest_path = make_corpus(settings, stages)
        manifest = read_manifest(manifest_path)
    with stages.stage("evidence", "Measure each modality's evidence (simple classifiers)"):
        evidence = measure(manifest_path, settings)
        stages.echo(evidence["table"])
    base = train_settings(settings, manifest_path)
    seeds = list(range(settings.seeds))
    with stages.stage("features", "Extract the frozen features (one cache for every run)"):
        from wavfusion.training.ablation import resolved
        from wavfusion.training.ablation_cache import extract_base_cache

        cache = extract_base_cache(manifest, resolved(base.model), settings.cache_folder,
                                   settings.progress)
    ablation_folder = settings.out / "ablation"
    with stages.stage("compare", f"Train and evaluate: full model vs concat vs single "
                      f"modalities, seeds {seeds}"):
        records = run_compared(base, manifest, seeds, ablation_folder, cache, stages.note)
    ablation: dict[str, Any] | None = None
    with stages.stage("ablations", f"Ablations: tables {list(settings.tables)}, seeds "
                      f"{seeds[:settings.ablation_seeds]}"):
        if settings.tables:
            from wavfusion.training.ablation import run_ablations

            ablation = run_ablations(base, list(settings.tables),
                                     list(range(settings.ablation_seeds)), ablation_folder,
                                     manifest, announce=stages.note)
        else:
            stages.note("skipped (no tables asked for)")
    with stages.stage("predict", "Predict one held-out test clip with the full model"):
        prediction = predict_held_out(settings, base, manifest, seeds[0], stages)
    document = {
        "settings": settings.to_dict(),
        "corpus": corpus_summary(manifest),
        "evidence": evidence,
        "model": {"folder": str(full_model_folder(ablation_folder, base, seeds[0])),
                  "metrics": records["full"][0]},
        "comparison": summarise_compared(records),
        "ablation": ablation,
        "prediction": prediction,
        "timings": stages.summary(),
    }
    write_report(settings.out, document)
    stages.echo(f"\nwrote {settings.out}/report.md and report.json ({stages.clock()} in all)")
    return document


def predict_held_out(settings: DemoSettings, base: TrainSettings, manifest: Manifest,
                     seed: int, stages: Stages) -> dict[str, Any]:
    """Predict the held-out clip with the full model of `seed`; prints and returns the JSON."""
    from wavfusion.inference import Predictor

    folder = full_model_folder(settings.out / "ablation", base, seed)
    clip = held_out_clip(manifest, settings.out / "predict")
    stages.note(f"clip {clip.path} (true label: {clip.row.label}; transcript: "
                f"{clip.transcript!r})")
    result = Predictor.from_run(folder).predict(clip.path, transcript=clip.transcript)
    result["true_label"] = clip.row.label
    stages.echo(json.dumps(result, indent=2))
    write_json(settings.out / "predict" / "prediction.json", result)
    return result
