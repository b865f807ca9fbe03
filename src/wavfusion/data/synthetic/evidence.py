"""How much each modality of a corpus says about the emotion, without a neural network.

Simple hand-made features per modality, read through the same manifest path as real data
(`Manifest.load_audio` / `Manifest.load_frames`, so video is face-cropped by the Haar cascade):

- audio: pitch (autocorrelation), energy, voicing, syllable rate, spectral balance and
  periodicity statistics of the decoded 16 kHz waveform, 12 numbers;
- video: the centre of each face crop in grey, normalised for brightness and contrast, and
  its gradient magnitude, pooled to 12 x 12 and averaged over the sampled frames;
- text: a binary bag of words.

Per modality, a logistic regression (regularisation picked by 4-fold cross-validation) is
fitted on the train rows that have the modality and scored on the test split (accuracy and
weighted F1). A test row without the modality is predicted as the most frequent training
class, so `accuracy` is over all test rows and `present_accuracy` over those that have it.
Two combinations of the three:

- `concat`: one logistic regression on the concatenated features (each block scaled to the
  same total variance; a missing block is zeros plus a "missing" flag);
- `late_fusion`: the product of the three single-modality classifiers' probabilities over
  the modalities a row has (naive-Bayes style), with no extra fitting.

With a hundred training rows `concat` is limited by its ~500 inputs; `late_fusion` shows
better how complementary the modalities are.

    report = measure_evidence("demo/manifest.csv")
    print(report.table())

    python -m wavfusion.data.synthetic.evidence demo/manifest.csv
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from wavfusion.data.manifest import Manifest, ManifestRow, read_manifest
from wavfusion.data.media import SAMPLE_RATE

FRAME, HOP = 512, 160  # audio analysis: 32 ms frames every 10 ms
PITCH_RANGE = (60.0, 450.0)  # Hz searched by the autocorrelation
ACTIVE_DB = 25.0  # frames within this many dB of the loudest are speech
VOICED_PERIODICITY = 0.45  # normalised autocorrelation peak above which a frame is voiced
CROP_SIZE, POOLED = 64, 12  # face crops are decoded at CROP_SIZE and pooled to POOLED
FACE_CENTRE = 0.6  # the central part of a crop kept (the crop has a margin around the face)
REGULARISATION = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)  # C values tried, by 4-fold CV on train
CV_FOLDS = 4


def audio_features(wave: np.ndarray) -> np.ndarray:
    """12 prosody numbers of a `(samples,)` 16 kHz waveform: pitch median / spread / range
    (semitones), energy mean / spread (dB), active and voiced fractions, syllable rate,
    spectral balance, spectral centroid, periodicity, and the clip's peak-to-RMS ratio."""
    if wave.size < FRAME:
        wave = np.pad(wave, (0, FRAME - wave.size))
    frames = np.lib.stride_tricks.sliding_window_view(wave, FRAME)[::HOP] * np.hanning(FRAME)
    energy_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    active = energy_db > energy_db.max() - ACTIVE_DB
    spectrum = np.abs(np.fft.rfft(frames, 2 * FRAME)) ** 2
    freqs = np.fft.rfftfreq(2 * FRAME, 1 / SAMPLE_RATE)
    autocorr = np.fft.irfft(spectrum, 2 * FRAME)[:, :FRAME]
    autocorr /= autocorr[:, :1] + 1e-12
    lags = np.arange(int(SAMPLE_RATE / PITCH_RANGE[1]), int(SAMPLE_RATE / PITCH_RANGE[0]))
    best = lags[np.argmax(autocorr[:, lags], axis=1)]
    periodicity = autocorr[np.arange(len(frames)), best]
    voiced = active & (periodicity > VOICED_PERIODICITY)
    semitones = 12 * np.log2(SAMPLE_RATE / best / 100.0)
    pitch = semitones[voiced] if voiced.sum() >= 3 else semitones[active]
    low = spectrum[:, freqs < 1000].sum(axis=1) + 1e-10
    high = spectrum[:, freqs >= 1000].sum(axis=1) + 1e-10
    centroid = (spectrum * freqs).sum(axis=1) / (spectrum.sum(axis=1) + 1e-10)
    envelope = np.convolve(energy_db, np.ones(5) / 5, mode="same")
    peaks = (envelope[1:-1] > envelope[:-2]) & (envelope[1:-1] >= envelope[2:])
    peaks &= envelope[1:-1] > energy_db.max() - ACTIVE_DB / 2
    seconds = wave.size / SAMPLE_RATE
    return np.array(
        [
            np.median(pitch),
            np.std(pitch),
            np.percentile(pitch, 90) - np.percentile(pitch, 10),
            energy_db[active].mean(),
            energy_db[active].std(),
            active.mean(),
            voiced.mean(),
            peaks.sum() / seconds,
            np.mean(10 * np.log10(high / low)[active]),
            np.mean(centroid[active]),
            np.mean(periodicity[active]),
            20 * np.log10(np.abs(wave).max() / (np.sqrt(np.mean(wave**2)) + 1e-10)),
        ]
    )


