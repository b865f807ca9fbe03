"""RUN/README.md: the model card of a trained run (what it is, on what data, how good, for
what use, under which licences), in the front-matter + Markdown form model hubs read."""

from __future__ import annotations

import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from wavfusion.training.reports import write_text

# What is known of the datasets we prepare manifests for (wavfusion data prepare NAME).
DATASETS: dict[str, dict[str, str]] = {
    "iemocap": {
        "title": "IEMOCAP (Busso et al., 2008): 10 actors in 5 dyadic sessions, scripted and "
                 "improvised, audio + video + transcripts",
        "licence": "USC SAIL's IEMOCAP release licence: research use only, no redistribution "
                   "of the data; check it before sharing a model trained on it",
        "url": "https://sail.usc.edu/iemocap/ (on request)",
    },
    "meld": {
        "title": "MELD (Poria et al., 2019): utterances of the TV series Friends, 7 emotions",
        "licence": "GPL-3.0 (the MELD release); the clips are excerpts of a copyrighted series",
        "url": "https://affective-meld.github.io/",
    },
    "ravdess": {
        "title": "RAVDESS (Livingstone & Russo, 2018): 24 actors, 2 neutral statements, acted "
                 "emotions, audio-video",
        "licence": "CC BY-NC-SA 4.0: non-commercial, share-alike, attribution required",
        "url": "https://zenodo.org/record/1188976",
    },
}
SELECTION_TEXT = {"val_wf1": "best weighted F1", "val_loss": "lowest loss"}
# Licences of the encoders we ship defaults for (the run's own encoder names are shown as
# they are; an encoder not listed here must be checked by the user).
ENCODER_LICENCES = {
    "whisper-tiny.en-bundled": "MIT (OpenAI Whisper)",
    "facebook/wav2vec2-base": "Apache-2.0",
    "all-MiniLM-L6-v2-bundled": "Apache-2.0 (sentence-transformers)",
    "roberta-base": "MIT",
    "FacebookAI/roberta-base": "MIT",
    "efficientnet-lite0": "Apache-2.0",
}


def dataset_entry(name: str | None, manifest: Path) -> tuple[str, dict[str, str] | None]:
    """(name, known facts or None): the given name, else guessed from the manifest path."""
    if name:
        return name, DATASETS.get(name.lower())
    lowered = str(manifest).lower()
    for known, entry in DATASETS.items():
        if known in lowered:
            return known, entry
    return "unnamed", None


def _split_table(rows, labels: list[str]) -> list[str]:
    counts = {split: Counter(r.label for r in rows if r.split == split)
              for split in ("train", "val", "test")}
    lines = ["| label | " + " | ".join(counts) + " |", "|---|" + "---|" * len(counts)]
    for label in labels:
        lines.append(f"| {label} | " + " | ".join(str(counts[s][label]) for s in counts) + " |")
    lines.append("| **all** | " + " | ".join(str(sum(c.values())) for c in counts.values())
                 + " |")
    return lines


def _metric_table(results: dict[str, Any]) -> list[str]:
    lines = ["| split | n | accuracy | weighted F1 | UAR |", "|---|---|---|---|---|"]
    for split in ("val", "test"):
        if split in results:
            m = results[split]
            lines.append(f"| {split} | {m['num_samples']} | {m['accuracy']:.2f} | "
                         f"{m['weighted_f1']:.2f} | {m['uar']:.2f} |")
    base = (results.get("test") or {}).get("baselines")
    if base:  # always answering train's commonest class (its UAR is chance: 100 / classes)
        lines.append(f"| test, always `{base['majority_class']}` | | "
                     f"{base['majority_accuracy']:.2f} | {base['majority_weighted_f1']:.2f} | "
                     f"{base['chance']:.2f} |")
    probe = results.get("probe") or {}
    for split in ("val", "test"):  # the frozen backbone + logistic regression baseline
        m = probe.get(split)
        if isinstance(m, dict) and "weighted_f1" in m:
            lines.append(f"| {split}, probe ({probe.get('run', 'wavfusion probe')}) | "
                         f"{m.get('num_samples', '')} | {m.get('accuracy', float('nan')):.2f} | "
                         f"{m['weighted_f1']:.2f} | {m.get('uar', float('nan')):.2f} |")
    return lines


