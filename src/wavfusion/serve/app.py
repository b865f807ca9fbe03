"""The FastAPI application of `wavfusion serve`.

Routes: POST /v1/predict (multipart: one or more `file`, optional `transcript`,
`transcribe`, `segments`), GET /v1/model, GET /healthz, GET /docs (OpenAPI), GET / (the web
page, static files in serve/static/, no CDN).

Safety: the request body is counted as it arrives and refused past the cap (413); each
upload is streamed to a temporary file of the server's own naming (nothing the client sends
becomes a path), always deleted; content is checked by decoding it (422 with the reason);
inference runs in a bounded thread pool (503 + Retry-After when `workers + queue` requests
are already admitted); an error in one request is answered (500) and never stops the server;
with a token every /v1 route needs `Authorization: Bearer TOKEN` (401).

Each file's answer is what `Predictor.predict` returns for it, the very function behind
`wavfusion predict`, plus `scores` [{label, score}] sorted by score (Hugging Face's
audio-classification shape); a recording longer than the model hears at once gets
`Predictor.predict_timeline`'s answer, as on the command line.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from wavfusion.data.errors import DataError

STATIC = Path(__file__).parent / "static"
CHUNK = 1 << 20
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, headers and the small text fields
SEGMENT_MODES = ("auto", "off", "vad", "fixed")
RETRY_AFTER_SECONDS = 2
MAX_FILES = 16


@dataclass(frozen=True)
class ServeSettings:
    max_upload_bytes: int = 200 * 1024 * 1024
    workers: int = 1
    queue: int = 8  # admitted requests waiting for a worker beyond the busy ones
    token: str | None = None


class UploadTooLarge(Exception):
    pass


class BadRequest(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status, self.detail = status, detail


class BodyLimit:
    """Pure ASGI middleware: refuses a declared Content-Length past the cap before reading,
    and counts the bytes of a body without one (UploadTooLarge past the cap)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            response = JSONResponse({"detail": _too_large(self.limit)}, status_code=413)
            return await response(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise UploadTooLarge()
            return message

        return await self.app(scope, counted, send)


def _too_large(limit: int) -> str:
    return f"upload larger than the server's limit of {limit / 2**20:g} MiB (--max-upload-mb)"


def with_scores(result: dict[str, Any]) -> dict[str, Any]:
    """`result` plus `scores`: [{label, score}] by descending score (a clip's probabilities,
    a timeline's shares of speaking time)."""
    values = result.get("probabilities") or (result.get("summary") or {}).get("shares") or {}
    scores = sorted(({"label": k, "score": v} for k, v in values.items()),
                    key=lambda item: -item["score"])
    return {**result, "scores": scores}


def model_info(predictor, transcribes: bool = False) -> dict[str, Any]:
    """Labels, modalities, backbone, encoders, the run's test metrics (when recorded) and
    whether `transcribe=true` is available."""
    config = predictor.model.config
    options = predictor.encoders.options
    metrics = None
    path = Path(predictor.run_folder) / "metrics.json"
    if path.is_file():
        try:
            metrics = json.loads(path.read_text()).get("test")
        except (OSError, ValueError):
            metrics = None
    return {
        "run": Path(predictor.run_folder).name,
        "labels": list(predictor.labels),
        "modalities": list(config.modalities),
        "backbone": str(config.audio_backbone),
        "encoders": {"text": str(getattr(options, "text_encoder", None)),
                     "image": str(getattr(options, "image_encoder", None)),
                     "feature_settings": str(predictor.feature_source).replace(
                         str(predictor.run_folder), "RUN")},  # no server paths
        "max_seconds": options.max_seconds,
        "test_metrics": metrics,
        "transcribe": transcribes,
    }


def _bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "true", "yes", "on")


