"""`--engine ray`: a data set's parts made on a Ray cluster (or a local Ray), by actors that
each hold one generator, with Ray Data handing them the parts.

Every actor runs the same batch pipeline as the local engine on whole parts (fixed slices of
whole batches) and writes into the data set's folder, which must be storage every node shares;
the driver only merges the parts' rows into metadata.csv. The files are therefore the same,
byte for byte, as the local engine's for the same spec and batch size.

A GPU actor reserves one GPU and a quarter of a CPU: by default Ray gives each actor a whole
CPU, which on a small node leaves none for Ray Data's own tasks and stalls the run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from tlgan_tui.dataset import DatasetPlan, PartResult, run_part
from tlgan_tui.errors import MissingExtraError
from tlgan_tui.pipeline import Progress

GPU_ACTOR_CPUS = 0.25
CPU_ACTOR_CPUS = 1.0


@dataclass(frozen=True)
class EngineSpec:
    """How each actor opens the engine (the same options as the command line's)."""

    generator: str = "default"
    weights: str | None = None
    device: str = "auto"
    precision: str = "auto"


class PartMaker:
    """A Ray Data actor: one generator (and labelers), making the parts it is handed."""

    def __init__(self, plan: DatasetPlan, engine: EngineSpec):
        from tlgan_tui import labelers as registry
        from tlgan_tui.engine import Engine
        from tlgan_tui.generators import load_generator

        generator = load_generator(engine.generator, engine.weights, engine.device, engine.precision)
        self.engine = Engine(generator, plan.axes)
        self.labelers = registry.load_labelers(list(plan.labeler_specs)) if plan.labeler_specs else []
        self.plan = plan

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [run_part(self.plan, int(part), self.engine, self.labelers) for part in batch["part"]]
        return {
            "part": np.array([r.part for r in results]),
            "written": np.array([r.written for r in results]),
            "skipped": np.array([r.skipped for r in results]),
            "failed": np.array([json.dumps(r.failed) for r in results]),
        }


def ray_parts(plan: DatasetPlan, engine: EngineSpec, address: str | None = None, **init: Any) -> Callable[[list[int], Progress], Iterable[PartResult]]:
    """A `run_parts` for `make_dataset` that makes the parts on Ray. Joins the cluster at
    `address`, or starts a local Ray (`init` goes to ray.init) unless one is running already."""

    def run(parts: list[int], progress: Progress) -> Iterator[PartResult]:
        ray = _import_ray()
        started = not ray.is_initialized()
        if started:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING, **init)
        try:
            yield from _run(ray, plan, engine, parts, progress)
        finally:
            if started:
                ray.shutdown()

    return run


def _run(ray: Any, plan: DatasetPlan, engine: EngineSpec, parts: list[int], progress: Progress) -> Iterator[PartResult]:
    if not parts:
        return
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the command's own bar counts the faces
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        actors, share = gpus, {"num_gpus": 1, "num_cpus": GPU_ACTOR_CPUS}
    else:
        # Leave one CPU to Ray Data's own tasks where there is more than one.
        actors, share = max(1, int(resources.get("CPU", 1)) - 1), {"num_cpus": CPU_ACTOR_CPUS}
    items = ray.data.from_items([{"part": part} for part in parts], override_num_blocks=len(parts))
    made = items.map_batches(
        PartMaker,
        fn_constructor_kwargs={"plan": plan, "engine": engine},
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=min(actors, len(parts))),
        **share,
    )
    total = plan.spec.count
    done = total - sum(len(plan.part_range(part)) for part in parts)
    for row in made.iter_rows():
        result = PartResult(int(row["part"]), int(row["written"]), int(row["skipped"]), [tuple(f) for f in json.loads(str(row["failed"]))])
        done += len(plan.part_range(result.part))
        progress(done, total)
        yield result


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data comes with the [ray] extra, not with plain ray)
    except ImportError as error:
        raise MissingExtraError(f"--engine ray needs Ray Data ({error.name or error}): pip install 'tlgan-tui[ray]'") from None
    return ray
