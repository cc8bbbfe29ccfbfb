"""`tlgan export`: a session's marked faces, or a list of recipes, as full-resolution PNGs."""

from __future__ import annotations

import argparse
import sys

from tlgan_tui.cli.common import UsageError, add_model_options, add_size_option, open_engine, progress_bars

HELP = "write the marked faces of a session, or recipes, as full-resolution PNGs"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("export", help=HELP, description=HELP)
    add_model_options(parser)
    parser.add_argument("source", metavar="SESSION_OR_RECIPES", help="a session file (its marked faces), a recipe .json, or a JSONL of recipes")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--batch-size", type=int, default=16, metavar="N", help="faces rendered while the previous ones are written (default 16)")
    add_size_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from tlgan_tui.export import ensure_output_folder, read_recipe_list
    from tlgan_tui.pipeline import export_batch, export_jobs
    from tlgan_tui.safe_text import shown

    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    engine = open_engine(args)
    listed = read_recipe_list(args.source, engine.generator.id)
    axes = engine.axes
    if listed.session is not None:
        if not listed.session.marks:
            raise UsageError(f"{args.source} has no marked faces (m marks a face in the editor)")
        listed.session.attach(engine.axes)
        axes = listed.session.axes
    folder = ensure_output_folder(args.out)
    jobs = export_jobs(listed.recipes, folder, listed.origins)
    with progress_bars(lambda stage: "exporting") as progress:
        report = export_batch(engine, jobs, args.batch_size, progress=lambda done, total: progress("export", done, total), size=args.size, axes=axes)
    failed = listed.failed + report.failed
    resolution = engine.generator.resolution
    size = f"{args.size}x{args.size}, resampled from {resolution}x{resolution}" if args.size and args.size != resolution else f"{resolution}x{resolution}"
    print(f"wrote {len(report.written)} PNGs ({size}) to {folder}; {len(report.skipped)} already there; {len(failed)} failed")
    for where, why in failed:
        print(f"  failed: {where}: {shown(why, 400)}", file=sys.stderr)
    return 1 if failed else 0