def create_app(predictor, settings: ServeSettings | None = None,
               transcriber=None) -> FastAPI:
    """The app around a loaded `predictor` (Predictor.from_run, loaded once by the caller).
    `transcriber`: a Predictor that transcribes (for `transcribe=true`), None = the same."""
    settings = settings or ServeSettings()
    pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="wavfusion")
    capacity = settings.workers + settings.queue
    admitted = {"n": 0}
    lock = threading.Lock()
    @asynccontextmanager
    async def lifespan(_app):
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(lifespan=lifespan, title="wavfusion", summary="Speech emotion recognition with a trained "
                  "WavFusion run", version="1")
    app.state.predictor, app.state.settings, app.state.pool = predictor, settings, pool
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + MULTIPART_OVERHEAD)

    @app.exception_handler(UploadTooLarge)
    async def _too_large_handler(request, error):
        return JSONResponse({"detail": _too_large(settings.max_upload_bytes)}, status_code=413)

    @app.exception_handler(BadRequest)
    async def _bad_request(request, error):
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if error.status == 503 else None
        return JSONResponse({"detail": error.detail}, status_code=error.status,
                            headers=headers)

    @app.exception_handler(Exception)
    async def _failed(request, error):  # answered, logged by uvicorn; the server stays up
        return JSONResponse({"detail": f"internal error: {type(error).__name__}"},
                            status_code=500)

    @app.middleware("http")
    async def _auth(request: Request, call_next):
        if settings.token and request.url.path.startswith("/v1"):
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode()):
                return JSONResponse({"detail": "missing or wrong bearer token"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return await call_next(request)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "busy": admitted["n"], "capacity": capacity}

    @app.get("/v1/model")
    def model() -> dict[str, Any]:
        return model_info(predictor, transcriber is not None or bool(predictor.transcribe))

    def predict_one(path: Path, name: str, transcript: str | None, transcribe: bool,
                    segments: str) -> dict[str, Any]:
        from wavfusion.inference.recording import declared_seconds
        from wavfusion.inference.timeline import TimelineRefused, resolve_mode

        chosen = transcriber if (transcribe and transcriber is not None) else predictor
        model_seconds = chosen.encoders.options.max_seconds
        seconds = declared_seconds(path)
        if segments == "off" and seconds is not None and seconds > model_seconds:
            raise TimelineRefused(name, f"the recording lasts {seconds:.1f} s, longer than "
                                  f"the {model_seconds:g} s the model hears at once; send "
                                  "segments=auto, vad or fixed")
        if segments in ("vad", "fixed") or resolve_mode(segments, seconds,
                                                         model_seconds) != "off":
            result = chosen.predict_timeline(path, segments)
        else:
            result = chosen.predict(path, transcript)
        return with_scores({**result, "file": name})

    async def save(upload, folder: Path, index: int) -> Path:
        target = folder / f"upload-{index}"  # our name: the client's never becomes a path
        written = 0
        out = await asyncio.to_thread(target.open, "wb")  # file work off the event loop
        try:
            while chunk := await upload.read(CHUNK):
                written += len(chunk)
                if written > settings.max_upload_bytes:
                    raise UploadTooLarge()
                await asyncio.to_thread(out.write, chunk)
        finally:
            out.close()
        if written == 0:
            raise BadRequest(422, f"{_client_name(upload, index)}: the upload is empty")
        return target

    @app.post("/v1/predict", openapi_extra={"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": "one or more audio or video files"},
            "transcript": {"type": "string", "description": "what is said (one file)"},
            "transcribe": {"type": "boolean", "description": "fill a missing transcript "
                           "with Whisper (the server must have been started with it)"},
            "segments": {"type": "string", "enum": list(SEGMENT_MODES),
                         "description": "auto (default): a timeline when the recording is "
                         "longer than the model hears at once; off; vad; fixed"}}}}}}})
    async def predict(request: Request) -> JSONResponse:
        with lock:
            if admitted["n"] >= capacity:
                raise BadRequest(503, "the server is busy; retry shortly")
            admitted["n"] += 1
        try:
            return await _predict(request)
        finally:
            with lock:
                admitted["n"] -= 1

    async def _predict(request: Request) -> JSONResponse:
        try:
            form = await request.form(max_files=MAX_FILES, max_fields=16)
        except UploadTooLarge:
            raise
        except Exception as error:  # starlette's MultiPartException and kin
            raise BadRequest(400, f"not a readable multipart form: {error}") from error
        try:
            uploads = [item for item in form.getlist("file") if hasattr(item, "read")]
            if not uploads:
                raise BadRequest(422, "no `file` in the form")
            transcript = form.get("transcript")
            transcript = transcript.strip() or None if isinstance(transcript, str) else None
            if transcript and len(uploads) > 1:
                raise BadRequest(422, "`transcript` gives one text for one file")
            segments = str(form.get("segments") or "auto")
            if segments not in SEGMENT_MODES:
                raise BadRequest(422, f"segments must be one of {', '.join(SEGMENT_MODES)}")
            transcribe = _bool(form.get("transcribe") if isinstance(form.get("transcribe"),
                                                                   str) else None)
            if transcribe and transcriber is None and not predictor.transcribe:
                raise BadRequest(422, "this server was started without --transcribe")
            results, failed = [], 0
            with tempfile.TemporaryDirectory(prefix="wavfusion-serve-") as folder:
                for index, upload in enumerate(uploads):
                    name = _client_name(upload, index)
                    path = await save(upload, Path(folder), index)
                    try:
                        result = await asyncio.get_running_loop().run_in_executor(
                            pool, predict_one, path, name, transcript, transcribe, segments)
                    except DataError as error:
                        failed += 1
                        result = {"file": name, "error": error.reason}
                    finally:
                        path.unlink(missing_ok=True)
                    results.append(result)
        finally:
            await form.close()
        if failed == len(results):
            detail = results[0]["error"] if len(results) == 1 else results
            raise BadRequest(422, detail)
        return JSONResponse(results[0] if len(results) == 1 else {"results": results})

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _client_name(upload, index: int) -> str:
    """The client's file name for messages only (base name, at most 200 characters)."""
    name = os.path.basename((upload.filename or "").replace("\\", "/"))[:200]
    return name or f"file {index + 1}"
