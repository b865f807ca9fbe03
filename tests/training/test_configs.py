"""Config files (`--config FILE.yaml`), the resolved config.yaml of a run, the model card, and
resuming a run killed by SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from wavfusion.cli import main
from wavfusion.training import config_cli as options
from wavfusion.training.checkpoint import CHECKPOINT_NAME

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "configs").glob("*.yaml"))
COMMAND_OF = {"cv": "cv", "ablate": "ablate"}  # by the file's `# command:` line


def _tiny_config(path: Path, manifest: Path, backbone: Path, out: Path, **changes) -> Path:
    values = {
        "manifest": str(manifest), "out": str(out), "cache": str(out.parent / "cache"),
        "epochs": 2, "batch_size": 6, "learning_rate": 1e-3, "progress": False,
        "threads": 1,
        "model": {"audio_backbone": str(backbone), "deep_layers": 2, "text_hidden": 16,
                  "visual_hidden": 16, "lvc_codewords": 8, "encoder_heads": 2,
                  "shared_dim": 16, "classifier_hidden": 16, "dropout": 0.0},
    }
    values.update(changes)
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def _command(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# command:"):
            return line.split(":", 1)[1].split()[1]  # "# command: wavfusion cv ..."
    return "train"


def test_configs_are_shipped():
    names = {path.stem for path in SHIPPED}
    assert {"iemocap-6class-session5", "iemocap-4class-loso", "meld-7class",
            "ravdess"} <= names, names


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_config_parses_and_resolves(path):
    """Without data: every key is an option, the values build TrainSettings, and the file's
    header says what data it expects, where to get it and what it costs."""
    header = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
    for word in ("data:", "download:", "cost:", "command:"):
        assert f"# {word}" in header, f"{path.name}: header lacks `# {word}`"
    command = _command(path)
    namespace = options.load_config(path, command)
    settings = options.settings_from(namespace)
    assert settings.manifest and settings.out and settings.model.modalities
    resolved = options.resolved_config(command, namespace)
    assert "config" not in yaml.safe_load(resolved)
    # the resolved config reads back to the same settings
    again = options.settings_from(options.parse(command, ["--config", str(path)]))
    assert again == settings


def test_command_line_overrides_the_file_and_defaults_come_from_the_dataclasses(tmp_path):
    from wavfusion.training.run import TrainSettings

    path = tmp_path / "c.yaml"
    path.write_text("manifest: m.csv\nout: run\nepochs: 7\nmodel:\n  deep_layers: 2\n")
    namespace = options.parse("train", ["--config", str(path), "--epochs", "3",
                                        "--deep-layers", "1", "--lr", "0.5", "--no-lvc"])
    settings = options.settings_from(namespace)
    assert (settings.epochs, settings.model.deep_layers, settings.learning_rate) == (3, 1, 0.5)
    assert settings.model.use_lvc is False
    defaults = TrainSettings(manifest=Path("m.csv"), out=Path("run"))
    assert settings.batch_size == defaults.batch_size
    assert settings.patience == defaults.patience
    with pytest.raises(SystemExit):
        options.parse("train", ["--config", str(path), "--no-such-option", "1"])
    with pytest.raises(SystemExit):
        options.parse("train", ["--epochs", "2"])  # neither manifest nor out


def test_a_tiny_config_trains_and_its_run_folder_reruns_it(tiny_manifest, tiny_backbone,
                                                           tmp_path, capsys):
    config = _tiny_config(tmp_path / "tiny.yaml", tiny_manifest, tiny_backbone,
                          tmp_path / "run")
    assert main(["train", "--config", str(config), "--dataset", "ravdess"]) == 0
    run = tmp_path / "run"
    for name in ("config.yaml", "README.md", "model.safetensors", "metrics.json", "run.json"):
        assert (run / name).is_file(), name
    assert not (run / CHECKPOINT_NAME).exists()  # a finished run needs no checkpoint
    stored = yaml.safe_load((run / "config.yaml").read_text())
    assert stored["epochs"] == 2 and stored["dataset"] == "ravdess"
    assert stored["model"]["deep_layers"] == 2 and stored["batch_size"] == 6
    card = (run / "README.md").read_text()
    for part in ("## Data and protocol", "## Metrics", "## Intended use and limits",
                 "## Licences", "CC BY-NC-SA 4.0", "neutral, happy, sad", "| test | 6 |",
                 "the last epoch was kept"):
        assert part in card, part
    # the stored config reruns the same run (into another folder here)
    assert main(["train", "--config", str(run / "config.yaml"), "--out",
                 str(tmp_path / "again")]) == 0
    first = json.loads((run / "metrics.json").read_text())
    assert json.loads((tmp_path / "again" / "metrics.json").read_text()) == first
    # --resume of a finished run reports its numbers without training again
    capsys.readouterr()
    assert main(["train", "--resume", str(run)]) == 0
    assert f"acc {first['test']['accuracy']:.2f}" in capsys.readouterr().out


DRIVER = textwrap.dedent("""
    import sys, time
    from wavfusion.training import module

    step = module.WavFusionModule.training_step
    def slow_step(self, batch, index):  # slow enough to be killed mid-epoch
        time.sleep(float(sys.argv[1]))
        return step(self, batch, index)
    module.WavFusionModule.training_step = slow_step
    from wavfusion.cli import main
    sys.exit(main(sys.argv[2:]))
