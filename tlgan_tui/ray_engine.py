"""`--engine ray`: work on a Ray cluster (or a local Ray), by actors that each hold one
generator, with Ray Data handing them the pieces.

`tlgan dataset`: every actor runs the same batch pipeline as the local engine on whole parts
(fixed slices of whole batches) and writes into the data set's folder, which must be storage
every node shares; the driver only merges the parts' rows into metadata.csv. The files are
therefore the same, byte for byte, as the local engine's for the same spec and batch size.

`tlgan discover`: every actor labels whole shards of latents into the work folder, exactly as
the local loop would; the driver then fits the axes on all of them.

A GPU actor reserves one GPU and a quarter of a CPU: by default Ray gives each actor a whole
CPU, which on a small node leaves none for Ray Data's own tasks and stalls the run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from pathlib import Path

from tlgan_tui.dataset_writer import DatasetPlan, PartResult, run_part
from tlgan_tui.discover import Settings, label_shard
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
    as_model: str | None = None
    """The published id the driver opened the weights as (adopted there, or --as-model), so
    every node opens them under that id whatever its own adopted-models file holds."""


class PartMaker:
    """A Ray Data actor: one generator (and labelers), making the parts it is handed."""

    def __init__(self, plan: DatasetPlan, engine: EngineSpec):
        from tlgan_tui import labelers as registry
        from tlgan_tui.engine import Engine
        from tlgan_tui.generators import load_generator

        generator = load_generator(engine.generator, engine.weights, engine.device, engine.precision, as_model=engine.as_model)
        self.engine = Engine(generator, plan.axes)
        self.labelers = registry.load_labelers(list(plan.labeler_specs)) if plan.labeler_specs else []
        self.plan = plan

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [run_part(self.plan, int(part), self.engine, self.labelers) for part in batch["item"]]
        return {
            "part": np.array([r.part for r in results]),
            "written": np.array([r.written for r in results]),
            "skipped": np.array([r.skipped for r in results]),
            "failed": np.array([json.dumps(r.failed) for r in results]),
        }


class ShardLabeler:
    """A Ray Data actor: one generator and its labelers, labelling the discovery shards it is handed."""

    def __init__(self, engine: EngineSpec, labeler_specs: list[str], settings: Settings, work_dir: str):
        from tlgan_tui import labelers as registry
        from tlgan_tui.generators import load_generator

        self.generator = load_generator(engine.generator, engine.weights, engine.device, engine.precision, as_model=engine.as_model)
        self.labelers = registry.load_labelers(labeler_specs)
        self.settings, self.work_dir = settings, Path(work_dir)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for index in batch["item"]:
            label_shard(self.generator, self.labelers, self.settings, self.work_dir, int(index))
        return {"item": np.asarray(batch["item"])}


def ray_parts(plan: DatasetPlan, engine: EngineSpec, address: str | None = None, **init: Any) -> Callable[[list[int], Progress], Iterable[PartResult]]:
    """A `run_parts` for `make_dataset` that makes the parts on Ray. Joins the cluster at
    `address`, or starts a local Ray (`init` goes to ray.init) unless one is running already."""

    def run(parts: list[int], progress: Progress) -> Iterator[PartResult]:
        total = plan.spec.count
        done = total - sum(len(plan.part_range(part)) for part in parts)
        for row in _on_ray(address, init, PartMaker, {"plan": plan, "engine": engine}, parts):
            result = PartResult(int(row["part"]), int(row["written"]), int(row["skipped"]), [tuple(f) for f in json.loads(str(row["failed"]))])
            done += len(plan.part_range(result.part))
            progress(done, total)
            yield result

    return run


def ray_label_shards(
    engine: EngineSpec,
    labeler_specs: list[str],
    settings: Settings,
    work_dir: Path,
    shards: list[int],
    progress: Progress,
    address: str | None = None,
    **init: Any,
) -> None:
    """Label the discovery shards `shards` on Ray, into `work_dir` (storage every node shares);
    progress in faces."""
    def faces(shards_done: int) -> int:
        return min(settings.samples, shards_done * settings.shard_size)

    total = -(-settings.samples // settings.shard_size)
    done = total - len(shards)
    progress(faces(done), settings.samples)
    kwargs = {"engine": engine, "labeler_specs": labeler_specs, "settings": settings, "work_dir": str(work_dir)}
    for _ in _on_ray(address, init, ShardLabeler, kwargs, shards):
        done += 1
        progress(faces(done), settings.samples)


def _on_ray(address: str | None, init: dict[str, Any], actor: type, kwargs: dict[str, Any], items: list[int]) -> Iterator[dict[str, Any]]:
    """Each item through `actor(**kwargs)` on Ray, one at a time per actor; a row per item as
    it comes back. Starts a local Ray (or joins `address`) unless one is running."""
    if not items:
        return
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING, **init)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the command's own bar counts the work
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        if gpus:
            actors, share = gpus, {"num_gpus": 1, "num_cpus": GPU_ACTOR_CPUS}
        else:
            # Leave one CPU to Ray Data's own tasks where there is more than one.
            actors, share = max(1, int(resources.get("CPU", 1)) - 1), {"num_cpus": CPU_ACTOR_CPUS}
        source = ray.data.from_items([{"item": item} for item in items], override_num_blocks=len(items))
        made = source.map_batches(
            actor,
            fn_constructor_kwargs=kwargs,
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(actors, len(items))),
            **share,
        )
        yield from made.iter_rows()
    finally:
        if started:
            ray.shutdown()


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data comes with the [ray] extra, not with plain ray)
    except ImportError as error:
        raise MissingExtraError(f"--engine ray needs Ray Data ({error.name or error}): pip install 'tlgan-tui[ray]'") from error
    return ray
