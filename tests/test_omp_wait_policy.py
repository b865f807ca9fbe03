"""Importing wavfusion makes torch's OpenMP threads sleep while they wait, unless the user chose."""

from __future__ import annotations

import os
import subprocess
import sys

CODE = "import os, wavfusion, torch; print(os.environ['OMP_WAIT_POLICY'])"


def policy_seen(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    return subprocess.run([sys.executable, "-c", CODE], env={**base, **env}, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_threads_sleep_while_waiting_unless_the_user_set_a_policy():
    assert policy_seen() == "PASSIVE"
    assert policy_seen(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
