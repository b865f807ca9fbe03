"""`wavfusion serve --model RUN`: the HTTP API and web page of serve/app.py, with uvicorn.

The model and its encoders load once, before the port opens. Binds 127.0.0.1 unless told
otherwise; `--token` (or WAVFUSION_TOKEN) makes every /v1 call need a bearer token, and
binding another address without one prints a warning.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from wavfusion.cli_options import add_device_option, resolve_device

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def torch_threads(workers: int, cores: int | None = None) -> int:
    """Torch threads per worker so that `workers` concurrent inferences share the cores."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def run_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from wavfusion.serve.app import ServeSettings, create_app
    except ModuleNotFoundError as error:
        print(f"wavfusion serve: error: {error.name} is missing; pip install "
              "'wavfusion[serve]'", file=sys.stderr)
        return 2
    if args.workers < 1 or args.max_upload_mb <= 0 or args.queue < 0:
        print("wavfusion serve: error: --workers >= 1, --max-upload-mb > 0, --queue >= 0",
              file=sys.stderr)
        return 2
    token = args.token or os.environ.get("WAVFUSION_TOKEN") or None
    if args.host not in LOOPBACK and not token:
        print(f"wavfusion serve: warning: binding {args.host} without --token: anyone who "
              "reaches this address can use the model", file=sys.stderr)
    import torch

    from wavfusion.data.errors import DataError
    from wavfusion.inference.predictor import Predictor
    from wavfusion.quiet import quiet_third_party

    quiet_third_party()
    torch.set_num_threads(args.threads or torch_threads(args.workers))
    try:
        predictor = Predictor.from_run(args.model, device=resolve_device(args.device))
    except (DataError, FileNotFoundError, ValueError) as error:
        print(f"wavfusion serve: error: {error}", file=sys.stderr)
        return 2
    settings = ServeSettings(max_upload_bytes=int(args.max_upload_mb * 2**20),
                             workers=args.workers, queue=args.queue, token=token)
    # the same loaded model, transcribing only for requests that ask for it
    transcriber = dataclasses.replace(predictor, transcribe=True) if args.transcribe else None
    app = create_app(predictor, settings, transcriber)
    print(f"wavfusion serve: {args.model} on http://{args.host}:{args.port}/ "
          f"({args.workers} worker(s), {torch.get_num_threads()} torch thread(s))",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve a trained model over HTTP (API + web page)",
        description="Serve RUN (wavfusion train --out RUN): POST /v1/predict, GET /v1/model, "
        "GET /healthz, GET /docs, and a web page at /. Needs pip install 'wavfusion[serve]'.")
    parser.add_argument("--model", type=Path, required=True, help="a run folder")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default %(default)s: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="default %(default)s")
    parser.add_argument("--workers", type=int, default=1,
                        help="inferences run at once (default %(default)s); torch threads "
                        "are the cores divided among them")
    parser.add_argument("--queue", type=int, default=8,
                        help="requests admitted to wait beyond the busy workers; past "
                        "that: 503 with Retry-After (default %(default)s)")
    parser.add_argument("--max-upload-mb", type=float, default=200.0,
                        help="largest request body, MiB (default %(default)s; 413 past it)")
    parser.add_argument("--token", default=None,
                        help="require Authorization: Bearer TOKEN on /v1 (default: "
                        "$WAVFUSION_TOKEN when set)")
    parser.add_argument("--transcribe", action="store_true",
                        help="allow transcribe=true: Whisper fills a missing transcript")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: cores / --workers)")
    parser.add_argument("--log-level", default="warning",
                        choices=["critical", "error", "warning", "info", "debug"])
    add_device_option(parser)
    parser.set_defaults(handler=run_serve)
