"""The Label Studio boundary: hard cases out, annotations back.

``config.py`` labeling configs per task type; ``convert.py`` pure converters both ways;
``client.py`` the only module that talks to Label Studio; ``queue.py`` hard-case mining and
the ranked queue; ``loop.py`` push/pull; ``feedback.py`` answers back into the engine as
constraints (same event, same person). Importing this package does no work and does not
import the Label Studio SDK (the client does, when it first connects).
"""

from labeling.client import (
    Connection,
    LabelStudioAuthError,
    LabelStudioClient,
    LabelStudioError,
    LabelStudioNotConfigured,
    LabelStudioRequestError,
    LabelStudioUnavailable,
)
from labeling.config import TaskType
from labeling.feedback import FeedbackReport, apply_feedback
from labeling.loop import PullReport, PushReport, labels_frame, pull, push
from labeling.queue import QueueItem, QueueStatus, Source, enqueue_photos, mine, next_batch, queue_frame

__all__ = [
    "Connection",
    "FeedbackReport",
    "LabelStudioAuthError",
    "LabelStudioClient",
    "LabelStudioError",
    "LabelStudioNotConfigured",
    "LabelStudioRequestError",
    "LabelStudioUnavailable",
    "PullReport",
    "PushReport",
    "QueueItem",
    "QueueStatus",
    "Source",
    "TaskType",
    "apply_feedback",
    "enqueue_photos",
    "labels_frame",
    "mine",
    "next_batch",
    "pull",
    "push",
    "queue_frame",
]