""")


def _run(arguments: list[str], pause: float = 0.0, **kwargs) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(pause), *arguments],
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, **kwargs)


def test_a_run_killed_by_sigkill_resumes_to_the_uninterrupted_result(tiny_manifest,
                                                                     tiny_backbone, tmp_path):
    """SIGKILL a CPU run in its third epoch (last.ckpt holds epoch 2), `train --resume` it,
    and the final metrics.json equals an uninterrupted run's with the same seed."""
    settings = {"epochs": 4, "patience": 10}
    reference = _tiny_config(tmp_path / "reference.yaml", tiny_manifest, tiny_backbone,
                             tmp_path / "reference", **settings)
    killed = _tiny_config(tmp_path / "killed.yaml", tiny_manifest, tiny_backbone,
                          tmp_path / "killed", **settings)
    # the reference also fills the shared cache, so the killed run starts training at once
    done = _run(["train", "--config", str(reference)])
    output, _ = done.communicate(timeout=300)
    assert done.returncode == 0, output[-3000:]

    process = _run(["train", "--config", str(killed)], pause=0.15)
    checkpoint = tmp_path / "killed" / CHECKPOINT_NAME
    deadline = time.monotonic() + 240
    seen = 0
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoint.is_file():
            import torch

            state = torch.load(checkpoint, weights_only=True)  # never a torn file
            seen = state["epoch"]
            if seen >= 1:  # epochs 0 and 1 done; the third is under way
                break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert not (tmp_path / "killed" / "metrics.json").exists()
    assert {p.name for p in (tmp_path / "killed").iterdir()} >= {CHECKPOINT_NAME, "config.yaml"}

    resumed = _run(["train", "--resume", str(tmp_path / "killed")])
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output[-3000:]
    ours = json.loads((tmp_path / "killed" / "metrics.json").read_text())
    theirs = json.loads((tmp_path / "reference" / "metrics.json").read_text())
    assert ours == theirs
    record = json.loads((tmp_path / "killed" / "run.json").read_text())["result"]
    assert record["epochs_run"] == 4 and not record["interrupted"]
    assert not checkpoint.exists()
    # the epochs logged before the kill are kept beside the resumed run's log
    assert (tmp_path / "killed" / "logs" / "metrics-before-resume-1.csv").is_file()


class _CtrlC:
    """A callback that presses Ctrl-C (KeyboardInterrupt) at the start of `epoch` of the
    `fit`-th training of this process, counting the trainings it sees start."""

    def __init__(self, fit: int, epoch: int) -> None:
        import lightning as L

        self.fit, self.epoch, self.fits = fit, epoch, 0
        outer = self

        class Callback(L.Callback):
            def on_fit_start(self, trainer, module):
                outer.fits += 1

            def on_train_epoch_start(self, trainer, module):
                if outer.fits == outer.fit and trainer.current_epoch == outer.epoch:
                    raise KeyboardInterrupt

        self.callback = Callback()


