"""`tlgan render`: one face as a full-resolution PNG plus its recipe."""

from __future__ import annotations

import argparse

from tlgan_tui.cli.common import add_model_options, UsageError, add_face_options, describe, face_recipe, open_engine

HELP = "write a face as a full-resolution PNG plus its recipe"


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("render", help=HELP, description=HELP)
    add_model_options(parser)
    add_face_options(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT.png", help="the PNG to write; OUT.json gets the recipe")
    return parser


def run(args: argparse.Namespace) -> int:
    from tlgan_tui.export import save_face

    if not args.output.lower().endswith(".png"):
        raise UsageError(f"-o {args.output}: the output must be a .png file")
    engine = open_engine(args)
    recipe = face_recipe(engine, args)
    png, sidecar = save_face(engine, recipe, args.output)
    size = engine.generator.resolution
    print(f"wrote {png} ({size}x{size}, {describe(engine, recipe)}) and {sidecar}")
    return 0
