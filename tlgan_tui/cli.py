"""`tlgan` and its subcommands: argument parsing and messages only; the work is the engine's."""

from __future__ import annotations

import argparse
import shutil
import sys
from typing import Callable, Sequence

from tlgan_tui.errors import TlganError

EXIT_USAGE = 2


class UsageError(TlganError):
    """A command line that cannot be acted on."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), like every other error."""

    def error(self, message: str) -> None:
        raise UsageError(f"{message} (see {self.prog} --help)")


def add_model_options(parser: argparse.ArgumentParser, top_level: bool) -> None:
    # Options are accepted before and after the subcommand; on subcommands they default to
    # SUPPRESS so they do not overwrite what was given before it.
    def default(value: object) -> object:
        return value if top_level else argparse.SUPPRESS

    group = parser.add_argument_group("model")
    group.add_argument("--generator", default=default("default"), help="default (the embedded DigiFace DCGAN) or pggan (needs --weights)")
    group.add_argument("--weights", default=default(None), metavar="FILE", help="generator weights (safetensors or torch checkpoint)")
    group.add_argument("--axes", default=default(None), metavar="FILE", help="axis file (default: the one shipped for the generator)")
    group.add_argument("--device", default=default("auto"), help="auto (CUDA when available), cpu or cuda")
    group.add_argument(
        "--precision",
        default=default("auto"),
        choices=("auto", "fp32", "fp16", "bf16"),
        help="arithmetic of the generator (default auto: fp16 on a GPU with tensor cores, else fp32)",
    )
    group.add_argument("--debug", action="store_true", default=default(False), help="show tracebacks")


def add_face_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--seed", type=int, help="the face of this seed (default: a random one)")
    source.add_argument("--recipe", metavar="FILE", help="a recipe file (a PNG's .json sidecar)")
    parser.add_argument("--set", action="append", default=[], metavar="AXIS=VALUE", help="move along an axis (repeatable)")
    parser.add_argument("--lock", action="append", default=[], metavar="AXIS", help="hold an axis's attribute while others move (repeatable)")


def build_parser() -> Parser:
    parser = Parser(prog="tlgan", description="Edit GAN-generated faces along named feature axes.")
    add_model_options(parser, top_level=True)
    commands = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")

    render = commands.add_parser("render", help="write a face as a full-resolution PNG plus its recipe")
    add_face_options(render)
    render.add_argument("-o", "--output", required=True, metavar="OUT.png", help="the PNG to write; OUT.json gets the recipe")

    show = commands.add_parser("show", help="print a face in the terminal")
    add_face_options(show)
    show.add_argument("--width", type=int, metavar="CELLS", help="width in terminal cells (default: fit the terminal)")
    show.add_argument("--colors", choices=("truecolor", "256"), default="truecolor", help="colour depth (default truecolor)")

    commands.add_parser("axes", help="list the axes of the model in use, with their fit quality")
    commands.add_parser("info", help="show the generator, resolution, device and axis file in use")
    add_convert_parser(commands)

    for sub in commands.choices.values():
        add_model_options(sub, top_level=False)
    return parser


def open_engine(args: argparse.Namespace):
    from tlgan_tui.engine import Engine

    return Engine.open(args.generator, args.weights, args.device, args.axes, args.precision)


