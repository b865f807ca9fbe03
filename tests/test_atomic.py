"""The one atomic-write helper: whole new content or the old file, never half of one."""

from __future__ import annotations

import os
import stat

import pytest

from wavfusion import atomic


def test_write_text_replaces_the_whole_file(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    atomic.write_text(target, "new content\n")
    assert target.read_text() == "new content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_write_bytes_takes_chunks_in_order(tmp_path):
    target = tmp_path / "a.bin"
    atomic.write_bytes(target, [b"ab", b"", b"cd"], durable=False)
    assert target.read_bytes() == b"abcd"


def test_a_failing_writer_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"old")

    def half_then_fail(path):
        path.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_the_temporary_is_hidden_beside_the_target_and_unique(tmp_path):
    target = tmp_path / "index.json"
    first, second = atomic.temporary_name(target), atomic.temporary_name(target)
    assert first != second
    assert first.parent == tmp_path
    assert first.name.startswith(".index.json.") and first.name.endswith(atomic.TEMP_SUFFIX)


def test_the_written_file_has_the_usual_permissions(tmp_path):
    # mkstemp would leave 0600; a cache or run folder must stay readable like any file
    umask = os.umask(0o022)
    os.umask(umask)
    target = tmp_path / "run.json"
    atomic.write_text(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
