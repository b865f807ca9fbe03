"""Weight averaging for training: validate and keep an EMA of the weights (recipe.py)."""

from __future__ import annotations

import lightning as L
import torch


class WeightAverage(L.Callback):
    """EMA of the trainable weights, `decay` per optimiser step. Validation runs on the
    averaged weights (and selection keeps them): put this callback after the ones that read
    the weights at the end of validation. At the end of fitting the average stays in."""

    def __init__(self, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.average: dict[str, torch.Tensor] = {}
        self.raw: dict[str, torch.Tensor] | None = None

    def _tracked(self, module) -> dict[str, torch.Tensor]:
        return {n: p for n, p in module.model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def on_train_batch_end(self, trainer, module, outputs, batch, batch_index) -> None:
        for name, parameter in self._tracked(module).items():
            if name not in self.average:
                self.average[name] = parameter.detach().clone()
            else:
                self.average[name].lerp_(parameter.detach(), 1.0 - self.decay)

    @torch.no_grad()
    def _swap_in(self, module) -> None:
        if not self.average or self.raw is not None:
            return
        tracked = self._tracked(module)
        self.raw = {name: tracked[name].detach().clone() for name in self.average}
        for name, value in self.average.items():
            tracked[name].copy_(value)

    @torch.no_grad()
    def _swap_out(self, module) -> None:
        if self.raw is None:
            return
        tracked = self._tracked(module)
        for name, value in self.raw.items():
            tracked[name].copy_(value)
        self.raw = None

    def on_validation_start(self, trainer, module) -> None:
        if not trainer.sanity_checking:
            self._swap_in(module)

    def on_validation_end(self, trainer, module) -> None:
        self._swap_out(module)

    def state_dict(self) -> dict[str, dict[str, torch.Tensor]]:  # part of last.ckpt (resume)
        return {"average": self.average}

    def load_state_dict(self, state_dict: dict[str, dict[str, torch.Tensor]]) -> None:
        self.average = dict(state_dict["average"])

    def on_fit_end(self, trainer, module) -> None:
        self._swap_in(module)
        self.raw = None  # the average stays
