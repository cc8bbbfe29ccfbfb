"""The real attribute predictors on a handful of faces: they see what the shipped axes move."""

import re
from pathlib import Path

import numpy as np
import pytest

from tlgan_tui.labelers import DEFAULT, available, load_labeler
from tlgan_tui.labelers.base import file_sha256
from tlgan_tui.labelers.models import MODELS

pytestmark = pytest.mark.slow  # the real attribute predictors

FACES = 6


@pytest.fixture(scope="module")
def labelers():
    return {name: load_labeler(name) for name in DEFAULT}


def test_every_shipped_model_file_is_the_one_its_notice_names():
    notice = (MODELS / "NOTICE.md").read_text()
    listed = dict(re.findall(r"^\| `([^`]+)` \|[^|]+\|[^|]+\| `([0-9a-f]{64})` \|", notice, flags=re.M))
    shipped = {path.name for path in MODELS.iterdir() if path.suffix in (".onnx", ".tflite", ".dat")}
    assert set(listed) == shipped
    for name, digest in listed.items():
        assert file_sha256(MODELS / name) == digest, name


def test_the_built_in_labelers_are_known_by_name_with_their_units(labelers):
    assert {"age-gender", "emotion", "face-mesh", "celeba"} <= set(available())
    units = {a.name: (a.unit, a.kind) for labeler in labelers.values() for a in labeler.attributes}
    assert units["gender"] == ("P(male)", "probability") and units["age"] == ("years", "continuous")
    assert units["smile"] == ("P(happy)", "probability") and units["mouth-open"][1] == "continuous"


def test_scores_come_one_per_face_in_their_ranges(engine, labelers):
    images = engine.generator.synthesize(engine.generator.sample(FACES, seed=5))
    scores = {k: v for labeler in labelers.values() for k, v in labeler(images).items()}
    assert all(values.shape == (FACES,) for values in scores.values())
    for name in ("gender", "smile"):
        assert np.all((scores[name] >= 0) & (scores[name] <= 1))
    assert np.all((scores["age"] > 0) & (scores["age"] < 81))
    assert np.all(scores["mouth-open"] >= 0)
    # the same faces in another batch get the same scores
    again = labelers["age-gender"](images[::-1])
    np.testing.assert_allclose(again["age"][::-1], scores["age"], rtol=1e-5)


@pytest.mark.parametrize(
    "axis, labeler, least_share",
    [("gender", "age-gender", 5 / 6), ("age", "age-gender", 4 / 6), ("smile", "emotion", 5 / 6), ("mouth-open", "face-mesh", 5 / 6)],
)
def test_each_labeler_tells_apart_faces_moved_minus_4_and_plus_4_along_its_shipped_axis(engine, labelers, axis, labeler, least_share):
    z0 = engine.generator.sample(FACES, seed=11)
    low, high = (
        labelers[labeler](engine.generator.synthesize(np.stack([engine.axes.apply(z, {axis: a}) for z in z0])))[axis]
        for a in (-4.0, 4.0)
    )
    assert high.mean() > low.mean()
    assert np.mean(high > low) >= least_share


def test_a_labeler_refuses_images_that_are_not_uint8_rgb(labelers):
    with pytest.raises(ValueError, match=r"expected uint8 images of shape \(N, H, W, 3\)"):
        labelers["emotion"](np.zeros((2, 64, 64), dtype=np.uint8))
    with pytest.raises(ValueError, match="expected uint8"):
        labelers["emotion"](np.zeros((2, 64, 64, 3), dtype=np.float32))


def test_the_shipped_axis_file_has_named_axes_with_units_quality_and_the_sefa_axes(engine):
    axes = engine.axes
    assert Path(axes.path).name == "dcgan-digiface64.npz"
    for name in ("gender", "age", "smile", "mouth-open"):
        axis = axes.axis(name)
        assert axis.per_step and axis.per_step > 0 and axis.unit
        assert axis.quality["stability"] > 0.8
    assert axes.axis("age").format_value(1.0).endswith("years")
    assert [name for name in axes.names if name.startswith("sefa-")] == [f"sefa-{i}" for i in range(10)]
