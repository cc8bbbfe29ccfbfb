"""`tlgan dataset --engine ray`: the same files as the local engine, made by actors on a local Ray."""

import numpy as np
import pytest

from tests.test_dataset import same_tree
from tlgan_tui.axes import AxisSet
from tlgan_tui.cli import main
from tlgan_tui.dataset import DatasetSpec, parse_vary
from tlgan_tui.dataset_writer import DatasetPlan, make_dataset
from tlgan_tui.ray_engine import EngineSpec, ray_parts

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs, as CI has (about 15 s to start), and 2 pretend GPUs: the actors
    then take one GPU and a quarter of a CPU each, as on a GPU node, and render on the CPU
    (device auto finds no CUDA)."""
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_writes_the_same_files_as_the_local_engine(engine, tmp_path, local_ray):
    spec = DatasetSpec(256, 11, (parse_vary("age=-2:2"), parse_vary("smile=0,2")), locks=frozenset({"gender"}))

    def plan(folder):
        return DatasetPlan(spec, tmp_path / folder, engine.axes, engine.generator.id, batch_size=16, batches_per_part=4)

    seen = []
    on_ray = make_dataset(plan("ray"), engine, progress=lambda done, total: seen.append(done), run_parts=ray_parts(plan("ray"), EngineSpec(device="auto")))
    assert on_ray.written == 256 and not on_ray.failed and on_ray.metadata is not None
    assert seen[-1] == 256 and len(seen) > 2  # progress as each part comes back
    make_dataset(plan("local"), engine)
    assert same_tree(tmp_path / "ray", tmp_path / "local")


def test_discover_on_ray_labels_the_same_shards_and_fits_the_same_axes(tmp_path, capsys, local_ray):
    def discover(engine_name):
        argv = ["discover", "--engine", engine_name, "--samples", "100", "--batch-size", "50", "--labelers", "emotion", "--device", "cpu"]
        code = main([*argv, "--work", str(tmp_path / engine_name), "--out", str(tmp_path / f"{engine_name}.npz")])
        assert code == 0, capsys.readouterr().err
        return AxisSet.load(tmp_path / f"{engine_name}.npz")

    on_ray, local = discover("ray"), discover("local")
    for shard in ("shard-00000.npz", "shard-00001.npz"):
        assert (tmp_path / "ray" / shard).read_bytes() == (tmp_path / "local" / shard).read_bytes()
    assert np.array_equal(on_ray.direction("smile"), local.direction("smile"))
