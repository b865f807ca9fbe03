"""`wavfusion serve`'s options: registered, warning for a public address without a token,
torch threads divided among the workers."""

from __future__ import annotations

from wavfusion.cli import build_parser, main
from wavfusion.serve.cli import torch_threads


def test_serve_is_a_subcommand_with_safe_defaults(tmp_path):
    args = build_parser().parse_args(["serve", "--model", str(tmp_path)])
    assert (args.host, args.port, args.workers, args.max_upload_mb, args.token) == \
        ("127.0.0.1", 8000, 1, 200.0, None)


def test_a_public_address_without_token_warns(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("WAVFUSION_TOKEN", raising=False)
    code = main(["serve", "--model", str(tmp_path / "no-run"), "--host", "0.0.0.0"])
    error = capsys.readouterr().err
    assert code == 2 and "warning: binding 0.0.0.0 without --token" in error


def test_a_token_from_the_environment_silences_the_warning(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WAVFUSION_TOKEN", "s3cret")
    main(["serve", "--model", str(tmp_path / "no-run"), "--host", "0.0.0.0"])
    assert "warning" not in capsys.readouterr().err


def test_torch_threads_share_the_cores():
    assert torch_threads(1, cores=8) == 8
    assert torch_threads(3, cores=8) == 2
    assert torch_threads(16, cores=8) == 1
