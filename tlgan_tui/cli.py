"""`tlgan` and its subcommands: argument parsing and messages only; the work is the engine's."""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator, Sequence

from tlgan_tui.errors import TlganError

EXIT_USAGE = 2
MAX_SHOW_WIDTH = 1024
COLORS = ("truecolor", "256", "auto")


class UsageError(TlganError):
    """A command line that cannot be acted on."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), like every other error."""

    def error(self, message: str) -> None:
        raise UsageError(f"{message} (see {self.prog} --help)")


def seed_value(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number from 0 up, not {text!r}")
    return seed


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
    source.add_argument("--seed", type=seed_value, help="the face of this seed (default: a random one)")
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
    show.add_argument("--colors", choices=COLORS, default="truecolor", help="colour depth (default truecolor; auto: as the terminal says)")

    add_export_parser(commands)
    commands.add_parser("axes", help="list the axes of the model in use, with their fit quality")
    commands.add_parser("info", help="show the generator, resolution, device and axis file in use")
    add_convert_parser(commands)
    add_discover_parser(commands)
    add_train_extractor_parser(commands)

    for sub in commands.choices.values():
        add_model_options(sub, top_level=False)
    add_editor_options(parser)
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
            number = float(value)
        except ValueError:
            raise UsageError(f"--set {item!r}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise UsageError(f"--set {item!r}: the value must be a finite number")
        offsets[name.strip()] = number
    return offsets


def face_recipe(engine, args: argparse.Namespace):
    """The recipe the face options describe, checked against the engine's generator and axes."""
    from tlgan_tui.recipe import Recipe

    recipe = Recipe.load(args.recipe) if args.recipe else engine.new_recipe(args.seed)
    engine.latent(recipe)  # refuses a recipe for another generator or axis set
    sets = parse_sets(args.set)
    if not sets and not args.lock:
        return recipe
    for name in [*sets, *args.lock]:
        engine.axes.index(name)
    return recipe.edited({**recipe.offsets, **sets}, recipe.locks | set(args.lock), engine.axes)


def describe(engine, recipe) -> str:
    source = f"seed {recipe.seed}" if recipe.seed is not None else "explicit latent"
    axes = engine.axes
    moves = [f"{name} {axes.axis(name).format_value(value, axes.effect(name, recipe.locks))}" for name, value in recipe.offsets.items()]
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
    # Truecolour unless asked otherwise: over SSH and in tmux COLORTERM is often missing, and
    # faces quantised to 256 colours posterise.
    console = Console(force_terminal=True, color_system=args.colors)
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
    rows = []
    for axis in axes.info:
        step = axis.format_value(1.0) if axis.per_step is not None and axis.unit else ""
        rows.append((axis.name, axis.method, step, format_quality(axis.quality), axis.description))
    # Every column but the description keeps its full width; the description gets what is left.
    console = Console(soft_wrap=True)
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(("axis", "method", "per unit step", "fit quality"))]
    for column, width in zip(("axis", "method", "per unit step", "fit quality"), widths):
        table.add_column(column, no_wrap=True, width=width)
    room = console.width - sum(width + 2 for width in widths) - 2
    if room >= 12:
        table.add_column("description", no_wrap=True, overflow="ellipsis", max_width=room)
    for row in rows:
        table.add_row(*(row if room >= 12 else row[:4]))
    console.print(table)
    if any(key in QUALITY_LABELS for axis in axes.info for key in axis.quality):
        console.print("fit quality: acc / R² = held-out accuracy / R² of the fit; stab = cosine of the directions fitted on two halves of the faces", style="dim")
    return 0


QUALITY_LABELS = {"accuracy": "acc", "r2": "R²", "stability": "stab"}


def format_quality(quality: dict[str, float]) -> str:
    return "  ".join(f"{QUALITY_LABELS.get(key, key)} {value:.2f}" for key, value in quality.items())


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


def add_discover_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("discover", help="find named axes: generate faces, label them with attribute predictors, fit")
    parser.add_argument("--labelers", default=None, metavar="NAMES", help="comma-separated labelers, NAME or NAME:ARGUMENT (default: age-gender,emotion,face-mesh)")
    parser.add_argument("--attributes", default=None, metavar="NAMES", help="fit only these attributes (comma-separated; default: all the labelers give)")
    parser.add_argument("--samples", type=int, default=10_000, metavar="N", help="faces to label (default 10000; 1000 are too few for stable axes)")
    parser.add_argument("--seed", type=seed_value, default=0, help="seed of the sampled latents (default 0)")
    parser.add_argument("--batch-size", type=int, default=256, metavar="N", help="faces per labelled shard (default 256)")
    parser.add_argument("--method", choices=("auto", "svm"), default="auto", help="auto: tanh-OLS, logistic or OLS by kind of score; svm: InterFaceGAN's linear SVM on the top/bottom 2%%")
    parser.add_argument("--work", default=None, metavar="DIR", help="folder for the labelled shards (default: a cache folder per generator, labelers and seed)")
    parser.add_argument("--out", metavar="FILE.npz", help="axis file to write; the axes found are merged into it (or into the axes in use)")
    parser.add_argument("--list-labelers", action="store_true", help="list the installed labelers and their attributes, then stop")


def cmd_discover(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from tlgan_tui import labelers as registry
    from tlgan_tui.axes import AxisSet
    from tlgan_tui.discover import Settings, default_work_dir, discover, merge_into
    from tlgan_tui.fileio import check_writable_folder

    if args.list_labelers:
        return list_labelers()
    if not args.out:
        raise UsageError("--out FILE.npz is required: the axis file to write")
    if not args.out.endswith(".npz"):
        raise UsageError(f"--out {args.out}: an axis file ends in .npz")
    settings = Settings(samples=args.samples, seed=args.seed, shard_size=args.batch_size, method=args.method)
    specs = split_names(args.labelers) or list(registry.DEFAULT)
    out = Path(args.out)
    check_writable_folder(out)
    engine = open_engine(args)
    base = AxisSet.load(out) if out.is_file() else engine.axes
    base.check_generator(engine.generator.id, engine.generator.latent_dim, engine.generator.edit_space)
    labelers = registry.load_labelers(specs)
    work = Path(args.work) if args.work else default_work_dir(engine.generator, labelers, settings)
    stages = {"label": "labelling faces", "fit": "fitting axes", "units": "measuring units"}
    start = time.perf_counter()
    with progress_bars(stages.__getitem__) as progress:
        try:
            found = discover(engine.generator, labelers, settings, work, progress, only=split_names(args.attributes))
        except KeyboardInterrupt:
            print(f"tlgan: interrupted; the faces labelled so far are kept in {work}: run the same command to continue", file=sys.stderr)
            return 130
    axes = merge_into(found, base)
    axes.save(out)
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


def add_train_extractor_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train-extractor", help="train the CelebA 40-attribute extractor, a labeler for discover")
    parser.add_argument("--celeba", required=True, metavar="DIR", help="CelebA folder: img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt")
    parser.add_argument("--out", default="celeba-extractor.safetensors", metavar="FILE", help="where to save it (default celeba-extractor.safetensors)")
    parser.add_argument("--epochs", type=int, default=5, help="passes over the training split (default 5)")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N", help="images per step (default 64)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="use only the first N training and N validation images (a quick try)")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="processes decoding images (default 2; 0 = in the main process)")


