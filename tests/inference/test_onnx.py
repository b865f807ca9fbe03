"""The ONNX fast path of `wavfusion predict`: RUN/model.onnx gives an audio-only clip the
torch Predictor's prediction at any length, a stale one is never used, the fast path runs
without torch, and every request the graph cannot answer takes the torch path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.features.tiny import save_tiny_wav2vec2
from wavfusion import WavFusion, WavFusionConfig
from wavfusion.cli import build_parser, main
from wavfusion.data.synthetic.samples import write_recording, write_sample_clips
from wavfusion.inference import ClipTooLong, PredictionError, Predictor
from wavfusion.inference.cli import _fast_predictor
from wavfusion.inference.onnx_export import export_onnx
from wavfusion.inference.onnx_predictor import OnnxPredictor
from wavfusion.inference.onnx_record import ONNX_NAME, RECORD_NAME

pytest.importorskip("onnx")
LENGTHS = (0.5, 2.3, 7.0, 29.0)  # seconds; the graph was traced on 3.7 s
# Measured: up to 3e-5 (a feature on a float16 rounding boundary). Leaving out the float16
# rounding of the prefix features moves them by 1.6e-4 (whisper) and 3.6e-4 (wav2vec2) on
# the 0.5-s clip: this tolerance tells.
PROBABILITY_TOLERANCE = 1e-4
SMALL = {"text_hidden": 16, "visual_hidden": 16, "lvc_codewords": 8, "encoder_heads": 2,
         "shared_dim": 16, "classifier_hidden": 16, "dropout": 0.0, "num_classes": 4,
         "labels": ["neutral", "happy", "sad", "angry"]}
# whisper: the default bundled tiny.en, frozen prefix (log-mel input, float16 features);
# wav2vec2: a tiny one, frozen (waveform input); embedded: from scratch, nothing frozen
# (the raw audio goes through the model, no float16); concat: no deep layers (Table 6's
# baseline: the text and visual encoders' empty stand-ins reach the classifier). Each with
# its last layer scaled so that the probabilities are far from uniform but not saturated.
FAMILIES = {"whisper": {"deep_layers": 1}, "wav2vec2": {"deep_layers": 2},
            "embedded": {"audio_backbone": "embedded-small", "deep_layers": 1},
            "concat": {"deep_layers": 0}}
LOGIT_SCALES = {"whisper": 10.0, "wav2vec2": 150.0, "embedded": 10.0, "concat": 10.0}


def _save_run(folder: Path, family: str) -> Path:
    values = {**SMALL, **FAMILIES[family]}
    if family == "wav2vec2":
        values["audio_backbone"] = str(save_tiny_wav2vec2(folder / "wav2vec2"))
    torch.manual_seed(0)
    model = WavFusion(WavFusionConfig(**values))
    with torch.no_grad():
        model.classifier[-1].weight.mul_(LOGIT_SCALES[family])
    return model.save_pretrained(folder / "run")


@pytest.fixture(scope="module", params=list(FAMILIES))
def exported(request, tmp_path_factory) -> Path:
    run = _save_run(tmp_path_factory.mktemp(f"onnx-{request.param}"), request.param)
    export_onnx(run)
    return run


@pytest.fixture(scope="module")
def whisper_run(tmp_path_factory) -> Path:
    run = _save_run(tmp_path_factory.mktemp("onnx-cli"), "whisper")
    export_onnx(run)
    return run


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[float, Path]:
    """Noisy speech-band clips of each of LENGTHS, as 16-bit WAV."""
    folder = tmp_path_factory.mktemp("onnx-clips")
    paths = {}
    for seconds in LENGTHS:
        times = np.arange(int(seconds * 16_000)) / 16_000
        rng = np.random.default_rng(int(seconds * 10))
        wave = 0.2 * np.sin(2 * np.pi * (180 + 40 * np.sin(3 * times)) * times)
        paths[seconds] = folder / f"clip-{seconds:g}s.wav"
        write_recording(paths[seconds], [(wave + rng.normal(0, 0.02, len(times)))
                                         .astype(np.float32)], gap_seconds=(0.0, 0.0))
    return paths


def _without_timings(result: dict) -> dict:
    return {key: value for key, value in result.items() if key not in ("timings",
                                                                      "probabilities")}


def test_onnx_gives_the_torch_prediction_at_any_length(exported, clips):
    torch_predictor = Predictor.from_run(exported)
    fast = OnnxPredictor.from_run(exported)
    assert fast is not None and fast.labels == torch_predictor.labels
    spread = []
    for seconds, clip in clips.items():
        expected, found = torch_predictor.predict(clip), fast.predict(clip)
        assert _without_timings(found) == _without_timings(expected), seconds  # label, gates...
        assert set(found["timings"]) == set(expected["timings"])
        assert list(found["probabilities"]) == list(expected["probabilities"])
        np.testing.assert_allclose(list(found["probabilities"].values()),
                                   list(expected["probabilities"].values()),
                                   atol=PROBABILITY_TOLERANCE, err_msg=f"{seconds} s")
        spread.append(max(expected["probabilities"].values()))
    assert 0.5 < max(spread) and min(spread) < 0.999  # far from uniform (1/4), not saturated


def test_a_stale_or_unrecorded_onnx_is_never_used(tmp_path, clips):
    run = _save_run(tmp_path, "wav2vec2")
    export_onnx(run)
    assert OnnxPredictor.from_run(run) is not None
    model = WavFusion.from_pretrained(run)
    with torch.no_grad():
        model.classifier[-1].bias.add_(1.0)
    model.save_pretrained(run)  # retrained, not exported again
    assert OnnxPredictor.from_run(run) is None
    export_onnx(run)
    assert OnnxPredictor.from_run(run) is not None
    (run / "run.json").write_text("{}")  # feature settings appeared since the export
    assert OnnxPredictor.from_run(run) is None
    export_onnx(run)
    (run / RECORD_NAME).unlink()  # an export killed before its record was written
    assert OnnxPredictor.from_run(run) is None
    export_onnx(run)
    (run / ONNX_NAME).unlink()
    assert OnnxPredictor.from_run(run) is None


FRESH_PREDICT = """
import json, sys
from wavfusion.cli import main
code = main(["predict", *sys.argv[2:], "--model", sys.argv[1], "--threads", "1"])
print(json.dumps({"code": code, "torch": "torch" in sys.modules,
                  "transformers": "transformers" in sys.modules}))
