"""Moving along axes, locking attributes, and axis files that belong to one generator."""

import numpy as np
import pytest

from tlgan_tui.axes import AxisInfo, AxisSet
from tlgan_tui.errors import AxisFileError, LockError, UnknownAxisError
from tlgan_tui.latent import seed_latent


def entangled_axes(dim: int = 100) -> AxisSet:
    """age leans on gender (cos 0.45), as real attribute axes do; glasses is independent."""
    rng = np.random.default_rng(0)
    gender = rng.standard_normal(dim)
    glasses = rng.standard_normal(dim)
    age = 0.45 * gender / np.linalg.norm(gender) + 0.89 * rng.standard_normal(dim) / np.sqrt(dim)
    info = [AxisInfo("gender", "P(male)", 0.1), AxisInfo("age", "years", 3.3), AxisInfo("glasses")]
    return AxisSet("test-gen", np.stack([gender, age, glasses]), info)


def prediction(axes: AxisSet, name: str, z: np.ndarray) -> float:
    """The attribute's linear prediction, up to its scale and intercept."""
    return float(axes.direction(name) @ z)


def test_locking_gender_keeps_its_prediction_while_age_moves():
    axes = entangled_axes()
    z0 = seed_latent(1, axes.latent_dim)
    before = prediction(axes, "gender", axes.apply(z0, {}, {"gender"}))
    for age in (-3.0, 1.0, 3.0):
        moved = axes.apply(z0, {"age": age}, {"gender"})
        assert prediction(axes, "gender", moved) == pytest.approx(before, abs=1e-9)
        assert np.linalg.norm(moved) == pytest.approx(np.sqrt(axes.latent_dim))
    # ...and age still moves, by most of the step.
    assert prediction(axes, "age", axes.apply(z0, {"age": 3.0}, {"gender"})) - prediction(axes, "age", z0) > 2.0


def test_without_the_lock_moving_age_drags_gender_along():
    axes = entangled_axes()
    z0 = seed_latent(1, axes.latent_dim)
    drift = prediction(axes, "gender", axes.apply(z0, {"age": 3.0})) - prediction(axes, "gender", z0)
    assert drift > 1.0


def test_a_locked_axis_still_moves_along_its_own_bar():
    axes = entangled_axes()
    z0 = seed_latent(2, axes.latent_dim)
    moved = axes.apply(z0, {"gender": 2.0}, {"gender", "glasses"})
    assert prediction(axes, "gender", moved) > prediction(axes, "gender", z0) + 1.5
    assert prediction(axes, "glasses", moved) == pytest.approx(prediction(axes, "glasses", axes.apply(z0, {}, {"gender", "glasses"})), abs=1e-9)


def test_moving_an_axis_that_is_almost_a_combination_of_locked_ones_is_refused():
    axes = entangled_axes()
    nearly_gender = axes.direction("gender") + 0.05 * axes.direction("glasses")
    info = [*axes.info, AxisInfo("masculinity")]
    axes = AxisSet("test-gen", np.vstack([axes.directions, nearly_gender]), info)
    z0 = seed_latent(3, axes.latent_dim)
    with pytest.raises(LockError, match=r"cannot move 'masculinity' while gender, glasses are locked: it is almost a combination of them \(cosine 1.000\)"):
        axes.apply(z0, {"masculinity": 1.0}, {"gender", "glasses"})
    axes.apply(z0, {"masculinity": 1.0}, {"glasses"})  # with gender free it moves


def test_every_edit_stays_on_the_sphere(engine):
    z0 = seed_latent(4, 100)
    for offsets, locks in [({"sefa-0": 3}, set()), ({"sefa-0": -3, "sefa-1": 2}, {"sefa-2"})]:
        assert np.linalg.norm(engine.axes.apply(z0, offsets, locks)) == pytest.approx(10.0)


def test_unknown_axis_names_suggest_the_nearest(engine):
    with pytest.raises(UnknownAxisError, match="unknown axis 'sefa0'; did you mean 'sefa-0'"):
        engine.axes.index("sefa0")


def test_an_axis_file_round_trips(tmp_path):
    axes = entangled_axes()
    path = axes.save(tmp_path / "axes.npz")
    loaded = AxisSet.load(path)
    assert loaded.names == axes.names and loaded.info == axes.info
    np.testing.assert_array_equal(loaded.directions, axes.directions)
    assert [loaded.fingerprint(n) for n in loaded.names] == [axes.fingerprint(n) for n in axes.names]


def test_an_axis_file_for_another_generator_is_refused_naming_its_generator(tmp_path, engine):
    path = entangled_axes().save(tmp_path / "other.npz")
    from tlgan_tui.engine import load_axes_for

    with pytest.raises(AxisFileError, match="holds axes for generator 'test-gen' .* in use is 'dcgan-digiface64'"):
        load_axes_for(engine.generator, path)


def test_a_corrupt_axis_file_is_refused(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(AxisFileError, match="not a readable axis file"):
        AxisSet.load(path)


def test_shipped_sefa_axes_are_unit_orthogonal_and_change_the_face(engine):
    sefa = [name for name in engine.axes.names if name.startswith("sefa-")]
    assert len(sefa) >= 5
    d = np.stack([engine.axes.direction(name) for name in sefa])
    np.testing.assert_allclose(d @ d.T, np.eye(len(sefa)), atol=1e-9)
    recipe = engine.new_recipe(3)
    before = engine.render(recipe).astype(int)
    after = engine.render(recipe.with_offset("sefa-0", 2.0, engine.axes)).astype(int)
    assert np.abs(after - before).mean() > 5
