"""`tlgan export`: a session's marked faces, or a list of recipes, as full-resolution PNGs."""

from __future__ import annotations

import argparse
import sys

from tlgan_tui.cli.common import UsageError, add_model_options, open_engine

HELP = "write the marked faces of a session, or recipes, as full-resolution PNGs"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("export", help=HELP, description=HELP)
    add_model_options(parser)
    parser.add_argument("source", metavar="SESSION_OR_RECIPES", help="a session file (its marked faces), a recipe .json, or a JSONL of recipes")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--batch-size", type=int, default=16, metavar="N", help="faces per forward pass (default 16)")
    return parser


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tlgan_tui.export import ensure_output_folder, export_batch, export_jobs, read_recipe_list
    from tlgan_tui.session import session_axes

    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    listed = read_recipe_list(args.source)
    engine = open_engine(args)
    if listed.session is not None:
        if not listed.session.marks:
            raise UsageError(f"{args.source} has no marked faces (m marks a face in the editor)")
        engine.axes = session_axes(listed.session, engine.axes)
    folder = ensure_output_folder(args.out)
    jobs = export_jobs(listed.recipes, folder)
    err = Console(stderr=True)
    columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("export", total=len(jobs))
        report = export_batch(engine, jobs, args.batch_size, progress=lambda done, total: progress.update(task, completed=done, total=total))
    failed = listed.failed + report.failed
    size = engine.generator.resolution
    print(f"wrote {len(report.written)} PNGs ({size}x{size}) to {folder}; {len(report.skipped)} already there; {len(failed)} failed")
    for where, why in failed:
        print(f"  failed: {where}: {why}", file=sys.stderr)
    return 1 if failed else 0
