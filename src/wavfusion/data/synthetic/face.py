"""A drawn talking face, as a small MP4 (H.264 through PyAV).

Each frame: a cluttered background (random shapes, drawn once per clip, darker than the skin),
and over it a cartoon face (skin ellipse, hair, brows, shaded eye sockets, eyes with irises,
nose shade, mouth) that OpenCV's bundled Haar frontal-face cascade detects. The expression comes from the clip's FACE_PARAMETERS:
brow height and tilt, eye opening, smile/frown curvature and how wide the mouth opens while
the voice is active (lip sync with the audio's envelope). Over time the head translates,
rotates and scales slightly, the eyes blink, the expression builds up over the first half
second, the lighting drifts (overall gain and a side gradient), and every frame gets sensor
noise.

    frames = render_face(params, speaker, activity, rng)   # (frames, 128, 128, 3) uint8 RGB
    write_mp4(path, frames)                                # deterministic bytes
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

from wavfusion.data.media import SAMPLE_RATE
from wavfusion.data.synthetic.profiles import FPS, FRAME_SIZE, Speaker

# face geometry in units of the head's half width (HEAD_HALF_WIDTH pixels at scale 1)
HEAD_HALF_WIDTH = 26.0
EYE_X, EYE_Y, EYE_W, EYE_H = 0.40, -0.20, 0.22, 0.13
BROW_Y, BROW_W, BROW_H = -0.45, 0.27, 0.07
MOUTH_Y, MOUTH_W, MOUTH_H = 0.70, 0.42, 0.30
HIGHLIGHT = 1.15  # the lit middle of the face, relative to the skin colour
SOCKET = 0.6  # eye-socket shade, relative to the skin colour
BACKDROP_CONTRAST = 60.0  # grey levels between the skin and the brightest background
BACKDROP_DARKEST = 25.0  # grey level of the darkest background
BLINK_PROBABILITY = 0.04  # per frame
ONSET_SECONDS, ONSET_START = 0.5, 0.7  # the expression grows from 70 % to full in 0.5 s
# nuisances, ranges drawn per clip: head placement and sway (pixels), roll (degrees), zoom,
# lighting gain and its drift, left-right light gradient, sensor noise (grey levels)
PLACEMENT, SWAY, SWAY_HZ = 10.0, (2.0, 7.0), (0.3, 0.9)
ROLL, ZOOM, ZOOM_DRIFT = (2.0, 9.0), (0.88, 1.06), 0.03
GAIN, GAIN_DRIFT, SIDE_LIGHT = (0.75, 1.15), 0.08, 0.25
NOISE_SD = (3.0, 8.0)
VIDEO_CODECS = ("libx264", "mpeg4")  # first one this PyAV build has
VIDEO_OPTIONS = {
    "libx264": {"crf": "23", "preset": "veryfast"},
    "mpeg4": {"qmin": "2", "qmax": "8"},
}


def _backdrop_level(skin: tuple[int, int, int], rng: np.random.Generator) -> float:
    """Mean grey level of a background darker than `skin` by about BACKDROP_CONTRAST: the
    Haar cascade misses a face that melts into its background, and a medium or dark face in
    front of a lighter one."""
    skin_level = float(np.dot(skin, (0.299, 0.587, 0.114)))
    high = max(skin_level - BACKDROP_CONTRAST, BACKDROP_DARKEST + 20.0)
    return float(rng.uniform(BACKDROP_DARKEST, high))


def _clutter(rng: np.random.Generator, level: float) -> np.ndarray:
    """A `(FRAME_SIZE, FRAME_SIZE, 3)` background around grey `level`: a colour gradient and
    random muted shapes."""
    size = FRAME_SIZE
    top, bottom = level + rng.uniform(-25, 25, 3), level + rng.uniform(-25, 25, 3)
    ramp = np.linspace(0.0, 1.0, size)[:, None, None]
    image = np.ascontiguousarray(np.broadcast_to(top + (bottom - top) * ramp, (size, size, 3)))
    image = image.astype(np.uint8)
    for _ in range(int(rng.integers(6, 14))):
        colour = tuple(int(c) for c in rng.uniform(30, 200, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        kind = rng.integers(3)
        if kind == 0:
            w, h = (int(v) for v in rng.integers(8, 40, 2))
            cv2.rectangle(image, (x, y), (x + w, y + h), colour, -1)
        elif kind == 1:
            cv2.circle(image, (x, y), int(rng.integers(4, 16)), colour, -1, cv2.LINE_AA)
        else:
            end = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.line(image, (x, y), end, colour, int(rng.integers(1, 4)), cv2.LINE_AA)
    return image


def _oval(image, centre, axes, colour, angle: float = 0.0, half: bool = False) -> None:
    """A filled, anti-aliased ellipse (its upper half only with `half`)."""
    cv2.ellipse(image, centre, axes, angle, 180 if half else 0, 360, colour, -1, cv2.LINE_AA)


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(c * factor) for c in colour)


def _sclera(skin: tuple[int, int, int]) -> tuple[int, int, int]:
    """Eye-white colour: half way from the skin to white."""
    return tuple(int((c + 235) / 2) for c in skin)


def _draw_face(
    canvas: np.ndarray,
    mask: np.ndarray,
    speaker: Speaker,
    expression: dict[str, float],
    opening: float,
    blink: bool,
) -> None:
    """Draw the face centred in `canvas` (RGB) and its coverage into `mask` (uint8 255).
    Shaded eye sockets and dark irises keep the eye band darker than the cheeks, the
    pattern the Haar cascade looks for, for every skin tone."""
    unit = HEAD_HALF_WIDTH
    cx, cy = FRAME_SIZE / 2, FRAME_SIZE / 2

    def at(x: float, y: float) -> tuple[int, int]:
        return round(cx + x * unit), round(cy + y * unit)

    def size(a: float, b: float) -> tuple[int, int]:
        return max(1, round(a * unit)), max(1, round(b * unit))

    hair_at, hair_size = at(0, -1.12), size(speaker.face_width * 1.05, 0.52)
    for image, skin, hair in ((canvas, speaker.skin, speaker.hair), (mask, 255, 255)):
        _oval(image, at(0, 0), size(speaker.face_width, 1.33), skin)
        _oval(image, hair_at, hair_size, hair, half=True)
    highlight = tuple(min(255, int(c * HIGHLIGHT + 25)) for c in speaker.skin)
    _oval(canvas, at(0, -0.15), size(speaker.face_width * 0.72, 1.0), highlight)
    eye_height = EYE_H * expression["eye_open"] * (0.12 if blink else 1.0)
    iris = max(1, round(min(EYE_H, eye_height) * unit))
    for side in (-1, 1):  # -1: the face's right, shown on the image's left
        eye = at(side * EYE_X, EYE_Y)
        _oval(canvas, eye, size(EYE_W * 1.35, EYE_H * 2.2), _shade(speaker.skin, SOCKET))
        brow_y = BROW_Y - expression["brow_raise"] * EYE_H
        angle = side * expression["brow_tilt"]  # + tilt lifts the inner (central) ends
        _oval(
            canvas, at(side * EYE_X, brow_y), size(BROW_W, BROW_H), _shade(speaker.hair, 0.6), angle
        )
        _oval(canvas, eye, size(EYE_W, eye_height), _sclera(speaker.skin))
        cv2.circle(canvas, eye, iris, (60, 40, 30), -1, cv2.LINE_AA)
        cv2.circle(canvas, eye, max(1, iris // 2), (15, 10, 10), -1, cv2.LINE_AA)
    _oval(canvas, at(0, 0.18), size(0.13, 0.30), _shade(speaker.skin, 0.82))  # nose
    _draw_mouth(canvas, at, unit, expression["smile"], opening)


def _draw_mouth(canvas, at, unit: float, smile: float, opening: float) -> None:
    """Lips as two parabolas through the corners: `smile` lifts (or drops) the corners,
    `opening` (0..1) parts the lips in the middle."""
    x = np.linspace(-1.0, 1.0, 15)
    upper = MOUTH_Y - smile * MOUTH_W * x**2
    lower = upper + (0.04 + opening * MOUTH_H) * (1 - x**2)
    outline = [at(xi * MOUTH_W, yi) for xi, yi in zip(x, upper)]
    outline += [at(xi * MOUTH_W, yi) for xi, yi in zip(x[::-1], lower[::-1])]
    points = np.array(outline, np.int32)
    cv2.fillPoly(canvas, [points], (70, 25, 30), cv2.LINE_AA)
    cv2.polylines(canvas, [points], True, (160, 60, 65), max(1, int(unit * 0.08)), cv2.LINE_AA)


def render_face(
    expression: dict[str, float],
    speaker: Speaker,
    activity: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Frames of one clip, `(len(activity), FRAME_SIZE, FRAME_SIZE, 3)` uint8 RGB.

    `expression`: the fields of `profiles.FACE_PARAMETERS` drawn for this clip; `activity`: the
    voice's envelope (0..1) at each frame's time, which opens the mouth."""
    count = len(activity)
    times = np.arange(count) / FPS
    background = _clutter(rng, _backdrop_level(speaker.skin, rng)).astype(np.float32)
    # head motion: a per-clip placement plus a slow sway, roll and zoom
    phase = rng.uniform(0, 2 * np.pi, 3)
    speed = rng.uniform(*SWAY_HZ, 3)
    wave = np.sin(2 * np.pi * speed[:, None] * times + phase[:, None])  # (3, frames)
    shift = rng.uniform(-PLACEMENT, PLACEMENT, (2, 1)) + rng.uniform(*SWAY, (2, 1)) * wave[:2]
    roll = rng.uniform(*ROLL) * wave[2]
    zoom = rng.uniform(*ZOOM) * (1 + ZOOM_DRIFT * wave[0])
    # lighting: overall gain and a left-right gradient, both drifting
    gain = rng.uniform(*GAIN) + GAIN_DRIFT * wave[1]
    slope = rng.uniform(-SIDE_LIGHT, SIDE_LIGHT) + 0.2 * SIDE_LIGHT * wave[2]
    noise_sd = rng.uniform(*NOISE_SD)
    onset = ONSET_START + (1 - ONSET_START) * np.clip(times / ONSET_SECONDS, 0.0, 1.0)
    blinks = rng.random(count) < BLINK_PROBABILITY
    composed = np.empty((count, FRAME_SIZE, FRAME_SIZE, 3), np.float32)
    for index in range(count):
        pose = {name: value * onset[index] for name, value in expression.items()}
        pose["eye_open"] = 1.0 + (expression["eye_open"] - 1.0) * onset[index]
        opening = expression["mouth_open"] * activity[index]
        canvas = np.zeros((FRAME_SIZE, FRAME_SIZE, 3), np.uint8)
        mask = np.zeros((FRAME_SIZE, FRAME_SIZE), np.uint8)
        _draw_face(canvas, mask, speaker, pose, opening, bool(blinks[index]))
        centre = (FRAME_SIZE / 2, FRAME_SIZE / 2)
        matrix = cv2.getRotationMatrix2D(centre, float(roll[index]), float(zoom[index]))
        matrix[:, 2] += shift[:, index]
        canvas = cv2.warpAffine(canvas, matrix, (FRAME_SIZE, FRAME_SIZE), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(mask, matrix, (FRAME_SIZE, FRAME_SIZE), flags=cv2.INTER_LINEAR)
        alpha = alpha[..., None].astype(np.float32) / 255.0
        composed[index] = background + (canvas.astype(np.float32) - background) * alpha
    columns = np.linspace(-1.0, 1.0, FRAME_SIZE, dtype=np.float32)[None, None, :, None]
    light = gain[:, None, None, None] * (1 + slope[:, None, None, None] * columns)
    composed *= light.astype(np.float32)
    grain = rng.standard_normal((count, FRAME_SIZE, FRAME_SIZE, 1), dtype=np.float32)
    composed += np.float32(noise_sd) * grain  # sensor noise, on luminance
    return np.clip(composed, 0, 255).astype(np.uint8)


def video_codec() -> str:
    """The H.264 encoder when this PyAV build has it, else MPEG-4 part 2."""
    return next((name for name in VIDEO_CODECS if name in av.codecs_available), VIDEO_CODECS[-1])


def write_mp4(path: Path, frames: np.ndarray, audio: np.ndarray | None = None) -> Path:
    """Write RGB `frames` `(n, H, W, 3)` at FPS as an MP4, with `audio` `(samples,)` float32
    16 kHz mono as an AAC track when given. Single-threaded encoding, so the bytes depend only
    on the input."""
    codec = video_codec()
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=FPS, options=VIDEO_OPTIONS[codec])
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        sound = None
        if audio is not None:
            sound = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
            sound.codec_context.thread_count = 1
        for image in frames:
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if sound is not None:
            block = av.AudioFrame.from_ndarray(audio[None, :].astype(np.float32), "flt", "mono")
            block.sample_rate = SAMPLE_RATE
            container.mux(sound.encode(block))
            container.mux(sound.encode(None))
    return path
