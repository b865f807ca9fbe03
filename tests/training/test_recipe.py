"""The training recipe's options each change training as documented (training/recipe.py)."""

from __future__ import annotations

import dataclasses
import itertools
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from tests.training.test_train import _settings
from wavfusion import WavFusion
from wavfusion.training.augment import FeatureMasking, crop_features, mask_features
from wavfusion.training.averaging import WeightAverage
from wavfusion.training.recipe import epochs_for, parameter_groups, schedule_factor
from wavfusion.training.run import BestWeights, _callbacks, train


def test_schedule_warms_up_then_decays_to_zero():
    factors = [schedule_factor(step, 100, 0.1, "cosine") for step in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0) and factors[99] < 0.01
    assert all(a >= b for a, b in itertools.pairwise(factors[10:]))  # monotone decay
    assert schedule_factor(55, 100, 0.1, "linear") == pytest.approx(0.5)
    assert schedule_factor(99, 100, 0.0, "constant") == 1.0
    with pytest.raises(ValueError, match="unknown schedule"):
        schedule_factor(0, 10, 0.0, "step")


def test_pretrained_deep_layer_weights_get_the_scaled_learning_rate(tiny_backbone, tmp_path):
    config = _settings(None, tiny_backbone, tmp_path).model
    model = WavFusion(dataclasses.replace(config, num_classes=3))
    groups = {g["name"]: g for g in parameter_groups(model, 1e-3, 0.1, 0.01)}
    assert groups["new"]["lr"] == 1e-3 and groups["pretrained"]["lr"] == pytest.approx(1e-4)
    ids = {name: {id(p) for p in group["params"]} for name, group in groups.items()}
    layer = model.backbone.deep_layers[0]
    assert id(layer.feed_forward.fc1.weight if hasattr(layer.feed_forward, "fc1")
              else next(layer.feed_forward.parameters())) in ids["pretrained"]
    assert id(layer.fusion.self_attention.query.weight) in ids["pretrained"]
    assert id(layer.fusion.text_attention.attention.key.weight) in ids["pretrained"]
    for new in (layer.fusion.gate.weight, layer.fusion.text_attention.context_projection.weight,
                model.classifier[1].weight):
        assert id(new) in ids["new"]
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert ids["new"] | ids["pretrained"] == trainable and not ids["new"] & ids["pretrained"]


def test_weight_average_is_validated_then_swapped_back_and_kept_at_the_end():
    module = SimpleNamespace(model=nn.Linear(1, 1, bias=False))
    trainer = SimpleNamespace(sanity_checking=False)
    average = WeightAverage(0.5)
    weight = module.model.weight
    for value in (0.0, 4.0):  # EMA: 0 -> 0.5 * 0 + 0.5 * 4 = 2
        with torch.no_grad():
            weight.fill_(value)
        average.on_train_batch_end(trainer, module, None, None, 0)
    average.on_validation_start(trainer, module)
    assert weight.item() == 2.0
    average.on_validation_end(trainer, module)
    assert weight.item() == 4.0
    average.on_fit_end(trainer, module)
    assert weight.item() == 2.0


@pytest.mark.parametrize("select, kept", [("val_wf1", 1), ("val_loss", 2), ("last", 3)])
def test_selection_keeps_the_epoch_asked_for(select, kept):
    best = BestWeights(select)
    module = SimpleNamespace(model=nn.Linear(1, 1))
    for epoch, (wf1, loss) in enumerate([(10, 3.0), (50, 2.0), (40, 1.0), (30, 1.5)]):
        trainer = SimpleNamespace(sanity_checking=False, current_epoch=epoch,
                                  callback_metrics={"val_wf1": torch.tensor(float(wf1)),
                                                    "val_loss": torch.tensor(loss)})
        best.on_validation_end(trainer, module)
    assert best.best_epoch == kept
    line = best.kept_line()
    assert line.startswith(f"kept epoch {kept + 1} of 4 run (")
    assert {"val_wf1": "best val WF1 50.0", "val_loss": "lowest val loss 1.000",
            "last": "the last; val WF1 30.0"}[select] in line


