"""Every tensor the model makes inside forward and the losses lives on the inputs' device.

Run under `torch.device("meta")`: any tensor created without an explicit device lands on
`meta`, so mixing it with the real CPU inputs fails. This catches on the CPU the whole class
of bugs that crash on a GPU (a stand-in made on the CPU beside CUDA inputs).
"""

from __future__ import annotations

import pytest
import torch

from tests.model.inputs import make_batch, small_config
from wavfusion import WavFusion

ABSENT = {
    "nothing": (),
    "text": ("text",),
    "video": ("visual",),
    "text and video": ("text", "visual"),
}


@pytest.mark.parametrize("absent", ABSENT, ids=list(ABSENT))
def test_forward_and_backward_make_no_tensor_off_the_inputs_device(absent):
    torch.manual_seed(0)
    model = WavFusion(small_config("embedded-small"))
    batch = make_batch()
    for name in ABSENT[absent]:
        batch.pop(name)
        batch.pop(f"{name}_mask")
    with torch.device("meta"):
        output = model(**batch)
        output.loss.backward()
    assert output.logits.device.type == "cpu"
    assert torch.isfinite(output.loss)
    assert all(p.grad is None or p.grad.device.type == "cpu" for p in model.parameters())


def test_the_meta_device_check_catches_a_tensor_made_without_a_device():
    """The check itself can fail: a stand-in made without `device=` is caught."""
    with torch.device("meta"), pytest.raises((RuntimeError, NotImplementedError)):
        torch.ones(2, 3, device="cpu") + torch.zeros(2, 3)
        raise AssertionError("unreachable when the check works")
