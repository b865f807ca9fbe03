"""Dataset adapters: each turns a raw release into manifest rows (`wavfusion data prepare`)."""

from wavfusion.data.datasets.common import PrepareResult
from wavfusion.data.datasets.iemocap import prepare_iemocap
from wavfusion.data.datasets.meld import prepare_meld
from wavfusion.data.datasets.ravdess import prepare_ravdess

__all__ = ["PrepareResult", "prepare_iemocap", "prepare_meld", "prepare_ravdess"]
