"""Face detection is thread-safe: threads detecting at once find what one thread finds."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tests.data.clips import face_image
from wavfusion.data.faces import face_detector, largest_face

THREADS = 4
ROUNDS = 6
Box = tuple[int, int, int, int] | None


def varied_frames() -> list[np.ndarray]:
    """Faces of several sizes and places, in frames of several sizes: a classifier sizes its
    working buffers to each frame, so threads sharing one disturb each other the most."""
    frames = []
    for height, width in ((240, 320), (180, 240), (300, 300), (150, 200)):
        for scale, dx in ((0.9, 0), (0.7, -20), (0.6, 25)):
            centre = (width // 2 + dx, height // 2)
            frames.append(face_image(height, width, centre=centre,
                                     scale=scale * height / 240))
    return frames


def detect_rounds(frames: list[np.ndarray], start: int, barrier: threading.Barrier
                  ) -> list[tuple[int, Box]]:
    """(frame index, box) for every frame, ROUNDS times, starting at frame `start`; waits on
    `barrier` first so that all threads detect at the same time."""
    order = [(start + step) % len(frames) for step in range(len(frames))]
    barrier.wait()
    return [(index, largest_face(frames[index])) for _ in range(ROUNDS) for index in order]


def test_threads_detecting_at_once_find_the_boxes_one_thread_finds():
    frames = varied_frames()
    expected = [largest_face(frame) for frame in frames]
    assert sum(box is not None for box in expected) >= len(frames) - 2  # faces are found
    barrier = threading.Barrier(THREADS)
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda start: detect_rounds(frames, start, barrier),
                                range(0, len(frames), len(frames) // THREADS)))
    wrong = [(index, box, expected[index]) for result in results for index, box in result
             if box != expected[index]]
    assert not wrong, f"{len(wrong)} of {sum(map(len, results))} detections differ: {wrong[:5]}"


def test_each_thread_has_its_own_detector_and_keeps_it():
    with ThreadPoolExecutor(THREADS) as pool:
        barrier = threading.Barrier(THREADS)  # all alive at once: no thread is reused

        def twice(_: int) -> tuple[object, object]:
            barrier.wait()
            return face_detector(), face_detector()

        pairs = list(pool.map(twice, range(THREADS)))  # kept alive: their ids stay unique
    assert all(first is second for first, second in pairs)
    assert len({id(first) for first, _ in pairs} | {id(face_detector())}) == THREADS + 1
