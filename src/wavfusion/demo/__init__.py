"""The demo corpus: synthetic speech, drawn faces and transcripts whose evidence about the
emotion is real but partial in every modality (see `wavfusion.demo.corpus`).

    from wavfusion.demo import generate_corpus
    manifest_path = generate_corpus(Path("demo-run/corpus"), per_class=40, seed=0)
"""

from wavfusion.demo.corpus import generate_corpus, speaker_splits
from wavfusion.demo.profiles import DEMO_LABELS

__all__ = ["DEMO_LABELS", "generate_corpus", "speaker_splits"]
