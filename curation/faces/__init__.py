"""Faces: detection and 128-d embeddings (``detector``), persons (``people``), and the
BCubed evaluation on the labelled sample photos (``evaluate``).

Importing is free: dlib and the weights load on the first detection.
"""

from curation.faces.detector import (
    Face,
    FaceModel,
    UnknownFaceModelError,
    create_face_model,
    face_crop,
    list_face_models,
)
from curation.faces.people import (
    FaceObservation,
    PeopleIndex,
    Person,
    Relationship,
    close_circle,
    cluster_faces,
    relationships,
)

__all__ = [
    "Face",
    "FaceModel",
    "FaceObservation",
    "PeopleIndex",
    "Person",
    "Relationship",
    "UnknownFaceModelError",
    "close_circle",
    "cluster_faces",
    "create_face_model",
    "face_crop",
    "list_face_models",
    "relationships",
]
