"""`tlgan discover` as a user runs it: labellers by name (installed ones too), axes that do what
their attribute says, runs that survive an interruption, and clear messages when it cannot."""

import shutil
import sys
import textwrap

import numpy as np
import pytest

from tlgan_tui.axes import AxisSet
from tlgan_tui.cli import main
from tlgan_tui.discover import Settings, discover
from tlgan_tui.errors import DiscoveryError, LabelerError
from tlgan_tui.labelers import Attribute, Labeler, load_labeler
from tlgan_tui.shipped import shipped_axes_path

SMALL = Settings(samples=512, seed=3, shard_size=128, unit_faces=32)


class Brightness(Labeler):
    """Mean grey level: an attribute the default generator clearly varies."""

    name = "brightness"
    attributes = (Attribute("brightness", "grey levels", "continuous", "positive = brighter"),)

    def __init__(self) -> None:
        self.images_seen = 0

    def predict(self, images):
        self.images_seen += len(images)
        return {"brightness": images.mean(axis=(1, 2, 3))}


@pytest.fixture(scope="module")
def first_run(engine, tmp_path_factory):
    """One small run of the brightness labeler: its work folder and the axes it found."""
    work = tmp_path_factory.mktemp("discover") / "work"
    return work, discover(engine.generator, [Brightness()], SMALL, work)


@pytest.mark.slow
def test_a_discovered_axis_changes_new_faces_the_way_its_name_says(engine, first_run):
    _, axes = first_run
    axis = axes.axis("brightness")
    assert axis.unit == "grey levels" and axis.method == "ols"
    assert axis.quality["r2"] > 0.5 and axis.quality["stability"] > 0.8
    z0 = engine.generator.sample(8, seed=99)
    darker, brighter = (engine.generator.synthesize(np.stack([axes.apply(z, {"brightness": a}) for z in z0])) for a in (-2, 2))
    assert np.all(brighter.mean(axis=(1, 2, 3)) > darker.mean(axis=(1, 2, 3)))
    # per_step was measured on faces the fit never saw, and agrees with what moving does
    measured = (brighter.mean() - darker.mean()) / 4
    assert axis.per_step == pytest.approx(measured, rel=0.5)
    assert axis.format_value(1.0).endswith("grey levels") and axis.per_step > 1


@pytest.mark.slow
def test_an_interrupted_run_continues_where_it_stopped_and_ends_as_an_uninterrupted_one(engine, first_run, tmp_path):
    work = tmp_path / "work"

    def stop_after_two_shards(stage, done, total):
        if stage == "label" and done >= 2 * SMALL.shard_size:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        discover(engine.generator, [Brightness()], SMALL, work, stop_after_two_shards)
    assert sorted(path.name for path in work.glob("shard-*.npz")) == ["shard-00000.npz", "shard-00001.npz"]

    labeler = Brightness()
    resumed = discover(engine.generator, [labeler], SMALL, work)
    labelled_now = labeler.images_seen - 2 * SMALL.unit_faces  # the rest went on measuring units
    assert labelled_now == SMALL.samples - 2 * SMALL.shard_size
    _, uninterrupted = first_run
    np.testing.assert_array_equal(resumed.directions, uninterrupted.directions)
    assert resumed.info == uninterrupted.info