def video_features(crops: np.ndarray) -> np.ndarray:
    """`(2 * POOLED**2,)` numbers of face crops `(frames, size, size, 3)` uint8: the central
    FACE_CENTRE of each crop in grey, normalised to zero mean and unit variance, and its
    gradient magnitude, pooled to POOLED x POOLED and averaged over the frames."""
    maps = []
    for crop in crops:
        margin = int(crop.shape[0] * (1 - FACE_CENTRE) / 2)
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[margin:-margin, margin:-margin]
        grey = grey.astype(np.float32)
        grey = (grey - grey.mean()) / (grey.std() + 1e-6)
        gradient = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
        maps.append(
            [
                cv2.resize(m, (POOLED, POOLED), interpolation=cv2.INTER_AREA)
                for m in (grey, gradient)
            ]
        )
    return np.mean(np.asarray(maps), axis=0).reshape(-1)


@dataclass
class CorpusFeatures:
    """Per-row features of a manifest; `None` where the row lacks the modality."""

    rows: list[ManifestRow]
    audio: list[np.ndarray | None] = field(default_factory=list)
    video: list[np.ndarray | None] = field(default_factory=list)
    text: list[str | None] = field(default_factory=list)


def extract_features(
    manifest: Manifest, rows: list[ManifestRow], *, num_frames: int = 8, progress: bool = False
) -> CorpusFeatures:
    """Decode every row of `rows` through `manifest` and compute its features."""
    features = CorpusFeatures(rows)
    for row in tqdm(rows, desc="evidence", unit="row", disable=not progress, file=sys.stderr):
        features.audio.append(audio_features(manifest.load_audio(row)))
        crops = manifest.load_frames(row, num_frames, size=CROP_SIZE) if row.video else None
        features.video.append(None if crops is None else video_features(crops))
        features.text.append(row.text.strip() or None)
    return features


@dataclass
class ModalityScore:
    """Test scores of one classifier: over all test rows, and over the rows it could see."""

    accuracy: float
    weighted_f1: float
    present_accuracy: float
    present_weighted_f1: float
    present_rows: int


@dataclass
class EvidenceReport:
    """`scores[m]` for m in audio, video, text (those the train rows have), concat and
    late_fusion (module docs)."""

    scores: dict[str, ModalityScore]
    train_rows: int
    test_rows: int

    def table(self) -> str:
        lines = [
            f"fit on {self.train_rows} train rows, scored on {self.test_rows} test rows",
            f"{'':<12}  all test rows  | rows with the modality",
            f"{'modality':<12}  acc    wF1     | rows  acc    wF1",
        ]
        for name, score in self.scores.items():
            lines.append(
                f"{name:<12}  {score.accuracy:.3f}  {score.weighted_f1:.3f}   | "
                f"{score.present_rows:>4}  {score.present_accuracy:.3f}  "
                f"{score.present_weighted_f1:.3f}"
            )
        return "\n".join(lines)


