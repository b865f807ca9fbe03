"""Export a RUN's model to ONNX for one audio-only clip: RUN/model.onnx + its record.

The graph is the torch Predictor's path for a clip with neither transcript nor video:

    front-end input --Eq 7 prefix (the backbone's front-end and shallow layers)--> X^a
      --float16, as the feature cache stores it (AudioPrefix.features)--> float32
      --WavFusion.forward(audio_features=...) (deep layers, pooling, classifier)-->
      probabilities (1, num_classes), gates (deep_layers,): mean P of Eq 10 per layer

(NaN gates: an audio-only clip has no P; the result shows None, as the torch path does.) The
front-end input is what numpy computes without torch: the waveform `(1, samples)` for
wav2vec2, the Whisper log-mel `(1, num_mel_bins, frames)` (backbones/log_mel.py) for Whisper.

Traced by torch.onnx's TorchScript exporter (`dynamo=False`) with the time axis dynamic. A
batch of one clip has no padding, so the model's data-dependent branches (which rows have
text or video, whether every frame is valid) take the same side for every audio-only clip
whatever its length; the lengths themselves flow as traced sizes (tested at 0.5 s ... 29 s
against the torch Predictor, tests/inference/test_onnx.py).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from wavfusion.atomic import atomic_write, write_text
from wavfusion.backbones.log_mel import SAMPLE_RATE
from wavfusion.inference.onnx_record import (
    LOG_MEL,
    ONNX_NAME,
    RECORD_NAME,
    WAVEFORM,
    OnnxRecord,
    record_json,
    source_hashes,
)
from wavfusion.inference.run_features import read_run_features
from wavfusion.model.wavfusion import WavFusion
from wavfusion.model.whisper_backbone import WhisperBackbone

OPSET = 17
EXAMPLE_SECONDS = 3.7  # the traced example's length (any: the time axis is dynamic)


class ExportError(ValueError):
    """A RUN whose model cannot be exported for the audio-only fast path; says why."""


class AudioOnlyGraph(nn.Module):
    """WavFusion on one audio-only clip, from the front-end input to probabilities and gates.

    `stored`: the prefix is frozen, so the torch Predictor feeds the model its float16
    features (the cache's); otherwise it feeds the raw audio and nothing is rounded."""

    def __init__(self, model: WavFusion, stored: bool) -> None:
        super().__init__()
        self.model = model
        self.stored = stored
        self.log_mel_input = isinstance(model.backbone, WhisperBackbone)

    def forward(self, front: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """front: `(1, samples)` waveform, or `(1, num_mel_bins, frames)` log-mel (Whisper).
        Returns probabilities `(1, num_classes)` and gates `(deep_layers,)` (NaN: no P)."""
        backbone = self.model.backbone
        if self.log_mel_input:
            frame_counts = torch.ones_like(front[:, 0, :], dtype=torch.long).sum(dim=1)
            hidden, frame_mask = backbone.embed(front, frame_counts)
            hidden = backbone.shallow_layers_forward(hidden, frame_mask)
        else:
            hidden, frame_mask = self.model.audio_prefix(front)
        if self.stored:
            hidden = hidden.to(torch.float16)
        output = self.model(audio_features=hidden, audio_features_mask=frame_mask)
        probabilities = torch.softmax(output.logits.float(), dim=-1)
        gates = [gate[0][frame_mask[0]].float().mean() for gate in output.gates]
        return probabilities, (torch.stack(gates) if gates else probabilities.new_zeros(0))


def audio_only_graph(folder: Path) -> tuple[AudioOnlyGraph, OnnxRecord]:
    """The graph of RUN `folder`'s model and the record that goes with it (sources hashed
    before the model is read). ExportError for a model without audio."""
    sources = source_hashes(folder)
    model = WavFusion.from_pretrained(folder).eval()
    config = model.config
    if model.backbone is None:
        raise ExportError(f"{folder}: the model does not use audio; the fast path predicts "
                          "from audio alone")
    graph = AudioOnlyGraph(model, bool(config.freeze_shallow)).eval()
    front_end = getattr(model.backbone, "front_end", None)
    record = OnnxRecord(
        sources=sources,
        input_kind=LOG_MEL if graph.log_mel_input else WAVEFORM,
        num_mel_bins=front_end.num_mel_bins if graph.log_mel_input else None,
        labels=config.labels or [str(index) for index in range(config.num_classes)],
        modalities=list(config.modalities),
        deep_layers=len(model.backbone.deep_layers),
        max_seconds=float(read_run_features(folder).options.max_seconds),
    )
    return graph, record


def example_input(record: OnnxRecord) -> torch.Tensor:
    """A traced example of the graph's input, EXAMPLE_SECONDS of noise."""
    from wavfusion.backbones.log_mel import log_mel

    waveform = torch.randn(int(EXAMPLE_SECONDS * SAMPLE_RATE), generator=torch.Generator()
                           .manual_seed(0)) * 0.1
    if record.input_kind == WAVEFORM:
        return waveform[None]
    return torch.from_numpy(log_mel(waveform.numpy(), record.num_mel_bins))[None]


def export_onnx(folder: str | Path) -> Path:
    """Write RUN/model.onnx (atomically) and its record RUN/model.onnx.json; returns the
    graph's path. The old record is removed first, so a failed export leaves no fresh one."""
    folder = Path(folder)
    graph, record = audio_only_graph(folder)
    (folder / RECORD_NAME).unlink(missing_ok=True)
    example = example_input(record)
    name = record.input_kind
    axes = {name: {1: "samples"} if name == WAVEFORM else {2: "frames"}, "gates": {0: "layers"}}

    def write(path: Path) -> None:
        # nn.MultiheadAttention's fused inference kernel (the text and visual encoders' SA,
        # in the graph of a concat model) has no ONNX form; its unfused path is the same math.
        fused = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)
        try:
            with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
                # The tracer warns at every Python bool/int taken from a tensor; for one clip
                # without padding those take the same value at any length (module docstring).
                warnings.simplefilter("ignore")
                torch.onnx.export(graph, (example,), str(path), input_names=[name],
                                  output_names=["probabilities", "gates"], dynamic_axes=axes,
                                  opset_version=OPSET, dynamo=False)
        finally:
            torch.backends.mha.set_fastpath_enabled(fused)

    atomic_write(folder / ONNX_NAME, write)
    write_text(folder / RECORD_NAME, record_json(record))
    return folder / ONNX_NAME


__all__ = ["AudioOnlyGraph", "ExportError", "export_onnx"]
