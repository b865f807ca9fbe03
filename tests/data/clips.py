"""Small media files written at test time with PyAV (never stored in the repo)."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


def tone(seconds: float, rate: int, channels: int = 1, freq: float = 440.0, amplitude=0.5):
    """A sine, `(channels, samples)` float32; channel c is scaled by 1 / (c + 1) so that mixing
    is observable."""
    t = np.arange(round(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    return np.stack([wave / (c + 1) for c in range(channels)]).astype(np.float32)


def _audio_frame(samples: np.ndarray, rate: int) -> av.AudioFrame:
    layout = LAYOUTS[samples.shape[0]]
    packed = np.ascontiguousarray(samples.T.reshape(1, -1), dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(packed, format="flt", layout=layout)
    frame.sample_rate = rate
    return frame


def write_audio(path: Path, samples: np.ndarray, rate: int, codec="pcm_s16le", container=None):
    """`samples` `(channels, n)` float in [-1, 1] → an audio file (PyAV converts to the codec's
    sample format: pcm_u8 is 8-bit, pcm_s24le 24-bit, pcm_f32le keeps NaN as is)."""
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=LAYOUTS[samples.shape[0]])
        for packet in stream.encode(_audio_frame(samples, rate)):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_video(
    path: Path,
    frames: list[np.ndarray],
    fps: int = 10,
    codec: str = "mpeg4",
    audio: tuple[np.ndarray, int] | None = None,
    audio_codec: str = "aac",
):
    """RGB frames `(H, W, 3)` (and optional audio `(samples, rate)`) → a video file; with no
    frames the video stream is declared but empty."""
    with av.open(str(path), "w") as out:
        if frames is not None:
            video = out.add_stream(codec, rate=fps)
            height, width = frames[0].shape[:2] if frames else (64, 64)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if audio is not None:
            samples, rate = audio
            sound = out.add_stream(audio_codec, rate=rate, layout=LAYOUTS[samples.shape[0]])
        out.start_encoding()
        for image in frames or []:
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        if frames is not None:
            for packet in video.encode(None):
                out.mux(packet)
        if audio is not None:
            for packet in sound.encode(_audio_frame(samples, rate)):
                out.mux(packet)
            for packet in sound.encode(None):
                out.mux(packet)
    return path


def face_image(height=240, width=320, centre=None, scale=1.0, skin=(225, 190, 170)) -> np.ndarray:
    """A drawn cartoon face (RGB) that OpenCV's frontal-face Haar cascade detects: skin
    ellipse, hair, dark brows, eyes with pupils, a nose shade and a mouth on grey."""
    image = np.full((height, width, 3), 90, np.uint8)
    cx, cy = centre or (width // 2, height // 2)

    def at(x, y):
        return int(cx + x * scale), int(cy + y * scale)

    def size(a, b):
        return max(1, int(a * scale)), max(1, int(b * scale))

    cv2.ellipse(image, at(0, 0), size(60, 80), 0, 0, 360, skin, -1)
    cv2.ellipse(image, at(0, -70), size(62, 30), 0, 180, 360, (60, 40, 40), -1)
    for side in (-1, 1):
        cv2.ellipse(image, at(side * 24, -28), size(16, 5), 0, 0, 360, (60, 50, 50), -1)
        cv2.ellipse(image, at(side * 24, -12), size(13, 8), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(image, at(side * 24, -12), size(6, 6)[0], (30, 30, 30), -1)
    nose = tuple(int(c * 0.85) for c in skin)
    cv2.ellipse(image, at(0, 12), size(8, 18), 0, 0, 360, nose, -1)
    cv2.ellipse(image, at(0, 42), size(24, 8), 0, 0, 360, (150, 70, 70), -1)
    return image


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two images as one split-screen frame (an IEMOCAP dialog video)."""
    return np.concatenate([left, right], axis=1)
