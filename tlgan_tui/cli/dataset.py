"""`tlgan dataset`: N faces with a chosen mix of attributes, as a labelled image folder."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

from tlgan_tui.cli.common import UsageError, add_model_options, open_engine, parse_sets, published_id, seed_value, split_names

HELP = "write N faces with a chosen mix of attributes as an image folder with metadata.csv"
ENGINES = ("local", "ray")


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("dataset", help=HELP, description=HELP + "; an interrupted run continues where it stopped")
    add_model_options(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="the data set's folder (created if missing; the same command continues it)")
    parser.add_argument("--count", type=int, metavar="N", help="how many faces")
    parser.add_argument("--vary", action="append", default=[], metavar="AXIS=LO:HI|A,B,C", help="vary an axis per face: uniformly from LO to HI, or an equal choice among A, B, C (repeatable)")
    parser.add_argument("--set", action="append", default=[], metavar="AXIS=VALUE", help="the same offset on every face (repeatable)")
    parser.add_argument("--lock", action="append", default=[], metavar="AXIS", help="hold an axis's attribute while others move (repeatable)")
    parser.add_argument("--seed", type=seed_value, help="master seed: the same seed and mix give the same files (default 0)")
    parser.add_argument("--spec", metavar="FILE", help='a JSON spec: {"count", "seed", "vary": {AXIS: "LO:HI" | {"choices": [...], "weights": [...]}}, "set", "lock"}; options add to it')
    parser.add_argument("--label", action="store_true", help="measure each face with the installed labelers too ([discover] extra)")
    parser.add_argument("--labelers", metavar="NAMES", help="labelers for --label (default: age-gender,emotion,face-mesh)")
    parser.add_argument("--shards", action="store_true", help="WebDataset-style tar shards (8 batches each, 512 faces at the default batch size: KEY.png + KEY.json) instead of an image folder, for very large sets")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N", help="faces per forward pass (default 64)")
    parser.add_argument("--engine", choices=ENGINES, default="local", help="local (this machine) or ray (a Ray cluster: the [ray] extra)")
    parser.add_argument("--ray-address", metavar="ADDRESS", help="the Ray cluster to join (default: start a local Ray); the output folder must be storage every node shares")
    return parser


def build_spec(args: argparse.Namespace):
    from tlgan_tui.dataset import DatasetSpec, parse_vary

    base = DatasetSpec.load(args.spec).to_dict() if args.spec else {}
    count = args.count if args.count is not None else base.get("count")
    if count is None:
        raise UsageError("--count N is required (or a spec file with a count)")
    vary = [*DatasetSpec.from_dict({**base, "count": 1}).vary, *map(parse_vary, args.vary)]
    return DatasetSpec(
        count=count,
        seed=args.seed if args.seed is not None else base.get("seed", 0),
        vary=tuple(vary),
        fixed={**base.get("set", {}), **parse_sets(args.set)},
        locks=frozenset([*base.get("lock", []), *args.lock]),
    )


def run(args: argparse.Namespace) -> int:
    from tlgan_tui import labelers as registry
    from tlgan_tui.dataset_writer import DatasetPlan, make_dataset
    from tlgan_tui.export import ensure_output_folder

    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if args.ray_address and args.engine != "ray":
        raise UsageError("--ray-address goes with --engine ray")
    spec = build_spec(args)
    engine = open_engine(args)
    spec.check(engine.axes)
    labeler_specs = tuple(split_names(args.labelers) or registry.DEFAULT) if args.label else ()
    labelers = registry.load_labelers(list(labeler_specs)) if labeler_specs else []
    folder = ensure_output_folder(args.out)
    plan = DatasetPlan(
        spec,
        Path(folder),
        engine.axes,
        engine.generator.id,
        batch_size=args.batch_size,
        labeler_specs=labeler_specs,
        label_attributes=tuple(attribute.name for labeler in labelers for attribute in labeler.attributes),
        shards=args.shards,
    )
    run_parts = None
    if args.engine == "ray":
        from tlgan_tui.ray_engine import EngineSpec, ray_parts

        run_parts = ray_parts(plan, EngineSpec(args.generator, args.weights, args.device, args.precision, published_id(engine)), args.ray_address)
    start = time.perf_counter()
    with face_progress() as progress:
        try:
            report = make_dataset(plan, engine, labelers, progress, run_parts)
        except KeyboardInterrupt:
            print(f"tlgan: interrupted; the faces written so far are kept in {folder}: run the same command to continue", file=sys.stderr)
            return 130
    seconds = time.perf_counter() - start
    size = engine.generator.resolution
    rate = f" ({report.written / seconds:.1f} faces/s)" if report.written else ""
    print(f"wrote {report.written} faces ({size}x{size}) to {folder} in {seconds:.0f} s{rate}; {report.skipped} already there; {len(report.failed)} failed")
    for where, why in report.failed[:20]:
        print(f"  failed: {where}: {why}", file=sys.stderr)
    if report.metadata is None:
        print("metadata.csv is written once every face is there: run the same command again", file=sys.stderr)
        return 1
    print(f"wrote {report.metadata} ({spec.count} rows)")
    return 0


@contextlib.contextmanager
def face_progress() -> Iterator[Callable[[int, int], None]]:
    """A progress(done, total) callback: one bar with the rate in faces per second and the time
    left, on stderr. Faces already there from an earlier run count as done, not into the rate."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("faces"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        started: list[tuple[int, float, int]] = []  # (task, time, faces done) at the first call

        def progress(done: int, total: int) -> None:
            if not started:
                started.append((bar.add_task("faces", total=total, completed=done, rate=""), time.perf_counter(), done))
            task, since, before = started[0]
            seconds = time.perf_counter() - since
            rate = f"{(done - before) / seconds:.1f} faces/s" if done > before and seconds > 0 else ""
            bar.update(task, completed=done, total=total, rate=rate)

        yield progress
