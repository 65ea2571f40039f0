"""Retraining the engine's heads on labels people gave (``curation train``).

``heads.py``: the multi-head classifier on stored embeddings (pure numpy/torch);
``train.py``: labels from the store, held-out split, versioning, re-scoring, comparison.
"""

from curation.training.heads import HeadsError, HeadsWeights, TrainingData, fit_heads
from curation.training.train import NotEnoughLabels, TrainingRun, compare_versions, train_heads

__all__ = [
    "HeadsError",
    "HeadsWeights",
    "NotEnoughLabels",
    "TrainingData",
    "TrainingRun",
    "compare_versions",
    "fit_heads",
    "train_heads",
]