def _matrices(
    features: CorpusFeatures, train: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per modality `(X (rows, dims), present (rows,) bool)`: numeric features standardised on
    the train rows that have them, text as a binary bag of words of the train vocabulary;
    zeros where a row lacks the modality. A modality no train row has is left out."""
    from sklearn.feature_extraction.text import CountVectorizer

    out = {}
    for name in ("audio", "video"):
        values = getattr(features, name)
        present = np.array([value is not None for value in values])
        if not (train & present).any():
            continue  # e.g. a corpus without video
        width = next(value.size for value in values if value is not None)
        matrix = np.stack([value if value is not None else np.zeros(width) for value in values])
        fitted = matrix[train & present]
        matrix = (matrix - fitted.mean(axis=0)) / (fitted.std(axis=0) + 1e-6)
        out[name] = (np.where(present[:, None], matrix, 0.0), present)
    present = np.array([text is not None for text in features.text])
    if (train & present).any():
        texts = [text for text, fit in zip(features.text, train & present) if fit]
        vectoriser = CountVectorizer(binary=True).fit(texts)
        bags = vectoriser.transform([text or "" for text in features.text]).toarray()
        out["text"] = (bags.astype(float), present)
    return out


def _score(truth, predicted) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    if len(truth) == 0:
        return float("nan"), float("nan")
    return (
        float(accuracy_score(truth, predicted)),
        float(f1_score(truth, predicted, average="weighted", zero_division=0)),
    )


def _fit(matrix: np.ndarray, labels: np.ndarray):
    """A logistic regression fitted on `matrix` rows, its regularisation chosen by stratified
    cross-validation (CV_FOLDS, fewer when a class has fewer rows; none below 2)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    folds = min(CV_FOLDS, min(np.unique(labels, return_counts=True)[1]))
    model = LogisticRegression(max_iter=5000)
    if folds < 2:
        return model.fit(matrix, labels)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    return GridSearchCV(model, {"C": list(REGULARISATION)}, cv=splitter).fit(matrix, labels)


def score_features(
    features: CorpusFeatures, *, fit_split: str = "train", score_split: str = "test"
) -> EvidenceReport:
    """Fit one logistic regression per modality and one on their concatenation on the rows of
    `fit_split`; score them on `score_split`."""
    import sklearn.linear_model  # noqa: F401  (load its BLAS before limiting the threads)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # tiny problems: BLAS threads only contend for the cores
        return _score_features(features, fit_split, score_split)


def _score_features(features: CorpusFeatures, fit_split: str, score_split: str) -> EvidenceReport:
    labels = np.array([row.label for row in features.rows])
    splits = np.array([row.split for row in features.rows])
    train, test = splits == fit_split, splits == score_split
    if not train.any() or not test.any():
        raise ValueError(f"no rows in split {fit_split!r} or {score_split!r}")
    names, counts = np.unique(labels[train], return_counts=True)
    majority = names[np.argmax(counts)]
    blocks = _matrices(features, train)
    classes = np.array(sorted(set(labels[train])))
    scores, models = {}, {}
    for name, (matrix, present) in blocks.items():
        model = _fit(matrix[train & present], labels[train & present])
        if list(model.classes_) != list(classes):
            raise ValueError(f"the train rows with {name} lack a class: {list(model.classes_)}")
        models[name] = model
        predicted = np.full(labels.shape, majority, dtype=object)
        if (test & present).any():
            predicted[test & present] = model.predict(matrix[test & present])
        scores[name] = _scores(labels, predicted, test, present)
    parts, log_probability = [], np.zeros((len(labels), len(classes)))
    for name, (matrix, present) in blocks.items():  # blocks scaled to the same total variance
        parts += [matrix / np.sqrt(matrix.shape[1]), (~present[:, None]).astype(float)]
        probability = models[name].predict_proba(matrix)
        log_probability += np.where(present[:, None], np.log(np.maximum(probability, 1e-6)), 0.0)
    combined = np.hstack(parts)
    predicted = _fit(combined[train], labels[train]).predict(combined)
    everywhere = np.ones_like(test)
    scores["concat"] = _scores(labels, predicted, test, everywhere)
    predicted = classes[log_probability.argmax(axis=1)]
    scores["late_fusion"] = _scores(labels, predicted, test, everywhere)
    return EvidenceReport(scores, int(train.sum()), int(test.sum()))


def _scores(labels, predicted, test, present) -> ModalityScore:
    accuracy, weighted_f1 = _score(labels[test], predicted[test])
    seen = test & present
    present_accuracy, present_f1 = _score(labels[seen], predicted[seen])
    return ModalityScore(accuracy, weighted_f1, present_accuracy, present_f1, int(seen.sum()))


def measure_evidence(
    manifest_path: str | Path,
    *,
    fit_split: str = "train",
    score_split: str = "test",
    num_frames: int = 8,
    progress: bool = False,
) -> EvidenceReport:
    """Per-modality and combined test scores of simple classifiers on a manifest (module
    docs); only rows of `fit_split` and `score_split` are decoded."""
    manifest = read_manifest(manifest_path)
    rows = [row for row in manifest.rows if row.split in (fit_split, score_split) and row.label]
    features = extract_features(manifest, rows, num_frames=num_frames, progress=progress)
    return score_features(features, fit_split=fit_split, score_split=score_split)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--fit-split", default="train")
    parser.add_argument("--score-split", default="test")
    args = parser.parse_args(argv)
    report = measure_evidence(
        args.manifest, fit_split=args.fit_split, score_split=args.score_split, progress=True
    )
    print(report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