"""


def test_the_fast_path_predicts_without_importing_torch(whisper_run, clips):
    clip = clips[2.3]
    run = subprocess.run([sys.executable, "-c", FRESH_PREDICT, str(whisper_run), str(clip),
                          "--device", "cpu"], capture_output=True, text=True, check=True)
    result_line, modules_line = run.stdout.strip().splitlines()
    assert json.loads(modules_line) == {"code": 0, "torch": False, "transformers": False}
    found, expected = json.loads(result_line), Predictor.from_run(whisper_run).predict(clip)
    assert _without_timings(found) == _without_timings(expected)
    np.testing.assert_allclose(list(found["probabilities"].values()),
                               list(expected["probabilities"].values()),
                               atol=PROBABILITY_TOLERANCE)


def _args(run: Path, *options: str):
    return build_parser().parse_args(["predict", *options, "--model", str(run)])


def test_requests_the_graph_cannot_answer_take_the_torch_path(whisper_run, clips, tmp_path):
    clip = str(clips[2.3])
    assert _fast_predictor(_args(whisper_run, clip)) is not None
    for options in (["--transcript", "hello there"], ["--transcribe"],
                    ["--segments", "vad"], ["--format", "srt"], ["--device", "cuda"],
                    ["--transcripts", str(tmp_path / "t.csv")]):
        assert _fast_predictor(_args(whisper_run, clip, *options)) is None, options
    video = tmp_path / write_sample_clips(tmp_path, 0.8)["mp4"].video  # the model uses video
    assert _fast_predictor(_args(whisper_run, clip, str(video))) is None
    assert _fast_predictor(_args(whisper_run, str(clips[29.0]), "--segments", "off")) is not None


def test_a_transcript_is_used_by_the_torch_path(whisper_run, clips, capsys):
    assert main(["predict", str(clips[2.3]), "--model", str(whisper_run),
                 "--transcript", "kids are talking by the door"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["modalities"] == ["audio", "text"] and result["transcript_source"] == "given"


def test_the_fast_path_refuses_what_the_torch_path_refuses(whisper_run, tmp_path):
    fast, slow = OnnxPredictor.from_run(whisper_run), Predictor.from_run(whisper_run)
    long_clip = tmp_path / "long.wav"
    write_recording(long_clip, [np.zeros(31 * 16_000, np.float32)], gap_seconds=(0.0, 0.0))
    assert not fast.answers(long_clip)  # `predict` makes it a timeline, with torch
    with pytest.raises(ClipTooLong, match=r"31\.0 s"):
        fast.predict(long_clip)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00not really a wave file" * 10)
    for path in (tmp_path / "absent.wav", broken):
        with pytest.raises(PredictionError) as torch_error:
            slow.predict(path)
        with pytest.raises(PredictionError) as onnx_error:
            fast.predict(path)
        assert onnx_error.value.reason == torch_error.value.reason and path.name in str(
            onnx_error.value)


def test_export_command(whisper_run, tmp_path, capsys):
    assert main(["export", str(whisper_run)]) == 0
    assert "model.onnx" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "nowhere")]) == 2
    assert "not a model folder" in capsys.readouterr().err
