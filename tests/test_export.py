"""Batch export: full-resolution PNGs equal to single renders, reruns skip, bad recipes skipped."""

import threading

import numpy as np
from PIL import Image

from tlgan_tui.export import export_batch, save_face
from tlgan_tui.recipe import Recipe


def test_batch_export_writes_the_same_pixels_as_single_renders(engine, tmp_path):
    recipes = [engine.new_recipe(seed).with_offset("sefa-0", seed / 4, engine.axes) for seed in range(5)]
    jobs = [(recipe, tmp_path / f"face-{i}.png") for i, recipe in enumerate(recipes)]
    seen = []
    report = export_batch(engine, jobs, batch_size=2, progress=lambda done, total: seen.append((done, total)))
    assert [p.name for p in report.written] == [f"face-{i}.png" for i in range(5)] and not report.failed
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    for recipe, path in jobs:
        save_face(engine, recipe, tmp_path / "single.png")
        # The same face: a batch of 2 and a batch of 1 take different CPU kernels, whose float
        # sums differ by ~1e-6 and can round a pixel to the next level (seed 3 with the fixed
        # SeFa axes: one value of 12,288). Renders at the same batch size are identical.
        batch, single = (np.asarray(Image.open(p)).astype(int) for p in (path, tmp_path / "single.png"))
        assert np.abs(batch - single).max() <= 1 and np.mean(batch != single) < 1e-3
        assert Recipe.load(path.with_suffix(".json")) == recipe


def test_a_rerun_skips_what_is_written_and_a_bad_recipe_does_not_stop_the_rest(engine, tmp_path):
    good = [(engine.new_recipe(seed), tmp_path / f"f{seed}.png") for seed in range(3)]
    export_batch(engine, good[:1])
    bad = (Recipe("some-other-gan", seed=1), tmp_path / "bad.png")
    report = export_batch(engine, [*good, bad])
    assert report.skipped == [tmp_path / "f0.png"]
    assert report.written == [tmp_path / "f1.png", tmp_path / "f2.png"]
    assert report.failed[0][0].endswith("bad.png") and "some-other-gan" in report.failed[0][1]
    assert not (tmp_path / "bad.png").exists()


def test_cancel_stops_between_batches_and_leaves_no_partial_file(engine, tmp_path):
    cancel = threading.Event()
    jobs = [(engine.new_recipe(seed), tmp_path / f"f{seed}.png") for seed in range(6)]

    def stop_after_first(done, total):
        if done >= 1:
            cancel.set()

    report = export_batch(engine, jobs, batch_size=2, progress=stop_after_first, cancel=cancel)
    assert report.cancelled and 1 <= len(report.written) < 6
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([p.name for p in report.written] + [p.with_suffix(".json").name for p in report.written])
