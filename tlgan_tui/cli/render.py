"""`tlgan render`: one face as a full-resolution PNG plus its recipe, or the face swept along an
axis as an animation or a contact sheet."""

from __future__ import annotations

import argparse
import json

from tlgan_tui.cli.common import add_model_options, UsageError, add_face_options, describe, face_recipe, open_engine

HELP = "write a face as a full-resolution PNG plus its recipe (or, with --sweep, an animation)"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("render", help=HELP, description=HELP)
    add_model_options(parser)
    add_face_options(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="the PNG to write; OUT.json gets the recipe (with --sweep: .gif, .webp, .png/.apng)")
    sweep = parser.add_argument_group("sweep")
    sweep.add_argument("--sweep", metavar="AXIS=LO:HI", help="the face moved along AXIS from LO to HI and back, as an animation (format by -o's extension)")
    sweep.add_argument("--frames", type=int, default=24, metavar="N", help="frames from LO to HI (default 24)")
    sweep.add_argument("--sheet", action="store_true", help="a contact sheet PNG of the frames, captioned, instead of an animation")
    sweep.add_argument("--size", type=int, metavar="PX", help="frame size in pixels (default: the generator's resolution)")
    return parser


def run(args: argparse.Namespace) -> int:
    if args.sweep:
        return run_sweep(args)
    if args.sheet or args.size is not None:
        raise UsageError("--sheet and --size go with --sweep")
    from tlgan_tui.export import save_face

    if not args.output.lower().endswith(".png"):
        raise UsageError(f"-o {args.output}: the output must be a .png file")
    engine = open_engine(args)
    recipe = face_recipe(engine, args)
    png, sidecar = save_face(engine, recipe, args.output)
    size = engine.generator.resolution
    print(f"wrote {png} ({size}x{size}, {describe(engine, recipe)}) and {sidecar}")
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    from tlgan_tui.export import sidecar_path
    from tlgan_tui.fileio import atomic_write_text
    from tlgan_tui.sweep import parse_sweep, write_sweep

    sweep = parse_sweep(args.sweep, args.frames)
    engine = open_engine(args)
    recipe = face_recipe(engine, args)
    path = write_sweep(engine, recipe, sweep, args.output, args.size, args.sheet)
    # The face it starts from, and the sweep, so the picture can be made again.
    sidecar = atomic_write_text(sidecar_path(path), json.dumps({**recipe.to_dict(), "sweep": {"axis": sweep.axis, "from": sweep.low, "to": sweep.high, "frames": sweep.frames}}, indent=1) + "\n")
    kind = "contact sheet" if args.sheet else "animation"
    print(f"wrote {path} ({kind}, {sweep.axis} {sweep.low:+g} to {sweep.high:+g} in {sweep.frames} frames, {describe(engine, recipe)}) and {sidecar}")
    return 0