def parse_sets(items: Sequence[str]) -> dict[str, float]:
    offsets = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--set expects AXIS=VALUE, got {item!r}")
        try:
            offsets[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--set {item!r}: {value!r} is not a number") from None
    return offsets


def face_recipe(engine, args: argparse.Namespace):
    """The recipe the face options describe, checked against the engine's generator and axes."""
    from tlgan_tui.recipe import Recipe

    recipe = Recipe.load(args.recipe) if args.recipe else engine.new_recipe(args.seed)
    recipe.latent(engine.axes)  # refuses a recipe for another generator or axis set
    sets = parse_sets(args.set)
    if not sets and not args.lock:
        return recipe
    for name in [*sets, *args.lock]:
        engine.axes.index(name)
    return recipe.edited({**recipe.offsets, **sets}, recipe.locks | set(args.lock), engine.axes)


def describe(engine, recipe) -> str:
    source = f"seed {recipe.seed}" if recipe.seed is not None else "explicit latent"
    moves = [f"{name} {engine.axes.axis(name).format_value(value)}" for name, value in recipe.offsets.items()]
    locks = [f"locked {', '.join(sorted(recipe.locks))}"] if recipe.locks else []
    return " · ".join([source, *moves, *locks])


def cmd_render(args: argparse.Namespace) -> int:
    from tlgan_tui.export import save_face

    if not args.output.lower().endswith(".png"):
        raise UsageError(f"-o {args.output}: the output must be a .png file")
    engine = open_engine(args)
    recipe = face_recipe(engine, args)
    png, sidecar = save_face(engine, recipe, args.output)
    size = engine.generator.resolution
    print(f"wrote {png} ({size}x{size}, {describe(engine, recipe)}) and {sidecar}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.segment import Segment, Segments

    from tlgan_tui.terminal import cells_for, halfblock_lines

    if args.width is not None and args.width < 2:
        raise UsageError("--width must be at least 2 cells")
    engine = open_engine(args)
    recipe = face_recipe(engine, args)
    if args.width is not None:
        side = args.width - args.width % 2
    else:
        columns, lines = shutil.get_terminal_size((80, 24))
        side = min(cells_for(columns, lines - 2), 2 * engine.generator.resolution)
    image = engine.render_preview(recipe, side)
    # Truecolour unless asked otherwise: over SSH and in tmux COLORTERM is often missing, and
    # faces quantised to 256 colours posterise.
    console = Console(force_terminal=True, color_system="truecolor" if args.colors == "truecolor" else "256")
    for line in halfblock_lines(image):
        console.print(Segments([*line, Segment.line()]), end="")
    console.print(f"{engine.generator.id} · {describe(engine, recipe)}", style="dim", highlight=False)
    return 0


def cmd_axes(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    engine = open_engine(args)
    axes = engine.axes
    source = axes.path or "computed now (SeFa; no axis file for this generator)"
    table = Table(title=f"{len(axes)} axes for {axes.generator_id} from {source}", title_justify="left", box=None)
    for column in ("axis", "method", "per unit step", "fit quality", "description"):
        table.add_column(column)
    for axis in axes.info:
        step = axis.format_value(1.0) if axis.per_step is not None and axis.unit else ""
        quality = "  ".join(f"{key} {value:.2f}" for key, value in axis.quality.items())
        table.add_row(axis.name, axis.method, step, quality, axis.description)
    Console(soft_wrap=True).print(table)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    import torch

    engine = open_engine(args)
    generator = engine.generator
    device = str(generator.device)
    if generator.device.type == "cuda":
        device += f" ({torch.cuda.get_device_name(generator.device)})"
    rows = {
        "generator": f"{generator.id}: {generator.description}",
        "weights": generator.weights_path,
        "resolution": f"{generator.resolution}x{generator.resolution}",
        "latent size": str(generator.latent_dim),
        "device": f"{device}, torch {torch.__version__}",
        "axes": f"{engine.axes.path or 'SeFa, computed now'} ({len(engine.axes)} axes: {', '.join(engine.axes.names)})",
    }
    width = max(map(len, rows))
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")
    return 0


def add_convert_parser(commands: argparse._SubParsersAction) -> None:
    convert = commands.add_parser("convert", help="write a pg-GAN checkpoint (any layout tlgan reads) as tlgan safetensors")
    convert.add_argument("input", metavar="IN", help="a pg-GAN checkpoint: genforce/InterFaceGAN, genforce/SeFa, pytorch_GAN_zoo or tlgan")
    convert.add_argument("output", metavar="OUT.safetensors", help="the file to write")


def cmd_convert(args: argparse.Namespace) -> int:
    from tlgan_tui.generators.pggan_formats import convert_checkpoint

    if not args.output.endswith(".safetensors"):
        raise UsageError(f"{args.output}: the output must be a .safetensors file")
    checkpoint = convert_checkpoint(args.input, args.output)
    size = checkpoint.resolution
    print(f"wrote {args.output} ({checkpoint.generator_id}, {size}x{size}, from {checkpoint.source})")
    return 0


def cmd_default(args: argparse.Namespace) -> int:
    """`tlgan` alone: a face in the terminal (the editor replaces this)."""
    args.seed, args.recipe, args.set, args.lock, args.width, args.colors = None, None, [], [], None, "truecolor"
    return cmd_show(args)


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_default,
    "render": cmd_render,
    "show": cmd_show,
    "axes": cmd_axes,
    "info": cmd_info,
    "convert": cmd_convert,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except TlganError as error:
        if debug:
            raise
        print(f"tlgan: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tlgan: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: say so in one line, the traceback is one flag away
        if debug:
            raise
        print(f"tlgan: internal error: {type(error).__name__}: {error} (run again with --debug for the traceback)", file=sys.stderr)
        return 1