def _with_callback(monkeypatch, extra: _CtrlC) -> None:
    from wavfusion.training import run

    original = run._callbacks
    monkeypatch.setattr(run, "_callbacks", lambda *a: [*original(*a), extra.callback])


@pytest.fixture
def fold_manifest(tiny_manifest) -> Path:
    """The tiny corpus with a `fold` column (two folds, by speaker) for `cv --protocol loso`."""
    from wavfusion.data.manifest import read_manifest, write_manifest

    rows = read_manifest(tiny_manifest).rows
    for row in rows:
        row.extra["fold"] = "1" if row.speaker.endswith("0") else "2"
    return write_manifest(tiny_manifest.parent / "folds.csv", rows)


def test_cv_resume_continues_the_fold_it_was_in(fold_manifest, tiny_backbone, tmp_path,
                                                monkeypatch):
    """Ctrl-C in fold 2's second epoch; `cv --resume` returns fold 1 as it finished (no
    training) and continues fold 2 from its last.ckpt: cv.json equals an uninterrupted cv's."""
    settings = {"epochs": 3, "patience": 10, "protocol": "loso"}
    reference = _tiny_config(tmp_path / "reference.yaml", fold_manifest, tiny_backbone,
                             tmp_path / "reference", **settings)
    assert main(["cv", "--config", str(reference)]) == 0
    stopped = _tiny_config(tmp_path / "stopped.yaml", fold_manifest, tiny_backbone,
                           tmp_path / "stopped", **settings)
    press = _CtrlC(fit=2, epoch=1)
    _with_callback(monkeypatch, press)
    assert main(["cv", "--config", str(stopped)]) == 0
    run = tmp_path / "stopped"
    assert json.loads((run / "cv.json").read_text())["interrupted"]
    assert (run / "fold-2" / CHECKPOINT_NAME).is_file()
    assert not (run / "fold-1" / CHECKPOINT_NAME).exists()

    counted = _CtrlC(fit=0, epoch=0)  # counts trainings, never interrupts
    _with_callback(monkeypatch, counted)
    assert main(["cv", "--resume", str(run)]) == 0
    assert counted.fits == 1  # fold 2 only
    ours = json.loads((run / "cv.json").read_text())
    assert ours == json.loads((tmp_path / "reference" / "cv.json").read_text())
    assert not ours["interrupted"] and not (run / "fold-2" / CHECKPOINT_NAME).exists()


def test_ablate_resume_continues_the_run_it_was_in(tiny_manifest, tiny_backbone, tmp_path,
                                                   monkeypatch):
    """Ctrl-C in the second run of Table 4; `ablate --resume` skips the finished run and
    continues the second from its last.ckpt, to the uninterrupted tables."""
    settings = {"epochs": 3, "patience": 10, "tables": [4], "seeds": 1}
    reference = _tiny_config(tmp_path / "reference.yaml", tiny_manifest, tiny_backbone,
                             tmp_path / "reference", **settings)
    assert main(["ablate", "--config", str(reference)]) == 0
    stopped = _tiny_config(tmp_path / "stopped.yaml", tiny_manifest, tiny_backbone,
                           tmp_path / "stopped", **settings)
    _with_callback(monkeypatch, _CtrlC(fit=2, epoch=1))
    assert main(["ablate", "--config", str(stopped)]) == 130

    counted = _CtrlC(fit=0, epoch=0)
    _with_callback(monkeypatch, counted)
    assert main(["ablate", "--resume", str(tmp_path / "stopped")]) == 0
    assert counted.fits == 1
    ours = json.loads((tmp_path / "stopped" / "ablation.json").read_text())
    theirs = json.loads((tmp_path / "reference" / "ablation.json").read_text())
    assert ours["tables"] == theirs["tables"]
