"""`tlgan axes import`: published directions become axes of the model they were found for; a
direction of the wrong size or space is refused with the reason."""

import numpy as np
import pytest

from tests.stylegan_fixtures import write_sg2_snapshot
from tlgan_tui.axes import AxisSet
from tlgan_tui.cli import main
from tlgan_tui.engine import Engine


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_interfacegan_style_boundary_becomes_an_axis_that_moves_faces(capsys, engine, tmp_path):
    boundary = np.random.default_rng(0).standard_normal((1, 100))
    np.save(tmp_path / "boundary_smile.npy", boundary)
    out = tmp_path / "mine.npz"
    code, text, err = run(capsys, "axes", "import", str(tmp_path / "boundary_smile.npy"), "--name", "published-smile", "--out", str(out))
    assert code == 0, err
    axes = AxisSet.load(out)
    assert "published-smile" in axes.names and "sefa-0" in axes.names  # merged into the axes in use
    np.testing.assert_allclose(axes.direction("published-smile"), boundary[0] / np.linalg.norm(boundary))
    assert axes.axis("published-smile").method == "imported"
    code, _, err = run(capsys, "render", "--axes", str(out), "--seed", "1", "--set", "published-smile=2", "-o", str(tmp_path / "f.png"))
    assert code == 0, err


def test_ganspace_components_become_numbered_axes_in_w(capsys, tmp_path):
    snapshot, _ = write_sg2_snapshot(tmp_path / "s.pkl")
    np.savez(tmp_path / "ganspace.npz", lat_comp=np.random.default_rng(1).standard_normal((3, 1, 16)), lat_mean=np.zeros(16))
    out = tmp_path / "w.npz"
    code, _, err = run(capsys, "axes", "import", str(tmp_path / "ganspace.npz"), "--name", "pc", "--out", str(out), "--generator", "stylegan", "--weights", str(snapshot))
    assert code == 0, err
    axes = AxisSet.load(out)
    assert axes.space == "w" and {"pc-0", "pc-1", "pc-2"} <= set(axes.names)


@pytest.mark.parametrize(
    "array, extra, message",
    [
        (np.ones((1, 512)), [], "size 512, but dcgan-digiface64's z has size 100"),
        (np.ones((1, 100)), ["--space", "w"], "directions are in W"),
        (np.array([[np.nan] * 100]), [], "zero or not finite"),
        (np.array(["a", "b"]), [], "not directions"),
    ],
)
def test_directions_that_do_not_fit_are_refused_with_the_reason(capsys, tmp_path, array, extra, message):
    np.save(tmp_path / "d.npy", array)
    code, _, err = run(capsys, "axes", "import", str(tmp_path / "d.npy"), "--name", "x", "--out", str(tmp_path / "o.npz"), *extra)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.npz").exists()


def test_a_pickled_array_is_never_loaded(capsys, tmp_path):
    np.save(tmp_path / "p.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    code, _, err = run(capsys, "axes", "import", str(tmp_path / "p.npy"), "--name", "x", "--out", str(tmp_path / "o.npz"))
    assert code == 2 and "pickled" in err
