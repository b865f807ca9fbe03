"""A synthetic corpus (the demo's): synthetic speech, drawn faces and transcripts whose
evidence about the emotion is real but partial in every modality (see
`wavfusion.data.synthetic.corpus`). A data source like any other: it writes a manifest and
media files.

    from wavfusion.data.synthetic import generate_corpus
    manifest_path = generate_corpus(Path("demo-run/corpus"), per_class=40, seed=0)
"""

from wavfusion.data.synthetic.corpus import generate_corpus, speaker_splits
from wavfusion.data.synthetic.profiles import DEMO_LABELS

__all__ = ["DEMO_LABELS", "generate_corpus", "speaker_splits"]
