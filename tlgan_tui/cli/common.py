"""What the commands share: the parser class, the model and face options, and small helpers."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import sys
import time
from typing import Callable, Iterable, Iterator, Sequence

from tlgan_tui.errors import TlganError

EXIT_USAGE = 2


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


def size_value(text: str) -> int:
    from tlgan_tui.export import MAX_SIZE

    try:
        size = int(text)
    except ValueError:
        size = 0
    if not 8 <= size <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"a size is a whole number of pixels from 8 to {MAX_SIZE}, not {text!r}")
    return size


def add_size_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--size", type=size_value, metavar="N",
        help="write N x N pixels, resampled (Lanczos) from the generator's own resolution; the sidecar says so, the recipe is unchanged",
    )


def add_model_options(parser: argparse.ArgumentParser) -> None:
    from tlgan_tui.generators import KINDS
    from tlgan_tui.generators.precision import CHOICES as PRECISIONS

    group = parser.add_argument_group("model")
    group.add_argument("--generator", default="default", choices=KINDS, help="default (the embedded DigiFace DCGAN), pggan or stylegan (these need --weights)")
    group.add_argument("--weights", metavar="FILE", help="generator weights (safetensors, torch checkpoint, or a StyleGAN snapshot .pkl)")
    group.add_argument("--axes", metavar="FILE", help="axis file (default: the one shipped for the generator)")
    group.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    group.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="arithmetic of the generator (default auto: fp16 on a GPU with tensor cores, else fp32)",
    )
    group.add_argument(
        "--as-model",
        metavar="ID",
        help="pg-GAN: open the weights as the published model ID for this command only, when their network fits "
        "(pggan-celebahq1024 gets InterFaceGAN's axes); `tlgan axes adopt ID` remembers it",
    )
    group.add_argument(
        "--truncation",
        type=float,
        metavar="PSI",
        help="StyleGAN: pull new faces towards the average face, w_avg + PSI (w - w_avg) (default 0.7; 1 = none); recorded in each recipe",
    )


def add_face_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--seed", type=seed_value, help="the face of this seed (default: a random one)")
    source.add_argument("--recipe", metavar="FILE", help="a recipe file (a PNG's .json sidecar)")
    parser.add_argument("--set", action="append", default=[], metavar="AXIS=VALUE", help="move along an axis (repeatable)")
    parser.add_argument("--lock", action="append", default=[], metavar="AXIS", help="hold an axis's attribute while others move (repeatable)")


def open_engine(args: argparse.Namespace, print_notes: bool = True):
    """The engine the model options describe; its notes go to stderr unless the caller shows
    them itself (the editor, which owns the terminal)."""
    from tlgan_tui.engine import Engine

    engine = Engine.open(args.generator, args.weights, args.device, args.axes, args.precision, args.truncation, args.as_model)
    if print_notes:
        say_notes(engine.notes)
    return engine


def say_notes(notes: Iterable[str]) -> None:
    """What the user should know but need not stop for, on stderr, one line each."""
    for note in notes:
        print(f"tlgan: note: {note}", file=sys.stderr)


def published_id(engine) -> str | None:
    """The published id the engine's weights were opened as (for workers that open them again)."""
    identity = engine.generator.identity
    return identity.as_model if identity is not None else None


def identity_line(identity) -> str:
    """Where a model's id comes from, in one line (`tlgan info`, `tlgan axes`)."""
    from tlgan_tui.safe_text import shown

    if identity.adopted:
        return shown(f"{identity.id}, adopted {identity.adopted}; by its weights it is {identity.weights_id} (`tlgan axes forget` undoes a remembered adoption)", 600)
    named = f"{identity.id}, named by its weights (sha256 {identity.fingerprint[:16]}…)"
    if identity.lookalikes:
        named += f"; it has the network of {' and '.join(identity.lookalikes)}: `tlgan axes adopt ID` if it is that model"
    return named


def parse_sets(items: Sequence[str]) -> dict[str, float]:
    offsets = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--set expects AXIS=VALUE, got {item!r}")
        try:
            number = float(value)
        except ValueError as error:
            raise UsageError(f"--set {item!r}: {value!r} is not a number") from error
        if not math.isfinite(number):
            raise UsageError(f"--set {item!r}: the value must be a finite number")
        offsets[name.strip()] = number
    return offsets


def face_recipe(engine, args: argparse.Namespace):
    """The recipe the face options describe, checked against the engine's generator and axes."""
    from tlgan_tui.adoptions import adoption_suggestion
    from tlgan_tui.errors import RecipeError
    from tlgan_tui.recipe import Recipe

    # A hand-written recipe may leave out format and generator: it is for the generator in use.
    recipe = Recipe.load(args.recipe, engine.generator.id) if args.recipe else engine.new_recipe(args.seed)
    if args.recipe and args.truncation is not None and recipe.seed is not None:
        recipe = dataclasses.replace(recipe, truncation=args.truncation)  # asked for: this face at another psi
    try:
        recipe.check(engine.axes, engine.generator)
    except RecipeError as error:
        raise RecipeError(f"{error}{adoption_suggestion(engine.generator, recipe.generator)}") from None
    sets = parse_sets(args.set)
    if not sets and not args.lock:
        return recipe
    for name in [*sets, *args.lock]:
        engine.axes.index(name)
    return recipe.edited({**recipe.offsets, **sets}, recipe.locks | set(args.lock), engine.axes)


def describe(engine, recipe) -> str:
    """The face in one line; axis names and units come from files, so they are made safe."""
    from tlgan_tui.safe_text import shown

    source = f"seed {recipe.seed}" if recipe.seed is not None else "explicit latent"
    axes = engine.axes
    moves = [f"{name} {axes.axis(name).format_value(value, axes.effect(name, recipe.locks))}" for name, value in recipe.offsets.items()]
    locks = [f"locked {', '.join(sorted(recipe.locks))}"] if recipe.locks else []
    return shown(" · ".join([source, *moves, *locks]), 600)


QUALITY_LABELS = {"accuracy": "acc", "r2": "R²", "stability": "stab"}


def format_quality(quality: dict[str, float]) -> str:
    return "  ".join(f"{QUALITY_LABELS.get(key, key)} {value:.2f}" for key, value in quality.items())


def split_names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


PLAIN_EVERY_S = 10.0
"""How often plain progress lines are written when stderr is a file or a pipe."""


@contextlib.contextmanager
def progress_bars(describe: Callable[[str], str]) -> Iterator[Callable[[str, int, int], None]]:
    """A progress(stage, done, total) callback on stderr: one bar with an ETA per stage on a
    terminal; elsewhere (`tlgan discover 2> log`, a pipe, CI) plain lines, one every
    PLAIN_EVERY_S seconds and one when a stage ends, since a bar would show nothing there."""
    if not sys.stderr.isatty():
        yield _plain_progress(describe)
        return
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


def _plain_progress(describe: Callable[[str], str]) -> Callable[[str, int, int], None]:
    started: dict[str, float] = {}
    last_line: dict[str, float] = {}
    ended: set[str] = set()

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        start = started.setdefault(stage, now)
        finished = total > 0 and done >= total
        if stage in ended or (not finished and now - last_line.get(stage, -PLAIN_EVERY_S) < PLAIN_EVERY_S):
            return
        line = f"{describe(stage)}: {done}/{total}"
        if total > 0:
            line += f" ({100 * done / total:.0f} %), {now - start:.0f} s"
            if 0 < done < total:
                line += f", about {(now - start) / done * (total - done):.0f} s to go"
        print(line, file=sys.stderr, flush=True)
        last_line[stage] = now
        if finished:
            ended.add(stage)

    return progress