def test_early_stopping_watches_the_selected_metric(tiny_manifest, tiny_backbone, tmp_path):
    settings = _settings(tiny_manifest, tiny_backbone, tmp_path / "run", select="val_loss", patience=3,
                         ema=0.9)
    callbacks = _callbacks(settings, BestWeights(settings.select))
    assert callbacks[1].monitor == "val_loss" and callbacks[1].mode == "min"
    assert isinstance(callbacks[-1], WeightAverage)  # after the readers of the weights
    assert len(_callbacks(dataclasses.replace(settings, select="last"),
                          BestWeights("last"))) == 2  # no early stopping on "last"


def test_label_smoothing_changes_the_training_loss_only(tiny_manifest, tiny_backbone, tmp_path):
    from wavfusion.data.manifest import read_manifest
    from wavfusion.training.datamodule import EmotionDataModule
    from wavfusion.training.dataset import label_names
    from wavfusion.training.features import open_or_extract_cache
    from wavfusion.training.module import WavFusionModule

    settings = _settings(tiny_manifest, tiny_backbone, tmp_path / "run")
    manifest = read_manifest(tiny_manifest)
    labels = label_names(manifest.rows)
    torch.manual_seed(0)
    model = WavFusion(dataclasses.replace(settings.model, labels=labels, num_classes=3)).eval()
    cache, _ = open_or_extract_cache(manifest, model, settings.cache, False, progress=False)
    batch = next(iter(EmotionDataModule(manifest, manifest.rows, labels, cache, False,
                                        6).loader("train")))
    losses = {}
    for smoothing in (0.0, 0.2):
        module = WavFusionModule(model.config, model=model, label_smoothing=smoothing)
        module.log = lambda *args, **kwargs: None
        losses[smoothing] = module.training_step(batch, 0)
    logits = model(**{k: v for k, v in batch.items() if k not in ("ids",)}).logits
    change = (nn.functional.cross_entropy(logits, batch["labels"], label_smoothing=0.2)
              - nn.functional.cross_entropy(logits, batch["labels"]))
    torch.testing.assert_close(losses[0.2] - losses[0.0], change)


def test_min_steps_gives_a_small_corpus_more_epochs_and_given_epochs_win():
    assert epochs_for(None, 600, train_clips=240, batch_size=16) == 40  # 15 steps an epoch
    assert epochs_for(None, 600, train_clips=840, batch_size=16) == 12  # 53: 636 steps
    assert epochs_for(None, 600, train_clips=240, batch_size=16, accumulate=3) == 120
    assert epochs_for(None, 0, train_clips=10, batch_size=16) == 12
    assert epochs_for(12, 600, train_clips=240, batch_size=16) == 12


def test_masking_zeroes_spans_of_real_frames_and_one_channel_band():
    features, mask = torch.ones(2, 200, 40), torch.ones(2, 200, dtype=torch.bool)
    mask[1, 100:] = False  # the second clip is 100 frames long, then padding
    features[1, 100:] = 0
    generator = torch.Generator().manual_seed(0)
    timed = mask_features(features, mask, FeatureMasking(time=0.2, span=10), generator)
    zero_frames = (timed == 0).all(-1)
    assert 10 <= zero_frames[0].sum() <= 40  # 4 spans of 10 (they may overlap)
    assert 10 <= zero_frames[1, :100].sum() <= 20  # 2 spans: its own length counts
    assert (timed[mask] != 0).any(-1).float().mean() > 0.7
    banded = mask_features(features, mask, FeatureMasking(channels=0.25), generator)
    zero_channels = (banded[0] == 0).all(0)
    assert zero_channels.sum() == 10 and (zero_channels.nonzero().diff(dim=0) == 1).all()
    assert torch.equal(features, torch.ones(2, 200, 40).masked_fill(~mask[..., None], 0))
    assert not FeatureMasking().active


