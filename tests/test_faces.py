"""Face detection, embeddings, crops and the BCubed evaluation.

Two tiers: package-shipped images (scikit-image's astronaut, generated images) that always
run, and the labelled sample photos (``samples`` fixture; skipped when absent). Detection
runs once per module: the model and the sample embeddings are module-scoped fixtures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage import data

from curation.faces.detector import (
    Face,
    FaceModel,
    UnknownFaceModelError,
    create_face_model,
    default_model_dir,
    detection_scale,
    face_crop,
    list_face_models,
)
from curation.faces.evaluate import (
    DetectedPhoto,
    bcubed,
    detect_samples,
    identities,
    score_clustering,
    single_person_identity,
)
from curation.faces.people import FaceObservation, PeopleIndex
from curation.settings import FaceSettings, Settings

# Eileen Collins' face in skimage's 512x512 astronaut photo (measured once by hand).
ASTRONAUT_FACE_CENTRE = (221, 121)


@pytest.fixture(scope="module")
def model() -> FaceModel:
    return create_face_model("dlib_resnet").load()


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


@pytest.fixture(scope="module")
def astronaut_faces(model: FaceModel, astronaut: Image.Image) -> list[Face]:
    return model.detect_and_embed(astronaut)


# ----------------------------------------------------------------------------- shipped tier


def test_importing_faces_loads_nothing() -> None:
    code = (
        "import sys, curation.faces, curation.faces.evaluate; "
        "assert 'dlib' not in sys.modules, 'dlib imported at import time'; "
        "assert 'face_recognition_models' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_model_files_are_found_without_importing_their_package() -> None:
    folder = default_model_dir()
    assert (folder / "dlib_face_recognition_resnet_model_v1.dat").is_file()
    assert (folder / "shape_predictor_5_face_landmarks.dat").is_file()
    assert "face_recognition_models" not in sys.modules


def test_unknown_model_lists_the_choices() -> None:
    assert {"dlib_resnet", "dlib_resnet_cnn"} <= set(list_face_models())
    with pytest.raises(UnknownFaceModelError, match="Available: dlib_resnet, dlib_resnet_cnn"):
        create_face_model("facenet")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_face_fraction": 0.0}, "min_face_fraction"),
        ({"min_face_px": -1}, "min_face_px"),
        ({"max_scale": 0.5}, "max_scale"),
        ({"num_jitters": 0}, "num_jitters"),
    ],
)
def test_bad_parameters_fail_at_load(kwargs: dict, message: str) -> None:
    face_model = create_face_model(**kwargs)  # __init__ only stores them
    with pytest.raises(ValueError, match=message):
        face_model.load()


def test_missing_weights_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Reinstall face_recognition_models"):
        create_face_model(model_dir=tmp_path).load()


def test_detect_refuses_arrays(model: FaceModel) -> None:
    with pytest.raises(TypeError, match="expects a PIL image"):
        model.detect_and_embed(np.zeros((10, 10, 3), dtype=np.uint8))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("longest", "expected"),
    [(1024, 80 / 40.96), (2000, 1.0), (4000, 0.5), (300, 2.0), (50, 2.0)],
)
def test_detection_scale_makes_the_smallest_face_fill_the_window(longest, expected) -> None:
    scale = detection_scale(longest, window_px=80, min_face_fraction=0.04, min_face_px=40,
                            max_scale=4)
    assert scale == pytest.approx(expected)


def test_min_face_fraction_setting_trades_small_faces_for_speed(astronaut: Image.Image) -> None:
    """The astronaut shrunk into a wide photo: her face is ~4.5 % of the longest side. The
    default looks for faces down to 4 % and finds it; settings.faces.min_face_fraction = 0.08
    scans at 1x, where the 80 px HOG window cannot see a ~46 px face."""
    wide = Image.new("RGB", (1024, 680), (128, 128, 128))
    wide.paste(astronaut.resize((256, 256), Image.Resampling.LANCZOS), (600, 300))
    default = create_face_model(**Settings().faces.model_options())
    coarse = create_face_model(**Settings(faces=FaceSettings(min_face_fraction=0.08)).faces.model_options())
    (face,) = default.detect_and_embed(wide)
    assert 0.04 < face.width / 1024 < 0.06
    assert coarse.detect_and_embed(wide) == []
    assert default.model_version == "dlib_resnet/resnet_v1/jitter1"  # libraries scanned before keep theirs
    assert coarse.model_version == "dlib_resnet/resnet_v1/jitter1/minface0.08"


def test_astronaut_has_one_face_where_it_should(astronaut_faces: list[Face]) -> None:
    (face,) = astronaut_faces  # the mission patch on her sleeve must not count
    left, top, right, bottom = face.box
    cx, cy = (left + right) / 2, (top + bottom) / 2
    assert abs(cx - ASTRONAUT_FACE_CENTRE[0]) < 20 and abs(cy - ASTRONAUT_FACE_CENTRE[1]) < 20
    assert 60 < face.width < 130
    assert face.box_norm == pytest.approx(tuple(v / 512 for v in face.box))
    assert face.embedding.shape == (128,) and face.embedding.dtype == np.float32
    assert face.landmarks is not None and len(face.landmarks) == 5
    assert face.confidence > 0.5
    assert face.model_version.startswith("dlib_resnet")


def test_same_face_mirrored_or_resized_embeds_close(
    model: FaceModel, astronaut: Image.Image, astronaut_faces: list[Face]
) -> None:
    reference = astronaut_faces[0].embedding
    (mirrored,) = model.detect_and_embed(ImageOps.mirror(astronaut))
    (bigger,) = model.detect_and_embed(astronaut.resize((1024, 1024)))
    assert np.linalg.norm(mirrored.embedding - reference) < 0.35
    assert np.linalg.norm(bigger.embedding - reference) < 0.2
    # Normalised boxes agree whatever the size the photo was given at.
    assert bigger.box_norm == pytest.approx(astronaut_faces[0].box_norm, abs=0.04)


@pytest.mark.parametrize("kind", ["flat", "noise", "coffee"])
def test_no_face_gives_empty_list(model: FaceModel, kind: str) -> None:
    if kind == "flat":
        image = Image.new("RGB", (1024, 768), (120, 160, 200))
    elif kind == "noise":
        rng = np.random.default_rng(0)
        image = Image.fromarray(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8))
    else:
        image = Image.fromarray(data.coffee())
    assert model.detect_and_embed(image) == []


def test_greyscale_input_is_accepted(model: FaceModel, astronaut: Image.Image) -> None:
    assert len(model.detect_and_embed(astronaut.convert("L"))) == 1


def test_face_crop_is_square_with_margin(astronaut: Image.Image, astronaut_faces) -> None:
    face = astronaut_faces[0]
    crop = face_crop(astronaut, face, size=160)
    assert crop.size == (160, 160) and crop.mode == "RGB"
    # The same face cut from a half-size copy is the same picture, only softer.
    small = face_crop(astronaut.resize((256, 256)), face, size=160)
    diff = np.abs(np.asarray(crop, dtype=float) - np.asarray(small, dtype=float)).mean()
    assert diff < 12
    with pytest.raises(ValueError, match="size"):
        face_crop(astronaut, face, size=0)


def test_face_crop_at_the_border_pads_grey() -> None:
    image = Image.new("RGB", (100, 100), (255, 0, 0))
    corner = Face((0, 0, 20, 20), (0.0, 0.0, 0.2, 0.2), 1.0, np.zeros(128, np.float32))
    crop = np.asarray(face_crop(image, corner, size=64, margin=0.5))
    assert tuple(crop[0, 0]) == (128, 128, 128)
    assert tuple(crop[-1, -1]) == (255, 0, 0)


# ----------------------------------------------------------------------------- evaluation


def test_bcubed_by_hand() -> None:
    perfect = bcubed([1, 1, 2], ["a", "a", "b"])
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)
    merged = bcubed([1, 1, 1], ["a", "a", "b"])  # precisions 2/3, 2/3, 1/3
    assert merged.precision == pytest.approx(5 / 9) and merged.recall == 1.0
    split = bcubed([1, 2, 3], ["a", "a", "b"])  # recalls 1/2, 1/2, 1
    assert split.recall == pytest.approx(2 / 3) and split.precision == 1.0
    with pytest.raises(ValueError, match="2 predicted labels for 3"):
        bcubed([1, 2], ["a", "b", "c"])


@pytest.mark.parametrize(
    ("name", "person"),
    [
        ("Family1-Dad2.jpg", "Family1-Dad"),
        ("Family2-Lady1.jpg", "Family2-Lady"),
        ("child2-person-group.jpg", "Family1-Daughter"),
        ("man2-person-group.jpg", "Family2-Man"),
        ("findsimilar.jpg", "Family1-Dad"),
        ("identification1.jpg", None),
        ("detection2.jpg", None),
    ],
)
def test_identity_from_file_name(name: str, person: str | None) -> None:
    assert single_person_identity(name) == person


def _face(box_norm: tuple[float, float, float, float]) -> Face:
    return Face((0, 0, 1, 1), box_norm, 1.0, np.zeros(128, np.float32))


def test_identities_in_group_photos_by_position() -> None:
    faces = [_face((0.26, 0.29, 0.37, 0.46)), _face((0.0, 0.0, 0.05, 0.05))]
    assert identities("identification1.jpg", faces) == ["Family1-Son", None]
    # In a portrait only the biggest face is the named person.
    portrait = [_face((0.1, 0.1, 0.3, 0.3)), _face((0.2, 0.2, 0.9, 0.9))]
    assert identities("Family1-Mom1.jpg", portrait) == [None, "Family1-Mom"]


# ----------------------------------------------------------------------------- samples tier

# Faces a person counts in each photo (turned-away faces the HOG detector cannot see are
# left out: detection3's man looks up and sideways).
EXPECTED_FACES = {
    "Family1-Dad1.jpg": 1,
    "Family1-Daughter2.jpg": 1,
    "child1-person-group.jpg": 1,
    "identification1.jpg": 4,
    "test-image-person-group.jpg": 2,
    "detection2.jpg": 1,
    "detection4.jpg": 3,
    "detection5.jpg": 3,
    "detection6.jpg": 2,
}


@pytest.fixture(scope="module")
def sample_photos(samples: Path, model: FaceModel) -> list[DetectedPhoto]:
    return detect_samples(samples / "faces", model)


@pytest.mark.samples
def test_detection_counts_on_known_photos(sample_photos: list[DetectedPhoto]) -> None:
    found = {p.file_name: len(p.faces) for p in sample_photos}
    assert {name: found[name] for name in EXPECTED_FACES} == EXPECTED_FACES


@pytest.mark.samples
@pytest.mark.parametrize("unique_files", [False, True])
def test_bcubed_on_sample_faces(sample_photos: list[DetectedPhoto], unique_files: bool) -> None:
    score = score_clustering(sample_photos, unique_files=unique_files)
    assert score.n_persons >= 15 and score.n_labelled >= 30
    assert score.f1 >= 0.95, score


@pytest.mark.samples
def test_group_photo_faces_join_the_persons_of_the_portraits(
    sample_photos: list[DetectedPhoto],
) -> None:
    """Incremental path: cluster the one-person photos, then add the group photos."""
    portraits, groups = [], []
    for photo in sample_photos:
        labels = identities(photo.file_name, photo.faces)
        target = portraits if single_person_identity(photo.file_name) else groups
        for k, (face, label) in enumerate(zip(photo.faces, labels, strict=True)):
            target.append((FaceObservation(f"{photo.file_name}#{k}", photo.file_name,
                                           face.embedding), label))
    index = PeopleIndex()
    index.recluster(obs for obs, _ in portraits)
    person_of_identity = {label: index.person_of(obs.face_id) for obs, label in portraits if label}
    assert len(set(person_of_identity.values())) == len(person_of_identity)  # 8 persons

    assignments = index.assign_new_faces(obs for obs, _ in groups)
    for (obs, label), assignment in zip(groups, assignments, strict=True):
        if label in person_of_identity:
            assert assignment.person_id == person_of_identity[label], obs.face_id
        elif label is not None:
            assert assignment.new_person, obs.face_id


def test_threads_share_one_model(model: FaceModel, astronaut: Image.Image, astronaut_faces) -> None:
    # The faces stage scans photos side by side with one model: the HOG scans run at once
    # (each thread has its own detector), the networks one at a time.
    from concurrent.futures import ThreadPoolExecutor

    images = [astronaut, ImageOps.mirror(astronaut), astronaut, Image.fromarray(data.coffee())]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(model.detect_and_embed, images))
    assert [len(r) for r in results] == [1, 1, 1, 0]
    for found in (results[0], results[2]):
        np.testing.assert_allclose(found[0].embedding, astronaut_faces[0].embedding, atol=1e-6)
        assert found[0].box == astronaut_faces[0].box


def test_colour_scan_finds_the_same_face(astronaut: Image.Image, astronaut_faces) -> None:
    # The old settings (HOG on the colour image, CNN check on a 160 px crop) agree with the
    # default on the astronaut; docs/faces.md has the comparison on every sample set.
    (face,) = create_face_model(grayscale=False, verify_crop_px=160).detect_and_embed(astronaut)
    assert face.box_norm == pytest.approx(astronaut_faces[0].box_norm, abs=0.02)
    assert np.linalg.norm(face.embedding - astronaut_faces[0].embedding) < 0.1


def test_bad_verify_crop_fails_at_load() -> None:
    with pytest.raises(ValueError, match="verify_crop_px"):
        create_face_model(verify_crop_px=60).load()


def test_faces_stage_scans_in_threads(model: FaceModel, astronaut: Image.Image, tmp_path: Path) -> None:
    # The stage on a generated library (the astronaut, two copies, a coffee cup, a flat
    # frame) with two worker threads: one scan per photo, the face ids in photo order, a
    # crop per face, one person.
    from curation.ingest.pipeline import ingest_library
    from curation.pipeline.faces_stage import face_crop_path, run_faces_stage
    from curation.settings import Settings
    from curation.store import Store

    root = tmp_path / "library"
    root.mkdir()
    astronaut.save(root / "a1.jpg", quality=92)
    ImageOps.mirror(astronaut).save(root / "a2.jpg", quality=92)
    Image.fromarray(data.coffee()).save(root / "coffee.jpg", quality=92)
    astronaut.resize((800, 800)).save(root / "a3.jpg", quality=92)
    Image.new("RGB", (640, 480), (90, 90, 90)).save(root / "flat.jpg", quality=92)
    settings = Settings(data_dir=tmp_path / "data", faces={"threads": 2})
    store = Store(settings.database)
    library_id = ingest_library(root, store, settings).library_id

    report = run_faces_stage(store, settings, library_id, face_model=model)
    assert (report.n_scanned, report.n_faces, report.n_persons) == (5, 3, 1)
    with store.connect() as con:
        scans = dict(con.execute(
            "SELECT p.rel_path, s.n_faces FROM face_scans s JOIN photos p USING (photo_id)"
        ).fetchall())
        face_ids = [r[0] for r in con.execute("SELECT face_id FROM faces ORDER BY face_id").fetchall()]
    assert scans == {"a1.jpg": 1, "a2.jpg": 1, "a3.jpg": 1, "coffee.jpg": 0, "flat.jpg": 0}
    assert all(face_id.endswith("-0") for face_id in face_ids)
    assert all(face_crop_path(settings.cache, face_id).is_file() for face_id in face_ids)
