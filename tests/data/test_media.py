"""Decoding: any container → 16 kHz mono float32, frames sampled uniformly and face-cropped."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.data.clips import face_image, side_by_side, tone, write_audio, write_video
from wavfusion.data.faces import largest_face
from wavfusion.data.media import SAMPLE_RATE, decode_audio, load_audio, load_frames, probe_video


def dominant_frequency(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[spectrum.argmax()])


def test_16k_wav_decodes_to_the_same_samples(tmp_path):
    wave = tone(0.5, 16_000)
    samples = load_audio(write_audio(tmp_path / "a.wav", wave, 16_000))
    assert samples.dtype == np.float32 and samples.ndim == 1
    np.testing.assert_allclose(samples, wave[0], atol=1 / 2**14)


@pytest.mark.parametrize("codec", ["pcm_u8", "pcm_s24le", "pcm_f32le", "flac"])
def test_8bit_24bit_float_and_flac_decode_to_the_same_wave(tmp_path, codec):
    wave = tone(0.5, 16_000)
    samples = load_audio(
        write_audio(
            tmp_path / "a.wav" if codec != "flac" else tmp_path / "a.flac", wave, 16_000, codec
        )
    )
    tolerance = 1 / 100 if codec == "pcm_u8" else 1 / 2**14
    np.testing.assert_allclose(samples, wave[0], atol=tolerance)


@pytest.mark.parametrize("rate", [8_000, 44_100, 96_000])
def test_other_rates_are_resampled_to_16k_keeping_duration_and_pitch(tmp_path, rate):
    decoded = decode_audio(write_audio(tmp_path / "a.wav", tone(1.0, rate, freq=440), rate))
    assert decoded.source_rate == rate
    assert decoded.samples.size == pytest.approx(SAMPLE_RATE, abs=2)
    assert dominant_frequency(decoded.samples) == pytest.approx(440, abs=2)
    assert np.abs(decoded.samples).max() == pytest.approx(0.5, abs=0.03)


def test_six_channels_are_averaged_into_mono(tmp_path):
    wave = tone(0.5, 16_000, channels=6)  # channel c is the tone / (c + 1)
    decoded = decode_audio(write_audio(tmp_path / "six.wav", wave, 16_000))
    assert decoded.source_channels == 6
    np.testing.assert_allclose(decoded.samples, wave.mean(axis=0), atol=1 / 2**13)


def test_mp3_named_wav_is_decoded_by_its_content(tmp_path):
    path = write_audio(tmp_path / "really_mp3.wav", tone(1.0, 16_000), 16_000, "libmp3lame", "mp3")
    decoded = decode_audio(path)
    assert decoded.container == "mp3"
    assert decoded.seconds == pytest.approx(1.0, abs=0.1)
    assert dominant_frequency(decoded.samples) == pytest.approx(440, abs=3)


def test_time_window_cuts_the_audio(tmp_path):
    wave = tone(2.0, 16_000)
    samples = load_audio(write_audio(tmp_path / "a.wav", wave, 16_000), start=0.5, end=1.25)
    np.testing.assert_allclose(samples, wave[0, 8_000:20_000], atol=1 / 2**14)


def test_clip_longer_than_the_maximum_is_truncated_and_logged(tmp_path, caplog):
    path = write_audio(tmp_path / "long.wav", tone(3.0, 16_000), 16_000)
    with caplog.at_level(logging.WARNING, logger="wavfusion.data.media"):
        decoded = decode_audio(path, max_seconds=1.0)
    assert decoded.samples.size == 16_000 and decoded.truncated
    assert decoded.full_seconds == pytest.approx(3.0)
    assert "long.wav" in caplog.text and "truncated" in caplog.text
    assert not decode_audio(path, max_seconds=None).truncated


def test_audio_of_a_video_comes_from_its_track_mixed_and_resampled(tmp_path):
    audio = tone(2.0, 48_000, channels=6, freq=300)
    path = write_video(tmp_path / "clip.mp4", [face_image()] * 20, audio=(audio, 48_000))
    decoded = decode_audio(path, start=0.5, end=1.5)
    assert (decoded.source_rate, decoded.source_channels) == (48_000, 6)
    assert decoded.seconds == pytest.approx(1.0, abs=0.01)
    assert dominant_frequency(decoded.samples) == pytest.approx(300, abs=2)
    assert np.abs(decoded.samples).max() == pytest.approx(
        0.5 * np.mean(1 / np.arange(1, 7)), rel=0.1
    )


def numbered_frames(count: int) -> list[np.ndarray]:
    """Flat grey frames whose brightness is 10 × their index."""
    return [np.full((96, 128, 3), 10 * index, np.uint8) for index in range(count)]


def frame_indices(frames: np.ndarray) -> list[int]:
    return [round(frame[48, 64].mean() / 10) for frame in frames]


def test_frames_are_sampled_uniformly_over_the_clip(tmp_path):
    path = write_video(tmp_path / "count.mp4", numbered_frames(20), fps=10)
    frames = load_frames(path, 4, crop_faces=False, size=128)
    assert frames.shape == (4, 128, 128, 3) and frames.dtype == np.uint8
    assert frame_indices(frames) == [2, 7, 12, 17]  # centres of 4 equal parts of 2 s


def test_frames_are_sampled_uniformly_over_a_window(tmp_path):
    path = write_video(tmp_path / "count.avi", numbered_frames(20), fps=10)
    frames = load_frames(path, 4, start=1.0, end=2.0, crop_faces=False, size=128)
    assert frame_indices(frames) == [11, 13, 16, 18]


def test_more_frames_than_the_clip_has_repeats_frames(tmp_path):
    path = write_video(tmp_path / "short.mp4", numbered_frames(3), fps=10)
    assert frame_indices(load_frames(path, 6, crop_faces=False, size=128)) == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("suffix, codec", [(".avi", "mpeg4"), (".flv", "flv"), (".mkv", "libx264")])
def test_avi_flv_and_mkv_videos_decode(tmp_path, suffix, codec):
    path = write_video(tmp_path / f"clip{suffix}", numbered_frames(10), fps=10, codec=codec)
    assert probe_video(path).width == 128
    assert load_frames(path, 2, crop_faces=False, size=64).shape == (2, 64, 64, 3)


def test_opencv_finds_the_drawn_face():
    box = largest_face(face_image())
    assert box is not None
    x, y, w, h = box
    assert abs(x + w / 2 - 160) < 20 and abs(y + h / 2 - 120) < 30 and 80 < w < 220


def test_frames_are_cropped_to_the_largest_face(tmp_path):
    frame = face_image(480, 640, centre=(200, 240), scale=1.2)
    frame[20:80, 500:560] = face_image(60, 60, scale=0.2)[:60, :60]  # a far-off tiny "face"
    frames = load_frames(write_video(tmp_path / "face.mp4", [frame] * 10), 2, size=112)
    centre = frames[:, 40:72, 40:72].reshape(-1, 3).mean(axis=0)
    assert frames.shape == (2, 112, 112, 3)
    assert centre[0] > 150  # skin fills the middle: the crop is on the face, not the room
    whole = load_frames(tmp_path / "face.mp4", 1, crop_faces=False, size=112)
    assert whole[0, :12].max() == 0  # letterboxed: 640x480 leaves 14-pixel black bars


def test_frames_without_a_face_are_letterboxed_whole(tmp_path):
    frames = load_frames(write_video(tmp_path / "room.mp4", numbered_frames(5)), 2, size=64)
    assert frames[0, :5].max() == 0 and frames[0, 32, 32].mean() > 0  # 128x96 → bars


def test_face_region_crops_the_face_in_that_half(tmp_path):
    left_skin, right_skin = (225, 190, 170), (150, 110, 80)
    frame = side_by_side(
        face_image(240, 240, scale=0.8, skin=left_skin),
        face_image(240, 240, scale=0.8, skin=right_skin),
    )
    path = write_video(tmp_path / "dialog.avi", [frame] * 10, fps=5)
    for region, skin, other in (("left", left_skin, right_skin), ("right", right_skin, left_skin)):
        crop = load_frames(path, 1, face_region=region, size=96)[0]
        middle = np.median(crop[30:66, 30:66].reshape(-1, 3), axis=0)
        assert np.abs(middle - skin).sum() < np.abs(middle - other).sum(), (region, middle)
