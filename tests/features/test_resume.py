"""An extraction killed with SIGKILL mid-run resumes to the bytes an uninterrupted run writes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.features.conftest import EXTRACT_THREADS, FRAMES, PART_SIZE, folder_digest
from tests.features.tiny import DELAY_VARIABLE, IMAGE_PLUGIN
from wavfusion.features.cache import FeatureCache
from wavfusion.features.store import PARTS_FOLDER

REPO = Path(__file__).resolve().parents[2]
PARTS = 3  # 12 rows in parts of 4; each part has a video, so each sleeps DELAY seconds
DELAY = "1.5"
TIMEOUT = 120.0


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_extraction_resumes_to_a_bit_identical_cache(
    tmp_path, corpus, tiny_backbone, tiny_text, extract, reference_cache
):
    killed = tmp_path / "killed"
    command = [
        sys.executable, "-m", "wavfusion.cli", "extract", "--manifest", str(corpus),
        "--out", str(killed), "--audio-backbone", str(tiny_backbone), "--shallow-layers", "1",
        "--text-encoder", str(tiny_text), "--max-text-tokens", "16",
        "--image-encoder", IMAGE_PLUGIN, "--frames", str(FRAMES),
        "--part-size", str(PART_SIZE), "--threads", str(EXTRACT_THREADS), "--no-progress",
    ]
    environment = {**os.environ, DELAY_VARIABLE: DELAY, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, cwd=REPO, env=environment, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    parts = killed / PARTS_FOLDER
    deadline = time.monotonic() + TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        if parts.is_dir() and any(parts.glob("p*.json")):
            process.send_signal(signal.SIGKILL)  # no cleanup handler runs
            break
        time.sleep(0.01)
    try:  # returns once every holder of the pipe is gone
        output = process.communicate(timeout=TIMEOUT)[0].decode(errors="replace")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # leave nothing behind if the test fails
    assert process.returncode == -signal.SIGKILL, f"not killed mid-run:\n{output}"
    written = len(list(parts.glob("p*.json")))
    assert 1 <= written < PARTS, output

    report = extract(killed)  # the same settings, in this process
    assert (report.parts_reused, report.parts_written) == (written, PARTS - written)
    assert folder_digest(killed) == folder_digest(reference_cache)  # uninterrupted
    assert len(FeatureCache.open(killed).ids) == 11
