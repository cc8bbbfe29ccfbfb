"""`tlgan show`: a face printed in the terminal as half blocks."""

from __future__ import annotations

import argparse
import shutil

from tlgan_tui.cli.common import add_model_options, UsageError, add_face_options, describe, face_recipe, open_engine
from tlgan_tui.terminal import COLOR_SYSTEMS

HELP = "print a face in the terminal"
MAX_SHOW_WIDTH = 1024


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("show", help=HELP, description=HELP)
    add_model_options(parser)
    add_face_options(parser)
    parser.add_argument("--width", type=int, metavar="CELLS", help="width in terminal cells (default: fit the terminal)")
    parser.add_argument("--colors", choices=COLOR_SYSTEMS, default="truecolor", help="colour depth (default truecolor; auto: as the terminal says)")
    return parser


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.segment import Segment, Segments

    from tlgan_tui.terminal import cells_for, halfblock_lines

    if args.width is not None and not 2 <= args.width <= MAX_SHOW_WIDTH:
        raise UsageError(f"--width must be from 2 to {MAX_SHOW_WIDTH} cells")
    engine = open_engine(args)
    recipe = face_recipe(engine, args)
    if args.width is not None:
        side = args.width - args.width % 2
    else:
        columns, lines = shutil.get_terminal_size((80, 24))
        side = min(cells_for(columns, lines - 2), 2 * engine.generator.resolution)
    image = engine.render_preview(recipe, side)
    console = Console(force_terminal=True, color_system=args.colors)
    for line in halfblock_lines(image):
        console.print(Segments([*line, Segment.line()]), end="")
    console.print(f"{engine.generator.id} · {describe(engine, recipe)}", style="dim", highlight=False, markup=False)
    return 0
