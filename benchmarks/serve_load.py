"""Load on `wavfusion serve`: concurrent clients on loopback, good clips and bad uploads.

A real `wavfusion serve` process (an untrained WavFusion on the defaults, saved to a
temporary RUN; weights do not change the cost) on a free 127.0.0.1 port; --clients
concurrent clients each send --requests 5-s WAV clips (POST /v1/predict), with --bad bad
uploads mixed in (empty, garbage bytes, oversize, a text file named .wav, a truncated WAV).
Bounded: no request starts after --max-seconds, and each has a timeout. Reports p50/p95
latency and requests per second of the good ones, the error count (target: 0 on good input,
every bad one a 4xx), the server's peak RSS after warm-up vs at the end (target: at most
1.2x), and whether /healthz still answers. The server's queue admits every client (no 503 by
design: --queue = --clients).

    python benchmarks/serve_load.py [--clients 50] [--requests 10] [--bad 20] [--workers 1]
                                    [--max-seconds 900] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from results import record  # benchmarks/ is on sys.path: run as a script
from untrained import untrained_run

ROOT = Path(__file__).resolve().parents[1]
MAX_UPLOAD_MB = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _peak_rss_mib(pid: int) -> float:
    """VmHWM of `pid` (peak resident set since start), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _run_folder(folder: Path) -> tuple[Path, bytes]:
    from wavfusion.data.synthetic.samples import write_sample_clips

    rows = write_sample_clips(folder, 5.0)
    return untrained_run(folder), (folder / rows["wav"].audio).read_bytes()


def _bad_uploads(clip: bytes, count: int) -> list[tuple[str, bytes]]:
    kinds = [("empty.wav", b""), ("garbage.wav", os.urandom(4096)),
             ("oversize.wav", b"\x00" * (MAX_UPLOAD_MB * 2**20 + 4096)),
             ("text.wav", b"this is a text file, not audio\n" * 20),
             ("truncated.wav", clip[:60])]
    return [kinds[index % len(kinds)] for index in range(count)]


async def _load(url: str, clip: bytes, args) -> dict:
    import httpx

    good: list[float] = []
    errors: list[str] = []
    bad_status: list[int] = []
    bad = _bad_uploads(clip, args.bad)
    random.Random(0).shuffle(bad)
    deadline = time.monotonic() + args.max_seconds
    limits = httpx.Limits(max_connections=args.clients + 4)
    async with httpx.AsyncClient(base_url=url, timeout=args.max_seconds, limits=limits) as http:

        async def client(number: int) -> None:
            for _ in range(args.requests):
                if time.monotonic() > deadline:
                    return
                if bad and random.random() < args.bad / (args.clients * args.requests):
                    name, payload = bad.pop()
                    try:
                        answer = await http.post("/v1/predict", files={"file": (name, payload)})
                        bad_status.append(answer.status_code)
                    except httpx.HTTPError as error:
                        errors.append(f"bad {name}: {type(error).__name__}")
                started = time.perf_counter()
                try:
                    answer = await http.post("/v1/predict", files={"file": ("clip.wav", clip)})
                    if answer.status_code == 200:
                        good.append(time.perf_counter() - started)
                    else:
                        errors.append(f"good: {answer.status_code}")
                except httpx.HTTPError as error:
                    errors.append(f"good: {type(error).__name__}")

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(args.clients)))
        elapsed = time.perf_counter() - started
        for name, payload in bad:  # the ones no client drew
            answer = await http.post("/v1/predict", files={"file": (name, payload)})
            bad_status.append(answer.status_code)
        healthy = (await http.get("/healthz")).status_code == 200
    return {"good": good, "errors": errors, "bad": bad_status, "elapsed": elapsed,
            "healthy": healthy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--bad", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--record", action="store_true",
                        help="write docs/benchmarks/serve_load.json")
    args = parser.parse_args()
    import httpx

    with tempfile.TemporaryDirectory() as temporary:
        run, clip = _run_folder(Path(temporary))
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        env.pop("WAVFUSION_TOKEN", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "wavfusion.cli", "serve", "--model", str(run), "--port",
             str(port), "--workers", str(args.workers), "--queue", str(args.clients + 8),
             "--max-upload-mb", str(MAX_UPLOAD_MB)], env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            else:
                raise SystemExit("serve did not start within 5 min")
            for _ in range(args.warmup):
                httpx.post(url + "/v1/predict", files={"file": ("clip.wav", clip)},
                           timeout=300).raise_for_status()
            warm_rss = _peak_rss_mib(server.pid)
            seen = asyncio.run(_load(url, clip, args))
            end_rss = _peak_rss_mib(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
    good = seen["good"]
    p50, p95 = (np.percentile(good, [50, 95]) if good else (float("nan"),) * 2)
    rate = len(good) / seen["elapsed"] if seen["elapsed"] else 0.0
    bad_ok = sum(400 <= status < 500 for status in seen["bad"])
    growth = end_rss / warm_rss if warm_rss else float("nan")
    print(f"serve load: {args.clients} clients x {args.requests} requests (5-s WAV), "
          f"{args.bad} bad uploads, {args.workers} worker(s), {os.cpu_count()} cores")
    print(f"  good: {len(good)} answered, p50 {p50:.2f} s, p95 {p95:.2f} s, {rate:.2f} req/s "
          f"over {seen['elapsed']:.1f} s; errors on good input: {len(seen['errors'])} "
          f"{sorted(set(seen['errors']))[:5]}")
    print(f"  bad: {bad_ok} of {len(seen['bad'])} answered 4xx ({sorted(seen['bad'])})")
    print(f"  server peak RSS: {warm_rss:.0f} MiB after warm-up, {end_rss:.0f} MiB at the end "
          f"({growth:.2f}x; target <= 1.2x); /healthz afterwards: "
          f"{'ok' if seen['healthy'] else 'FAILED'}")
    if args.record:
        command = "python benchmarks/serve_load.py " + " ".join(sys.argv[1:])
        record("serve_load", "wavfusion serve under load (loopback)", command,
               ["clients", "requests each", "workers", "good answered", "p50 s", "p95 s",
                "req/s", "errors on good", "bad 4xx", "bad sent", "RSS warm MiB",
                "RSS end MiB", "healthz after"],
               [[args.clients, args.requests, args.workers, len(good), round(float(p50), 3),
                 round(float(p95), 3), round(rate, 3), len(seen["errors"]), bad_ok,
                 len(seen["bad"]), round(warm_rss), round(end_rss),
                 "ok" if seen["healthy"] else "failed"]],
               notes=f"untrained default WavFusion, 5-s WAV clips, {os.cpu_count()} cores "
               "shared with other jobs; the model's cost, not the server's, sets the latency")


if __name__ == "__main__":
    main()
