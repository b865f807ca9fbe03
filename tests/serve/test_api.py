"""The HTTP API through FastAPI's TestClient: a good clip and several files with the tiny
trained RUN; 401, 413, 422 and 503 (with a stub predictor that can be held busy)."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient

from wavfusion.serve.app import ServeSettings, create_app


def _wav_bytes(seconds: float = 0.5) -> bytes:
    samples = (0.1 * np.sin(np.arange(int(16000 * seconds)) / 5) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client(predictor):
    with TestClient(create_app(predictor)) as test_client:
        yield test_client


def _clip(sample_rows) -> Path:
    return Path(sample_rows["wav"].extra["path"])


def test_a_good_clip_is_what_predict_returns_plus_sorted_scores(client, predictor,
                                                                 sample_rows):
    clip = _clip(sample_rows)
    response = client.post("/v1/predict", files={"file": ("my clip.wav", clip.read_bytes())})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = predictor.predict(clip)
    assert body["file"] == "my clip.wav"
    assert body["label"] == expected["label"]
    assert body["probabilities"] == pytest.approx(expected["probabilities"], abs=1e-4)
    assert set(body) == set(expected) | {"scores"}
    scores = [item["score"] for item in body["scores"]]
    assert scores == sorted(scores, reverse=True)
    assert body["scores"][0]["label"] == body["label"]


def test_several_files_one_bad_answer_each(client, sample_rows):
    clip = _clip(sample_rows).read_bytes()
    response = client.post("/v1/predict", files=[("file", ("a.wav", clip)),
                                                 ("file", ("b.wav", b"not audio at all")),
                                                 ("file", ("c.wav", clip))])
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [item["file"] for item in results] == ["a.wav", "b.wav", "c.wav"]
    assert "label" in results[0] and "label" in results[2] and "error" in results[1]


def test_model_health_docs_and_page(client):
    model = client.get("/v1/model").json()
    assert model["labels"] and model["modalities"] and "backbone" in model
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    assert "multipart/form-data" in json.dumps(client.get("/openapi.json").json())
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text and "http" not in \
        page.text.split("<body", 1)[0].replace("http-equiv", "")


@pytest.mark.parametrize("payload, reason", [
    (b"", "empty"),
    (b"\x00garbage" * 50, ""),
    (b"just text, named .wav", ""),
    (_wav_bytes()[:60], ""),
])
def test_undecodable_uploads_are_422_with_a_reason(client, payload, reason):
    response = client.post("/v1/predict", files={"file": ("clip.wav", payload)})
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"] and response.json()["detail"]


def test_no_file_and_a_bad_segments_value_are_422(client, sample_rows):
    assert client.post("/v1/predict", data={"transcript": "hi"}).status_code == 422
    response = client.post("/v1/predict", data={"segments": "sideways"},
                           files={"file": ("a.wav", _clip(sample_rows).read_bytes())})
    assert response.status_code == 422 and "segments" in response.json()["detail"]


class _Stub:
    """Enough of a Predictor: labels, encoders.options.max_seconds, predict (can block)."""

    transcribe = False

    def __init__(self) -> None:
        self.labels = ["calm", "angry"]
        self.encoders = SimpleNamespace(options=SimpleNamespace(max_seconds=10.0))
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.release.set()

    def predict(self, path, transcript=None):
        assert Path(path).name.startswith("upload-")  # our name, never the client's
        self.started.release()
        self.release.wait(10)
        return {"file": str(path), "label": "angry",
                "probabilities": {"calm": 0.2, "angry": 0.8}}


def test_upload_past_the_cap_is_413_and_nothing_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    app = create_app(_Stub(), ServeSettings(max_upload_bytes=100_000))
    with TestClient(app) as test_client:
        response = test_client.post("/v1/predict",
                                    files={"file": ("big.wav", b"\x00" * 300_000)})
        assert response.status_code == 413 and "MiB" in response.json()["detail"]
        ok = test_client.post("/v1/predict", files={"file": ("ok.wav", _wav_bytes())})
        assert ok.status_code == 200 and ok.json()["scores"][0] == {"label": "angry",
                                                                    "score": 0.8}
    assert list(tmp_path.iterdir()) == []  # every upload deleted


def test_token_guards_v1_only():
    app = create_app(_Stub(), ServeSettings(token="s3cret"))
    with TestClient(app) as test_client:
        assert test_client.get("/v1/model").status_code == 401
        assert test_client.post("/v1/predict", files={"file": ("a.wav", _wav_bytes())},
                                headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert test_client.get("/healthz").status_code == 200
        assert test_client.get("/").status_code == 200
        response = test_client.post("/v1/predict", files={"file": ("a.wav", _wav_bytes())},
                                    headers={"Authorization": "Bearer s3cret"})
        assert response.status_code == 200


def test_a_full_queue_is_503_with_retry_after():
    stub = _Stub()
    stub.release.clear()
    app = create_app(stub, ServeSettings(workers=1, queue=0))
    with TestClient(app) as test_client:
        busy = threading.Thread(target=test_client.post, args=("/v1/predict",),
                                kwargs={"files": {"file": ("a.wav", _wav_bytes())}})
        busy.start()
        assert stub.started.acquire(timeout=10)
        response = test_client.post("/v1/predict", files={"file": ("b.wav", _wav_bytes())})
        stub.release.set()
        busy.join(10)
    assert response.status_code == 503 and response.headers["Retry-After"]


def test_a_crashing_prediction_is_500_and_the_server_keeps_answering():
    stub = _Stub()
    stub.predict = lambda path, transcript=None: 1 / 0
    with TestClient(create_app(stub), raise_server_exceptions=False) as test_client:
        assert test_client.post("/v1/predict",
                                files={"file": ("a.wav", _wav_bytes())}).status_code == 500
        assert test_client.get("/healthz").status_code == 200


def test_segments_fixed_answers_the_timeline_with_scores(client, sample_rows):
    response = client.post("/v1/predict", data={"segments": "fixed"},
                           files={"file": ("clip.wav", _clip(sample_rows).read_bytes())})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["file"] == "clip.wav" and body["segments"] and "summary" in body
    assert body["scores"][0]["label"] == body["summary"]["dominant"]


def test_transcribe_runs_whisper_only_for_the_requests_that_ask(predictor, sample_rows,
                                                                monkeypatch, tmp_path):
    monkeypatch.setenv("WAVFUSION_CACHE", str(tmp_path))  # a fresh transcript cache
    transcriber = dataclasses.replace(predictor, transcribe=True)
    with TestClient(create_app(predictor, transcriber=transcriber)) as test_client:
        assert test_client.get("/v1/model").json()["transcribe"] is True
        clip = ("clip.wav", _clip(sample_rows).read_bytes())
        plain = test_client.post("/v1/predict", files={"file": clip}).json()
        asked = test_client.post("/v1/predict", data={"transcribe": "true"},
                                 files={"file": clip}).json()
        given = test_client.post("/v1/predict", data={"transcribe": "true", "transcript": "hi"},
                                 files={"file": clip}).json()
    assert "transcribe" not in plain["timings"] and plain["transcript_source"] is None
    assert "transcribe" in asked["timings"]  # Whisper ran; the synthetic voice may say nothing
    assert given["transcript"] == "hi" and given["transcript_source"] == "given"
    assert "transcribe" not in given["timings"]


@pytest.mark.real_data
def test_transcribe_true_fills_the_transcript_of_real_speech(predictor, shared_data,
                                                              monkeypatch, tmp_path):
    from tests.asr.test_transcribe import RAVDESS_STATEMENTS, words

    monkeypatch.setenv("WAVFUSION_CACHE", str(tmp_path))
    clip = shared_data / "ravdess-original-wav" / "Actor_01" / "03-01-08-01-02-02-01.wav"
    transcriber = dataclasses.replace(predictor, transcribe=True)
    with TestClient(create_app(predictor, transcriber=transcriber)) as test_client:
        body = test_client.post("/v1/predict", data={"transcribe": "true"},
                                files={"file": ("speech.wav", clip.read_bytes())}).json()
    assert body["transcript_source"] == "transcribed" and "text" in body["modalities"]
    assert words(body["transcript"]) == RAVDESS_STATEMENTS[clip.stem.split("-")[4]].split()


def test_transcribe_true_on_a_server_without_whisper_is_422(client, sample_rows):
    response = client.post("/v1/predict", data={"transcribe": "true"},
                           files={"file": ("clip.wav", _clip(sample_rows).read_bytes())})
    assert response.status_code == 422 and "without --transcribe" in response.json()["detail"]
    assert client.get("/v1/model").json()["transcribe"] is False


def test_two_workers_answer_concurrent_requests_as_one_does(predictor, sample_rows):
    from concurrent.futures import ThreadPoolExecutor

    clips = [("clip.wav", _clip(sample_rows).read_bytes()),
             ("clip.mp4", Path(sample_rows["mp4"].extra["path"]).read_bytes())] * 3
    with TestClient(create_app(predictor, ServeSettings(workers=2))) as test_client:
        def ask(clip):
            return test_client.post("/v1/predict", files={"file": clip})

        with ThreadPoolExecutor(len(clips)) as clients:
            answers = list(clients.map(ask, clips))
    assert [answer.status_code for answer in answers] == [200] * len(clips)
    for answer, clip in zip(answers, clips):
        alone = predictor.predict(Path(sample_rows["wav" if clip[0].endswith("wav") else "mp4"]
                                       .extra["path"]))
        for label, value in alone["probabilities"].items():
            assert answer.json()["probabilities"][label] == pytest.approx(value, abs=1e-5)