def test_crop_cuts_each_clip_at_its_ends_and_moves_the_rest_to_the_front():
    lengths = torch.tensor([200, 100, 1])
    mask = torch.arange(200)[None] < lengths[:, None]
    frame = torch.arange(1, 201, dtype=torch.float32)[None, :, None].expand(3, 200, 2)
    features = frame * mask[..., None]
    generator = torch.Generator().manual_seed(0)
    kept_shares, starts = [], []
    for _ in range(50):
        cropped, kept = crop_features(features, mask, 0.5, generator)
        counts = kept.sum(1)
        assert (counts <= lengths).all() and (counts >= (lengths * 0.5).floor()).all()
        assert counts[2] == 1  # a clip keeps at least one frame
        for row in range(3):
            length, start = int(counts[row]), cropped[row, 0, 0] - 1
            assert torch.equal(cropped[row, :length, 0],  # a run of the clip's own frames
                               torch.arange(length, dtype=torch.float32) + start + 1)
            assert start + length <= lengths[row]  # inside the clip, never its padding
            assert (cropped[row, length:] == 0).all() and not kept[row, length:].any()
        kept_shares.append(float(counts[0]) / 200)
        starts.append(float(cropped[0, 0, 0]) - 1)
    assert min(kept_shares) < 0.7 and max(kept_shares) > 0.9  # shares spread over [0.5, 1]
    assert max(starts) > 10  # some frames come off the start, not only off the end
    assert torch.equal(features, frame * mask[..., None])  # the input is left alone
    assert FeatureMasking(crop=0.3).active


def test_masking_changes_training_batches_only(tiny_manifest, tiny_backbone, tmp_path):
    from wavfusion.data.manifest import read_manifest
    from wavfusion.training.datamodule import EmotionDataModule
    from wavfusion.training.dataset import label_names
    from wavfusion.training.features import open_or_extract_cache
    from wavfusion.training.module import WavFusionModule

    settings = _settings(tiny_manifest, tiny_backbone, tmp_path / "run")
    manifest = read_manifest(tiny_manifest)
    labels = label_names(manifest.rows)
    model = WavFusion(dataclasses.replace(settings.model, labels=labels, num_classes=3)).eval()
    cache, _ = open_or_extract_cache(manifest, model, settings.cache, False, progress=False)
    batch = next(iter(EmotionDataModule(manifest, manifest.rows, labels, cache, False,
                                        6).loader("train")))
    seen, masks = [], []

    def record(_, args, kwargs) -> None:
        seen.append(kwargs["audio_features"].clone())
        masks.append(kwargs["audio_features_mask"])

    model.register_forward_pre_hook(record, with_kwargs=True)
    module = WavFusionModule(model.config, model=model,
                             masking=FeatureMasking(time=0.3, channels=0.2, crop=0.5))
    module.log = lambda *args, **kwargs: None
    module.training_step(batch, 0)
    module._validation = []
    module.validation_step(batch, 0)
    masked, plain = seen
    assert torch.equal(plain, batch["audio_features"])  # validation sees the features
    real = batch["audio_features_mask"]
    assert torch.equal(masks[1], real)
    assert (masks[0].sum(1) <= real.sum(1)).all() and (masks[0].sum(1) < real.sum(1)).any()
    assert (masked[masks[0]] == 0).all(-1).any() and not torch.equal(masked, plain)


def test_a_scheduled_averaged_run_trains_every_epoch(tiny_manifest, tiny_backbone, tmp_path):
    settings = _settings(tiny_manifest, tiny_backbone, tmp_path / "run", epochs=3, patience=0,
                         schedule="cosine", warmup=0.3, ema=0.9, select="last",
                         backbone_lr_scale=0.1, label_smoothing=0.1, time_mask=0.1,
                         channel_mask=0.1)
    results = train(settings)
    assert results["epochs_run"] == 3 and results["best_epoch"] == 2
    # min_steps: the 3 epochs of this tiny corpus make too few steps, so it trains more
    from wavfusion.data.manifest import read_manifest

    clips = sum(row.split == "train" for row in read_manifest(tiny_manifest).rows)
    more = train(dataclasses.replace(settings, out=tmp_path / "more", epochs=None,
                                     min_steps=60))
    assert more["epochs_run"] == epochs_for(None, 60, clips, settings.batch_size) == 20


def test_command_line_defaults_are_the_training_settings_defaults(tmp_path):
    """One recipe: `wavfusion train` with no option trains as TrainSettings() does."""
    from wavfusion.training import config_cli as options
    from wavfusion.training.run import TrainSettings

    given = options.settings_from(options.parse("train", ["--manifest", "m.csv", "--out",
                                                          str(tmp_path), "--device", "cpu"]))
    assert given == TrainSettings(manifest=given.manifest, out=given.out)
