"""The demo corpus generator: deterministic, valid, balanced, speaker-independent, faces found."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path

import av
import numpy as np
import pytest

from tests.data.synthetic.conftest import EVIDENCE_PER_CLASS, small_corpus
from wavfusion.data.check import check_manifest
from wavfusion.data.faces import largest_face
from wavfusion.data.manifest import read_manifest
from wavfusion.data.media import load_frames
from wavfusion.data.synthetic import DEMO_LABELS, generate_corpus, speaker_splits
from wavfusion.data.synthetic.profiles import (
    FACE_PARAMETERS,
    TEXT_MIX,
    VOICE_PARAMETERS,
    parameter_table,
)


def decoded_frames_digest(path: Path) -> str:
    """Hash of every decoded RGB frame of a video."""
    digest = hashlib.sha256()
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            digest.update(frame.to_ndarray(format="rgb24").tobytes())
    return digest.hexdigest()


def media_of(manifest_path: Path) -> dict[str, Path]:
    manifest = read_manifest(manifest_path)
    cells = [cell for row in manifest.rows for cell in (row.audio, row.video) if cell]
    return {cell: manifest.path_of(cell) for cell in cells}


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """Three tiny corpora: seed 0 twice and seed 1."""
    return [
        small_corpus(tmp_path_factory.mktemp(name), seed=seed)
        for name, seed in (("first", 0), ("again", 0), ("other", 1))
    ]


def test_same_seed_gives_identical_manifest_audio_and_frames(twins):
    first, again, _ = twins
    assert first.read_bytes() == again.read_bytes()
    assert (first.parent / "corpus.json").read_bytes() == (
        again.parent / "corpus.json"
    ).read_bytes()
    files, files_again = media_of(first), media_of(again)
    assert files.keys() == files_again.keys()
    assert any(name.endswith(".mp4") for name in files)
    assert any(name.endswith(".wav") for name in files)
    manifest, manifest_again = read_manifest(first), read_manifest(again)
    for row, row_again in zip(manifest.rows, manifest_again.rows):
        np.testing.assert_array_equal(
            manifest.load_audio(row), manifest_again.load_audio(row_again)
        )
    for name, path in files.items():
        if name.endswith(".mp4"):
            assert decoded_frames_digest(path) == decoded_frames_digest(files_again[name])
        assert path.read_bytes() == files_again[name].read_bytes(), name  # byte-identical too


def test_another_seed_gives_another_corpus(twins):
    first, _, other = twins
    assert first.read_bytes() != other.read_bytes()
    manifest, manifest_other = read_manifest(first), read_manifest(other)
    row, row_other = manifest.rows[0], manifest_other.rows[0]
    wave, wave_other = manifest.load_audio(row), manifest_other.load_audio(row_other)
    assert wave.shape != wave_other.shape or not np.array_equal(wave, wave_other)


def test_manifest_passes_data_check_with_no_bad_rows(corpus):
    report = check_manifest(corpus, progress=False)  # every label name is a known one
    assert report.bad == []
    assert len(report.usable) == EVIDENCE_PER_CLASS * len(DEMO_LABELS)
    assert {note.reason for note in report.notes} <= {"empty transcript (text modality missing)"}


def test_classes_are_balanced_and_split_by_speaker_as_documented(corpus):
    rows = read_manifest(corpus).rows
    assert Counter(row.label for row in rows) == {
        label: EVIDENCE_PER_CLASS for label in DEMO_LABELS
    }
    split_of = {row.speaker: row.split for row in rows}
    assert all(split_of[row.speaker] == row.split for row in rows)  # one split per speaker
    assert split_of == {
        **{f"spk0{n}": "train" for n in range(1, 6)},
        "spk06": "val",
        "spk07": "test",
        "spk08": "test",
    }
    per_split = Counter((row.split, row.label) for row in rows)
    for split, share in (("train", 5 / 8), ("val", 1 / 8), ("test", 2 / 8)):
        assert all(per_split[split, label] == EVIDENCE_PER_CLASS * share for label in DEMO_LABELS)


def test_speaker_splits_scale_with_the_number_of_speakers():
    assert speaker_splits(3) == ["train", "val", "test"]
    assert speaker_splits(16).count("test") == 4 and speaker_splits(16).count("val") == 2
    with pytest.raises(ValueError, match="at least 3 speakers"):
        speaker_splits(2)


def test_modalities_follow_the_documented_fractions(corpus):
    rows = read_manifest(corpus).rows
    total = len(rows)
    assert abs(sum(bool(row.video) for row in rows) / total - 0.8) < 0.05
    kinds = Counter(row.extra["text_kind"] for row in rows)
    assert abs(kinds["empty"] / total - 0.15) < 0.05
    with_text = total - kinds["empty"]
    for kind, share in TEXT_MIX.items():
        assert abs(kinds[kind] / with_text - share) < 0.06, kind
    assert all(bool(row.text) == (row.extra["text_kind"] != "empty") for row in rows)
    assert all(row.audio or row.video for row in rows)
    assert any(not row.audio for row in rows)  # some audio only as the video's track


def test_transcripts_carry_the_documented_evidence(corpus):
    from wavfusion.data.synthetic.sentences import EMOTION_SENTENCES, SHARED_SENTENCES

    def pool_of(text: str) -> str:
        core = text.split(", ", 1)[-1].lower()
        pools = {"shared": SHARED_SENTENCES, **EMOTION_SENTENCES}
        return next(n for n, p in pools.items() if any(s.lower().endswith(core) for s in p))

    for row in read_manifest(corpus).rows:
        kind = row.extra["text_kind"]
        if kind == "own":
            assert pool_of(row.text) == row.label
        elif kind == "shared":
            assert pool_of(row.text) == "shared"
        elif kind == "contradicting":
            assert pool_of(row.text) not in ("shared", row.label)


def test_the_haar_cascade_finds_the_face_in_most_frames(corpus):
    manifest = read_manifest(corpus)
    videos = [manifest.path_of(row.video) for row in manifest.rows if row.video][::6]
    found = [
        largest_face(frame) is not None
        for path in videos
        for frame in load_frames(path, 3, crop_faces=False, size=128)
    ]
    assert np.mean(found) >= 0.9


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="per_class"):
        generate_corpus(tmp_path, per_class=0, progress=False)
    with pytest.raises(ValueError, match="video_fraction"):
        generate_corpus(tmp_path, video_fraction=1.5, progress=False)
    with pytest.raises(ValueError, match="seconds"):
        generate_corpus(tmp_path, seconds=(3.0, 1.0), progress=False)


def test_every_emotional_sentence_holds_a_cue_word_of_its_class():
    import re

    from wavfusion.data.synthetic.sentences import CUE_WORDS, EMOTION_SENTENCES

    for label, cues in CUE_WORDS.items():
        for sentence in EMOTION_SENTENCES[label]:
            assert set(re.findall(r"[a-z']+", sentence.lower())) & set(cues), sentence


def test_generating_over_an_older_corpus_leaves_exactly_the_new_one(twins, tmp_path):
    first, _, other = twins
    folder = tmp_path / "reused"
    shutil.copytree(first.parent, folder)
    small_corpus(folder, seed=1)
    files = sorted(path.relative_to(folder) for path in folder.rglob("*") if path.is_file())
    expected = sorted(path.relative_to(other.parent) for path in other.parent.rglob("*"))
    assert files == [path for path in expected if (other.parent / path).is_file()]
    assert all((folder / name).read_bytes() == (other.parent / name).read_bytes() for name in files)


def test_docs_show_the_parameter_tables_the_generator_uses():
    import wavfusion.data.synthetic.corpus

    page = Path(__file__).resolve().parents[3] / "docs" / "demo-corpus.md"
    readme = page.read_text(encoding="utf-8")
    for parameters in (VOICE_PARAMETERS, FACE_PARAMETERS):
        table = parameter_table(parameters)
        assert table in wavfusion.data.synthetic.corpus.__doc__
        assert table in readme
