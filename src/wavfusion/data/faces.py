"""Crop video frames to the speaker's face with OpenCV's bundled Haar cascade.

Per clip: detect faces in every sampled frame (on a downscaled grey copy, for speed), keep the
largest one, and crop a square around it with a margin. A frame where nothing is found borrows
the box of the nearest frame that has one, so a blink or a turned head does not swap a face
crop for a whole-frame view mid-clip. When no frame of the clip has a face, every frame is
letterboxed whole. `region="left"` / `"right"` restricts all of this to one half of the frame.

OpenCV is imported on first use: `wavfusion.data.media` imports this module, and an
audio-only `wavfusion predict` should not pay for OpenCV.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import cv2

FaceRegion = Literal["left", "right"] | None
FACE_REGIONS = ("left", "right")

CASCADE_FILE = "haarcascade_frontalface_default.xml"
DETECT_WIDTH = 320  # frames are downscaled to this width before detection
FACE_MARGIN = 0.25  # extra border around the detected box, as a fraction of its side
MIN_FACE_FRACTION = 0.08  # ignore "faces" smaller than this fraction of the frame height

log = logging.getLogger(__name__)


_per_thread = threading.local()


@functools.lru_cache(maxsize=1)
def _cascade_path() -> Path | None:
    """OpenCV's bundled frontal-face cascade file, or None (logged once) when it has none."""
    import cv2

    folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
    path = Path(folder) / CASCADE_FILE
    if not hasattr(cv2, "CascadeClassifier") or not path.is_file():
        log.warning(
            "OpenCV %s has no bundled Haar face cascade (%s): frames are not face-cropped; "
            "install opencv-python-headless<5",
            cv2.__version__,
            path,
        )
        return None
    return path


def face_detector() -> cv2.CascadeClassifier | None:
    """This thread's frontal-face cascade, or None when this OpenCV has none.

    One classifier per thread: detectMultiScale keeps its working buffers in the classifier
    (and runs without the GIL), so threads sharing one corrupt each other's detections."""
    import cv2

    if not hasattr(_per_thread, "detector"):
        path = _cascade_path()
        _per_thread.detector = None if path is None else cv2.CascadeClassifier(str(path))
    return _per_thread.detector


def region_bounds(width: int, region: FaceRegion) -> tuple[int, int]:
    """Column range `[left, right)` of `region` in a frame `width` pixels wide."""
    if region is None:
        return 0, width
    if region == "left":
        return 0, width // 2
    if region == "right":
        return width // 2, width
    raise ValueError(f"face region must be one of {FACE_REGIONS} or None, got {region!r}")


def largest_face(frame: np.ndarray, region: FaceRegion = None) -> tuple[int, int, int, int] | None:
    """Box `(x, y, w, h)` in full-frame pixels of the largest face in `frame` (RGB `(H, W, 3)`),
    searched within `region`; None when no face is found."""
    import cv2

    detector = face_detector()
    if detector is None:
        return None
    left, right = region_bounds(frame.shape[1], region)
    view = frame[:, left:right]
    scale = min(1.0, DETECT_WIDTH / view.shape[1])
    grey = cv2.cvtColor(view, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    min_side = max(20, int(MIN_FACE_FRACTION * grey.shape[0]))
    boxes = detector.detectMultiScale(
        grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_side,) * 2
    )
    if len(boxes) == 0:
        return None
    x, y, w, h = max(boxes, key=lambda box: box[2] * box[3])
    return int(x / scale) + left, int(y / scale), int(w / scale), int(h / scale)


def square_crop(frame: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
    """A `(size, size, 3)` square around `box` with FACE_MARGIN, kept inside the frame."""
    import cv2

    height, width = frame.shape[:2]
    x, y, w, h = box
    side = min(int(max(w, h) * (1 + 2 * FACE_MARGIN)), height, width)
    x0 = min(max(0, x + w // 2 - side // 2), width - side)
    y0 = min(max(0, y + h // 2 - side // 2), height - side)
    crop = frame[y0 : y0 + side, x0 : x0 + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def letterbox(frame: np.ndarray, size: int) -> np.ndarray:
    """The whole `frame` scaled into a black `(size, size, 3)` square, aspect ratio kept."""
    import cv2

    height, width = frame.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((size, size, 3), np.uint8)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


def crop_frames(
    frames: list[np.ndarray], *, size: int, crop_faces: bool = True, region: FaceRegion = None
) -> np.ndarray:
    """Face-crop (or letterbox) RGB frames of one clip; returns `(frames, size, size, 3)` uint8."""
    views = []
    for frame in frames:  # restrict to the region first, so a fallback shows that half only
        left, right = region_bounds(frame.shape[1], region)
        views.append(np.ascontiguousarray(frame[:, left:right]))
    boxes = [largest_face(view) for view in views] if crop_faces else [None] * len(views)
    found = [index for index, box in enumerate(boxes) if box is not None]
    out = np.empty((len(views), size, size, 3), np.uint8)
    for index, view in enumerate(views):
        if not found:
            out[index] = letterbox(view, size)
            continue
        nearest = min(found, key=lambda other: abs(other - index))
        out[index] = square_crop(view, boxes[nearest], size)
    return out
