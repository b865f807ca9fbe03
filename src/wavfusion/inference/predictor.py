"""`Predictor`: one clip (an audio or video file, an optional transcript) -> a JSON-ready dict.

    predictor = Predictor.from_run("runs/ravdess")
    result = predictor.predict("clip.mp4", transcript="Kids are talking by the door.")
    result["label"], result["probabilities"], result["missing"], result["gates"]

A clip goes down the very path training's features went, one clip at a time:

    file --decode_row (features/extract.py: 16 kHz audio, sampled face crops)--> DecodedRow
         --encode_part (the frozen encoders; float16, as the feature cache stores them)-->
         --collate (batching.py)--> WavFusion --> probabilities, gates P (Eq 10)

so a clip gets the probabilities `wavfusion evaluate` gives it from a feature cache (tested
to 1e-3). The encoders are the ones RUN records (see run_features.py); a mismatch is refused
at load time. A clip longer than the model's `max_seconds` (30 s) is refused (ClipTooLong,
naming the limit), never cut: `predict_timeline` predicts such a recording segment by segment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from wavfusion.backbones.errors import BackboneError
from wavfusion.backbones.image import ImageFeatureEncoder
from wavfusion.backbones.text import TextFeatureEncoder
from wavfusion.batching import Example, collate, model_inputs
from wavfusion.data.manifest import Manifest, ManifestRow
from wavfusion.features.audio import AudioPrefix
from wavfusion.features.extract import FrozenEncoders, decode_row, encode_part
from wavfusion.features.identity import compute_settings, image_identity, text_identity
from wavfusion.inference.clip import (
    NO_SPEECH,
    NOT_USED,
    PAST_LIMIT_SECONDS,
    ClipTooLong,
    PredictionError,
    check_decoded_length,
    missing_modalities,
    prediction_result,
    probe_clip,
)
from wavfusion.inference.result import gate_means
from wavfusion.inference.run_features import (
    RunFeatures,
    RunMismatchError,
    check_same_features,
    read_run_features,
)
from wavfusion.model.wavfusion import WavFusion, WavFusionOutput

T = TypeVar("T")

if TYPE_CHECKING:
    from wavfusion.inference.timeline import TimelineOptions


def _load_encoders(model: WavFusion, features: RunFeatures, folder: Path,
                   device: str) -> FrozenEncoders:
    """The frozen encoders RUN's model was trained with. Encoders of a modality the model does
    not use are not loaded (None: encode_part never reaches them, the predictor gives it no
    such input). RunMismatchError when they cannot be loaded or compute other features."""
    options, modalities = features.options, model.config.modalities
    try:
        text = (TextFeatureEncoder(options.text_encoder, options.max_text_tokens, device)
                if "text" in modalities else None)
        image = ImageFeatureEncoder(options.image_encoder, device) if "visual" in modalities \
            else None
    except (BackboneError, OSError, ValueError) as error:
        raise RunMismatchError(folder, "an encoder the model was trained with cannot be "
                               f"loaded here: {error}") from error
    for encoder, width in ((text, model.config.text_dim), (image, model.config.visual_dim)):
        if encoder is not None and encoder.dim != width:
            raise RunMismatchError(folder, f"encoder {encoder.name!r} gives {encoder.dim}-d "
                                   f"features, the model expects {width}-d")
    prefix = AudioPrefix(model, torch.device(device))
    settings = None
    if features.settings is not None:
        settings = compute_settings(
            model, text_identity(text) if text else features.text_identity(),
            image_identity(image) if image else features.image_identity(), options)
        check_same_features(folder, features.settings, settings)
    return FrozenEncoders(prefix, text, image, options, settings)  # type: ignore[arg-type]


def _timed(timings: dict[str, float], name: str, work: Callable[[], T]) -> T:
    """work(), its wall time added to timings[name]."""
    started = time.perf_counter()
    value = work()
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
    return value


@dataclass
class Predictor:
    """A trained WavFusion with its frozen encoders, ready to predict clips one by one.

    `transcribe`: fill a missing transcript with faster-whisper (cached; `language` is the
    spoken language, `asr_model` a CTranslate2 Whisper folder, None = the bundled tiny.en)."""

    model: WavFusion
    encoders: FrozenEncoders
    run_folder: Path
    feature_source: str  # where the feature settings came from (run.json, cache.json, defaults)
    transcribe: bool = False
    language: str = "en"
    asr_model: Path | None = None

    @classmethod
    def from_run(cls, folder: str | Path, *, transcribe: bool = False, language: str = "en",
                 asr_model: str | Path | None = None, device: str = "cpu") -> Predictor:
        """Load RUN's model (config.json + model.safetensors) and the encoders it was trained
        with. FileNotFoundError / ValueError for a folder that holds no model,
        RunMismatchError when its encoders cannot be reproduced here."""
        folder = Path(folder)
        if transcribe and asr_model is not None:
            from wavfusion.asr.transcribe import asr_model_folder

            asr_model = asr_model_folder(asr_model)  # a wrong folder fails now, not per file
        model = WavFusion.from_pretrained(folder).to(device).eval()
        features = read_run_features(folder)
        encoders = _load_encoders(model, features, folder, device)
        return cls(model, encoders, folder, features.source, transcribe, language,
                   Path(asr_model) if asr_model is not None else None)

    @property
    def labels(self) -> list[str]:
        config = self.model.config
        return config.labels or [str(index) for index in range(config.num_classes)]

    def predict(self, path: str | Path, transcript: str | None = None) -> dict[str, Any]:
        """Predict the emotion of one audio or video file (video: its audio track and face
        frames). Returns a JSON-ready dict: file, label, probabilities (per class, sum 1),
        modalities used, missing (modality -> why), transcript and its source, gates (mean
        P of Eq 10 per deep layer: 1 = text drove the fusion, 0 = video; None where not
        applicable) and timings (seconds). PredictionError naming the file when it cannot be
        decoded or holds nothing the model uses; ClipTooLong (a PredictionError) when it
        lasts longer than the model's `max_seconds`: `predict_timeline` takes any length."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        row, missing = _timed(timings, "decode", lambda: self._row(path, transcript))
        limit = self.encoders.options.max_seconds
        # Decoded a little past the limit, so that a clip whose container declares no
        # duration is still seen to be too long (and refused, not cut).
        probe = replace(self.encoders.options, max_seconds=limit + PAST_LIMIT_SECONDS)
        decoded = _timed(timings, "decode", lambda: decode_row(
            Manifest(Path.cwd() / "predict", []), row, probe))
        if decoded.error is not None:
            raise PredictionError(path, decoded.error.removeprefix(f"{row.audio}: "))
        check_decoded_length(path, decoded.audio, limit)
        source = "given" if row.text else None
        if "text" in missing and self.transcribe and missing["text"] != NOT_USED:
            from wavfusion.asr.transcribe import transcribe

            row.text = _timed(timings, "transcribe",
                              lambda: transcribe([decoded.audio], language=self.language,
                                                 model_folder=self.asr_model)[0])
            source = "transcribed" if row.text else None
            if row.text:
                del missing["text"]
            else:
                missing["text"] = NO_SPEECH
        used = [name for name in self.model.config.modalities if name not in missing]
        if not used:
            raise PredictionError(path, "nothing this model uses: " + "; ".join(
                f"{name}: {why}" for name, why in missing.items()))
        _, _, arrays = _timed(timings, "encoders",
                              lambda: encode_part([decoded], self.encoders, 1)[0])
        output = _timed(timings, "model", lambda: self._forward([(decoded.audio, arrays)]))
        probabilities = torch.softmax(output.logits.float(), dim=-1)[0].tolist()
        gates = gate_means(output.gates, output.audio_mask)
        timings["total"] = time.perf_counter() - started
        return prediction_result(path, self.labels, probabilities, used, missing, row.text,
                                 source, gates, timings)

    def _row(self, path: str | Path,
             transcript: str | None) -> tuple[ManifestRow, dict[str, str]]:
        """The manifest row of one file (video only when the file has one and the model uses
        it) and the missing modalities with the reason."""
        location, video = probe_clip(path, self.encoders.options.max_seconds)
        modalities = self.model.config.modalities
        text = (transcript or "").strip() if "text" in modalities else ""
        missing = missing_modalities(modalities, bool(text), video)
        row = ManifestRow(id=location.name, audio=str(location), text=text,
                          video=str(location) if video and "visual" in modalities else "")
        return row, missing

    def predict_timeline(self, path: str | Path, segments: str = "auto",
                         options: TimelineOptions | None = None,
                         subtitles: str | Path | None = None) -> dict[str, Any]:
        """The emotion timeline of a recording of any length (audio or video file): cut into
        segments (`segments`: "auto" = speech segments when the file is longer than the
        model's `max_seconds`, else one; "vad"; "fixed" windows; "off" = one), each
        predicted with its transcript (`subtitles`, an .srt/.vtt file, or Whisper when the
        predictor transcribes). Returns a JSON-ready dict: file, duration, segments [{start,
        end, label, score, probabilities, transcript, gates}], summary {shares, dominant,
        segments, speech_seconds}, notes, timings. See inference/timeline.py;
        PredictionError (TimelineRefused for a file too long) naming the file."""
        from wavfusion.inference.timeline import predict_timeline

        return predict_timeline(self, path, segments, options, subtitles)

    @torch.inference_mode()
    def _forward(self, items: list[tuple[np.ndarray, dict[str, np.ndarray | None]]]
                 ) -> WavFusionOutput:
        """WavFusion on a batch of clips, each `(audio, arrays)`: `audio` `(samples,)` 16 kHz
        (fed raw only when the cache would hold no audio) and `arrays`, encode_part's float16
        features (audio `(frames, width)`, text `(tokens, text_dim)`, visual `(frames,
        visual_dim)`, each or None), batched exactly as evaluation batches them."""
        raw = "audio" in self.model.config.modalities and not self.encoders.audio.stored
        examples = [Example(id=f"clip{number}", label=-1, audio=audio if raw else None,
                            audio_features=arrays["audio"], text=arrays["text"],
                            visual=arrays["visual"])
                    for number, (audio, arrays) in enumerate(items)]
        inputs = model_inputs(collate(examples))
        device = next(self.model.parameters()).device
        return self.model(**{name: value.to(device) for name, value in inputs.items()})

__all__ = ["ClipTooLong", "PredictionError", "Predictor"]
