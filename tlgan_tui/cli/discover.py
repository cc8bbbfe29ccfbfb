"""`tlgan discover`: named axes from generated faces, attribute predictors and a linear fit."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tlgan_tui.cli.common import UsageError, add_model_options, format_quality, open_engine, progress_bars, published_id, seed_value, split_names

HELP = "find named axes: generate faces, label them with attribute predictors, fit"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("discover", help=HELP, description=HELP)
    add_model_options(parser)
    parser.add_argument("--labelers", default=None, metavar="NAMES", help="comma-separated labelers, NAME or NAME:ARGUMENT (default: age-gender,emotion,face-mesh)")
    parser.add_argument("--attributes", default=None, metavar="NAMES", help="fit only these attributes (comma-separated; default: all the labelers give)")
    parser.add_argument("--samples", type=int, default=10_000, metavar="N", help="faces to label (default 10000; 1000 are too few for stable axes)")
    parser.add_argument("--seed", type=seed_value, default=0, help="seed of the sampled latents (default 0)")
    parser.add_argument("--batch-size", type=int, default=256, metavar="N", help="faces per labelled shard (default 256)")
    parser.add_argument("--method", default="auto", metavar="auto|svm", help="auto: tanh-OLS, logistic or OLS by kind of score; svm: InterFaceGAN's linear SVM on the top/bottom 2%%")
    parser.add_argument("--work", default=None, metavar="DIR", help="folder for the labelled shards (default: a cache folder per generator, labelers and seed)")
    parser.add_argument("--out", metavar="FILE.npz", help="axis file to write; the axes found are merged into it (or into the axes in use)")
    parser.add_argument("--list-labelers", action="store_true", help="list the installed labelers and their attributes, then stop")
    parser.add_argument("--engine", choices=("local", "ray"), default="local", help="local (this machine) or ray (label the shards on a Ray cluster: the [ray] extra)")
    parser.add_argument("--ray-address", metavar="ADDRESS", help="the Ray cluster to join (default: start a local Ray); --work must be storage every node shares")
    return parser


def run(args: argparse.Namespace) -> int:
    from tlgan_tui import labelers as registry
    from tlgan_tui.discover import Settings, default_work_dir, discover_into
    from tlgan_tui.fileio import check_writable_folder

    if args.list_labelers:
        return list_labelers()
    if not args.out:
        raise UsageError("--out FILE.npz is required: the axis file to write")
    if not args.out.endswith(".npz"):
        raise UsageError(f"--out {args.out}: an axis file ends in .npz")
    if args.ray_address and args.engine != "ray":
        raise UsageError("--ray-address goes with --engine ray")
    settings = Settings(samples=args.samples, seed=args.seed, shard_size=args.batch_size, method=args.method)
    specs = split_names(args.labelers) or list(registry.DEFAULT)
    out = Path(args.out)
    check_writable_folder(out)
    engine = open_engine(args)
    labelers = registry.load_labelers(specs, str(engine.generator.device))
    work = Path(args.work) if args.work else default_work_dir(engine.generator, labelers, settings)
    stages = {"label": "labelling faces", "fit": "fitting axes", "units": "measuring units"}
    start = time.perf_counter()
    with progress_bars(stages.__getitem__) as progress:
        try:
            if args.engine == "ray":
                from tlgan_tui.discover import missing_shards
                from tlgan_tui.ray_engine import EngineSpec, ray_label_shards

                shards = missing_shards(engine.generator, labelers, settings, work)
                spec = EngineSpec(args.generator, args.weights, args.device, args.precision, published_id(engine))
                ray_label_shards(spec, specs, settings, work, shards, lambda done, total: progress("label", done, total), args.ray_address)
            found, axes = discover_into(out, engine.axes, engine.generator, labelers, settings, work, progress, only=split_names(args.attributes))
        except KeyboardInterrupt:
            print(f"tlgan: interrupted; the faces labelled so far are kept in {work}: run the same command to continue", file=sys.stderr)
            return 130
    print(f"found {len(found)} axes from {settings.samples} faces in {time.perf_counter() - start:.0f} s (labels kept in {work})")
    for axis in found.info:
        print(f"  {axis.name:<14} {axis.method:<9} {axis.format_value(1.0):>18} per unit step   {format_quality(axis.quality)}")
    print(f"wrote {out} ({len(axes)} axes: {', '.join(axes.names)})")
    return 0


def list_labelers() -> int:
    from tlgan_tui import labelers as registry
    from tlgan_tui.errors import TlganError

    for name, target in sorted(registry.available().items()):
        try:
            attributes = ", ".join(f"{a.name} ({a.unit})" for a in registry.load_labeler(name).attributes)
        except TlganError as error:
            attributes = f"not usable here: {error}"
        print(f"{name:<12} {target}\n{'':<12} {attributes}")
    return 0
