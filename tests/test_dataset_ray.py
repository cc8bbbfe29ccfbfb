"""`tlgan dataset --engine ray`: the same files as the local engine, made by actors on a local Ray."""

import pytest

from tests.test_dataset import same_tree
from tlgan_tui.dataset import DatasetPlan, DatasetSpec, make_dataset, parse_vary
from tlgan_tui.ray_engine import EngineSpec, ray_parts

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs, as CI has (about 15 s to start)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_writes_the_same_files_as_the_local_engine(engine, tmp_path, local_ray):
    spec = DatasetSpec(256, 11, (parse_vary("age=-2:2"), parse_vary("smile=0,2")), locks=frozenset({"gender"}))

    def plan(folder):
        return DatasetPlan(spec, tmp_path / folder, engine.axes, engine.generator.id, batch_size=16, batches_per_part=4)

    seen = []
    on_ray = make_dataset(plan("ray"), engine, progress=lambda done, total: seen.append(done), run_parts=ray_parts(plan("ray"), EngineSpec(device="cpu")))
    assert on_ray.written == 256 and not on_ray.failed and on_ray.metadata is not None
    assert seen[-1] == 256 and len(seen) > 2  # progress as each part comes back
    make_dataset(plan("local"), engine)
    assert same_tree(tmp_path / "ray", tmp_path / "local")