def cmd_train_extractor(args: argparse.Namespace) -> int:
    from tlgan_tui.extractor import train_extractor
    from tlgan_tui.generators import resolve_device

    if not args.out.endswith(".safetensors"):
        raise UsageError(f"--out {args.out}: the extractor is saved as a .safetensors file")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    device = resolve_device(args.device)
    with progress_bars(str) as progress:
        report = train_extractor(args.celeba, args.out, args.epochs, args.batch_size, args.limit, device, args.workers, progress=progress)
    print(f"trained on {report.train_images} images, validated on {report.validation_images}: accuracy per attribute (always-the-common-answer in brackets)")
    for name in report.attributes:
        print(f"  {name:<22} {report.accuracy[name]:.3f}  ({report.baseline[name]:.3f})")
    mean = sum(report.accuracy.values()) / len(report.accuracy)
    print(f"mean accuracy {mean:.3f}; wrote {args.out}: use it with `tlgan discover --labelers celeba:{args.out}`")
    return 0


@contextlib.contextmanager
def progress_bars(describe: Callable[[str], str]) -> Iterator[Callable[[str, int, int], None]]:
    """A progress(stage, done, total) callback that shows one bar with an ETA per stage, on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(describe(stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield progress


def split_names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


# -- the editor: `tlgan` with no command ------------------------------------------------------


def add_editor_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("editor (tlgan with no command)")
    group.add_argument("--out", dest="editor_out", default="exports", metavar="DIR", help="where s and e write PNGs (default: ./exports)")
    group.add_argument("--session", metavar="FILE", help="session file (default: $XDG_STATE_HOME/tlgan/session.json, else ~/.local/state/tlgan/session.json)")
    group.add_argument("--resume", action="store_true", help="go on with the saved session without asking")
    group.add_argument("--seed", dest="editor_seed", type=seed_value, metavar="N", help="start a new session on this seed's face")
    group.add_argument("--graphics", choices=("auto", "halfblock", "kitty", "sixel"), default="auto", help="how to draw the face (kitty and sixel need the [graphics] extra; default: auto)")
    group.add_argument("--colors", dest="editor_colors", choices=COLORS, help="colour depth (default: truecolor, or $TEXTUAL_COLOR_SYSTEM when set)")
    group.add_argument("--keymap", metavar="FILE", help="key remapping, JSON of binding id -> keys (default: ~/.config/tlgan/keymap.json if present)")


def cmd_editor(args: argparse.Namespace) -> int:
    """`tlgan` alone: the editor."""
    from tlgan_tui.tui.environment import configure_colors, configure_frame_rate, tune_interpreter
    from tlgan_tui.tui.graphics import choose_graphics

    # All before Textual is imported: it reads the colour depth and frame rate then, and
    # textual-image can only ask the terminal about graphics before Textual takes it over.
    configure_colors(args.editor_colors)
    configure_frame_rate()
    graphics = choose_graphics(args.graphics)

    from tlgan_tui.errors import SessionError
    from tlgan_tui.session import default_session_path, open_session
    from tlgan_tui.tui.editor import EditorScreen
    from tlgan_tui.tui.keymap import default_keymap_path, load_keymap

    keymap_ids = [binding.id for binding in EditorScreen.BINDINGS if binding.id]
    keymap = load_keymap(Path(args.keymap) if args.keymap else default_keymap_path(), keymap_ids, required=bool(args.keymap))
    engine = open_engine(args)
    engine.generator.favour_latency()
    path = Path(args.session) if args.session else default_session_path()
    session = offer = None
    notes: list[str] = []
    if args.resume:
        if not path.is_file():
            raise SessionError(f"no session to resume at {path} (start tlgan without --resume to begin one)")
        session, engine.axes = open_session(path, engine)
    elif path.is_file():
        try:
            offer = open_session(path, engine)
        except SessionError as error:
            kept = path.with_name(path.name + ".unusable")
            path.replace(kept)
            notes.append(f"{error}. Starting a new session; the old file is kept as {kept}")

    from tlgan_tui.tui.app import EditorApp

    app = EditorApp(
        engine, session_path=path, session=session, offer=offer, out=args.editor_out,
        graphics=graphics, seed=args.editor_seed, keymap=keymap, notes=tuple(notes),
    )
    tune_interpreter()
    app.run()
    app.writer.close()
    if app.writer.error is not None:
        print(f"tlgan: the session was not saved: {app.writer.error}", file=sys.stderr)
        return 1
    if app.session is not None:
        print(f"tlgan: session saved in {path} ({len(app.session.marks)} marked); tlgan --resume goes on with it")
    return 0


# -- tlgan export ----------------------------------------------------------------------------


def add_export_parser(commands) -> None:
    export = commands.add_parser("export", help="write the marked faces of a session, or recipes, as full-resolution PNGs")
    export.add_argument("source", metavar="SESSION_OR_RECIPES", help="a session file (its marked faces), a recipe .json, or a JSONL of recipes")
    export.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    export.add_argument("--batch-size", type=int, default=16, metavar="N", help="faces per forward pass (default 16)")


def cmd_export(args: argparse.Namespace) -> int:
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


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_editor,
    "export": cmd_export,
    "render": cmd_render,
    "show": cmd_show,
    "axes": cmd_axes,
    "info": cmd_info,
    "convert": cmd_convert,
    "discover": cmd_discover,
    "train-extractor": cmd_train_extractor,
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