def model_card(settings, config, features, rows, results: dict[str, Any],
               command: str | None = None) -> str:
    """The README.md text of a run (see module docstring)."""
    name, entry = dataset_entry(getattr(settings, "dataset", None), settings.manifest)
    labels = config.labels or []
    command = command or " ".join(shlex.quote(p) for p in ["wavfusion", *sys.argv[1:]])
    licences = sorted({ENCODER_LICENCES.get(n, f"{n}: check its licence")
                       for n in (config.audio_backbone, features.text_encoder,
                                 features.image_encoder)})
    tags = ["speech-emotion-recognition", "multimodal", "wavfusion"]
    front = ["---", "library_name: wavfusion", f"tags: [{', '.join(tags)}]",
             f"datasets: [{name}]", "metrics: [accuracy, weighted_f1, uar]", "---"]
    split = (f"{config.shallow_layers} frozen + {config.deep_layers} fusion layers"
             if config.shallow_layers is not None else "")
    lines = [
        *front, "",
        f"# WavFusion emotion classifier ({name}, {len(labels)} classes)", "",
        ("Multimodal speech emotion recognition (audio + transcript + face video) with "
        "WavFusion: gated cross-modal attention inside the deep layers of a pretrained speech "
        "transformer, trained by `wavfusion train`. Load it with "
        "`WavFusion.from_pretrained(\"<this folder>\")` or run `wavfusion predict CLIP "
        "--model <this folder>`."), "",
        "## Data and protocol", "",
        f"- Data: {entry['title'] if entry else name}"
        + (f" ({entry['url']})" if entry else ""),
        (f"- Manifest: `{settings.manifest}`; " + (
            "the last epoch was kept (the val split is reported, not used to choose) "
            if settings.select == "last" else "the epoch kept was chosen on the val split "
            f"({SELECTION_TEXT.get(settings.select, settings.select)}) ") + "and scored "
         "once on test."),
        f"- Labels (logit order): {', '.join(labels)}", "",
        *_split_table(rows, labels), "",
        "## Metrics", "",
        f"Kept epoch {results.get('best_epoch', -1) + 1} of {results.get('epochs_run')} run"
        + (" (interrupted: the best epoch so far)" if results.get("interrupted") else "")
        + "; percentages. Command:", "",
        "```", command, "```", "",
        *_metric_table(results), "",
        ("The confusion matrix of the last split is `confusion.png`; per-class F1 in "
        "`metrics.json`; every setting in `config.yaml` (rerun: `wavfusion train --config "
        "config.yaml`) and `run.json`."), "",
        "## Model", "",
        f"- Audio backbone: `{config.audio_backbone}`" + (f" ({split})" if split else ""),
        (f"- Modalities: {', '.join(config.modalities)}; LVC: {config.use_lvc}; "
        f"lambda (margin loss): {config.margin_weight}"),
        (f"- Frozen text encoder: `{features.text_encoder}`; frozen image encoder: "
        f"`{features.image_encoder}` ({features.frames_per_clip} frames per clip, faces "
        f"{'cropped' if features.crop_faces else 'not cropped'})"),
        ("- Files: `config.json` + `model.safetensors` (the weights; no code is run to load "
        "them); `run.json` `features` records how to encode a new clip as training did."), "",
        "## Intended use and limits", "",
        ("- Research on emotion recognition and its reproduction; a baseline to compare with. "
        "Not for decisions about people (hiring, health, policing, surveillance): emotion "
        "labels are an annotator's reading of acted or broadcast speech, not a person's "
        "inner state."),
        (f"- Trained on {name} only: expect lower scores on other speakers, languages, "
        "microphones, recording conditions and spontaneous speech; the classes are the "
        "ones above and nothing else."),
        ("- Scores are from one seed on one split; compare with `wavfusion cv` / `ablate` "
        "(mean ± std) before drawing conclusions."), "",
        "## Licences", "",
        (f"- Data: {entry['licence'] if entry else 'see the dataset’s own terms'}. A model "
        "trained on data may carry its terms."),
        "- Encoders: " + "; ".join(licences) + ".",
        "- wavfusion: MIT.", "",
    ]
    return "\n".join(lines)


def write_model_card(settings, config, features, rows, results: dict[str, Any]) -> None:
    write_text(Path(settings.out) / "README.md", model_card(settings, config, features, rows,
                                                           results))