@pytest.mark.slow
def test_a_damaged_shard_is_labelled_again(engine, first_run, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(first_run[0], work)
    (work / "shard-00002.npz").write_bytes(b"half a file")
    labeler = Brightness()
    again = discover(engine.generator, [labeler], SMALL, work)
    assert labeler.images_seen == SMALL.shard_size + 2 * SMALL.unit_faces
    np.testing.assert_array_equal(first_run[1].directions, again.directions)


@pytest.mark.slow
def test_a_work_folder_of_another_run_is_refused(engine, first_run):
    other_seed = Settings(samples=SMALL.samples, seed=4, shard_size=SMALL.shard_size, unit_faces=SMALL.unit_faces)
    with pytest.raises(DiscoveryError, match=r"holds labels made with other settings \(seed differ\)"):
        discover(engine.generator, [Brightness()], other_seed, first_run[0])


PLUGIN = textwrap.dedent(
    """
    import numpy as np
    from tlgan_tui.labelers import Attribute, Labeler

    class Redness(Labeler):
        name = "redness"
        attributes = (Attribute("redness", "levels", "continuous", "red minus green"),)

        def predict(self, images):
            pixels = images.astype(float)
            return {"redness": (pixels[..., 0] - pixels[..., 1]).mean(axis=(1, 2))}
    """
)


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A distribution that declares a labeler entry point, as `pip install` would leave it."""
    site = tmp_path / "site"
    (site / "redness_labeler").mkdir(parents=True)
    (site / "redness_labeler" / "__init__.py").write_text(PLUGIN)
    info = site / "redness_labeler-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: redness-labeler\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[tlgan_tui.labelers]\nredness = redness_labeler:Redness\n")
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("redness_labeler", None)


@pytest.mark.slow
def test_a_labeler_installed_as_an_entry_point_is_used_by_name(installed_plugin, tmp_path, capsys):
    out = tmp_path / "axes.npz"
    common = ["discover", "--labelers", "redness", "--batch-size", "128", "--out", str(out), "--work", str(tmp_path / "w"), "--device", "cpu"]
    assert main([*common, "--samples", "256"]) == 0
    printed = capsys.readouterr().out
    assert "redness" in printed and f"wrote {out}" in printed
    axes = AxisSet.load(out)
    shipped = AxisSet.load(shipped_axes_path("dcgan-digiface64")).names
    assert set(axes.names) == {*shipped, "redness"}  # merged into the axes in use
    assert axes.names.index("redness") < axes.names.index("sefa-0")  # labelled axes before unsupervised ones
    assert axes.axis("redness").unit == "levels" and axes.axis("redness").per_step > 0

    # a second, larger run into the same file replaces the axis and keeps the others
    assert main([*common, "--samples", "384"]) == 0
    axes = AxisSet.load(out)
    assert axes.names.count("redness") == 1 and len(axes) == len(shipped) + 1
    provenance = axes.provenance["discover redness"]
    assert provenance["samples"] == 384 and provenance["generator"] == "dcgan-digiface64"

    capsys.readouterr()
    assert main(["axes", "--axes", str(out), "--device", "cpu"]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if line.split()[:1] == ["redness"])
    assert "ols" in row and "levels" in row and "R²" in row and "stab" in row


def test_unknown_labelers_and_attributes_are_named_in_the_message(tmp_path, capsys):
    assert main(["discover", "--labelers", "agegender", "--out", str(tmp_path / "a.npz")]) == 2
    assert "unknown labeler 'agegender'; installed labelers: age-gender, celeba, emotion, face-mesh" in capsys.readouterr().err
    with pytest.raises(LabelerError, match="unknown labeler"):
        load_labeler("nope")


@pytest.mark.parametrize(
    "module, package, labeler", [("onnxruntime", "onnxruntime", "age-gender"), ("dlib", "dlib-bin", "age-gender"), ("ai_edge_litert", "ai-edge-litert", "face-mesh")]
)
def test_without_the_discover_extra_the_message_says_how_to_install_it(monkeypatch, tmp_path, capsys, module, package, labeler):
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, f"{module}.interpreter", raising=False)
    assert main(["discover", "--labelers", labeler, "--out", str(tmp_path / "a.npz"), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tlgan: error: the {labeler} labeler needs the package {package!r}, which is not installed")
    assert "install the [discover] extra: " in err and "pip install -e '" in err and "[discover]'" in err
    assert not (tmp_path / "a.npz").exists()


def test_bad_discover_options_are_refused_before_any_work(tmp_path, capsys):
    assert main(["discover", "--samples", "10", "--out", str(tmp_path / "a.npz")]) == 2
    assert "at least 100 are needed" in capsys.readouterr().err
    assert main(["discover", "--out", str(tmp_path / "a.png")]) == 2
    assert "an axis file ends in .npz" in capsys.readouterr().err
    assert main(["discover", "--out", str(tmp_path / "missing" / "a.npz")]) == 2
    assert "output folder does not exist" in capsys.readouterr().err
    assert main(["discover", "--attributes", "beard", "--labelers", "emotion", "--out", str(tmp_path / "a.npz"), "--work", str(tmp_path / "w")]) == 2
    assert "no labeler given measures 'beard'; these do: smile" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()
