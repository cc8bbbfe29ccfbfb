"""Driving the editor headless: start it on a fixed face, wait until the preview caught up."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Awaitable, Callable

import numpy as np

import tlgan_tui.tui.app
from tlgan_tui.axes import AxisInfo, AxisSet
from tlgan_tui.engine import Engine
from tlgan_tui.generators.base import Generator
from tlgan_tui.tui.app import EditorApp
from tlgan_tui.tui.headless import settle as settle_headless

SIZE = (120, 40)


class PatternGenerator(Generator):
    """Stands in for the default model where exact pixels must not depend on the machine's
    floating-point kernels (snapshots): integer stripes whose colours follow the latent."""

    def __init__(self, model: Generator):
        self.id, self.latent_dim, self.resolution = model.id, model.latent_dim, model.resolution
        self.description, self.weights_path, self.device = model.description, model.weights_path, model.device

    def forward(self, z):
        raise NotImplementedError("PatternGenerator draws with synthesize")

    def first_layer_weight(self):
        raise NotImplementedError

    def synthesize(self, z, size=None, batch_size=64):
        side = size or self.resolution
        codes = np.round(np.atleast_2d(np.asarray(z))[:, :3] * 8).astype(np.int64)
        rows, columns = np.mgrid[0:side, 0:side]
        images = [np.stack([(rows * 4 + columns * (2 + c) + code * 16) % 256 for c, code in enumerate(row)], axis=-1) for row in codes]
        return np.stack(images).astype(np.uint8)

    def preview(self, z, size):
        return self.synthesize(z, size)


def patterned(engine: Engine) -> Engine:
    return Engine(PatternGenerator(engine.generator), engine.axes)


def sefa_only(engine: Engine) -> Engine:
    """The default model with only its SeFa axes (sefa-0 first), whatever named axes ship: the
    key-binding tests count rows from the top."""
    names = [name for name in engine.axes.names if name.startswith("sefa-")]
    info = [engine.axes.axis(name) for name in names]
    directions = np.stack([engine.axes.direction(name) for name in names])
    return Engine(engine.generator, AxisSet(engine.generator.id, directions, info, engine.axes.provenance))


class RecordingEditorApp(EditorApp):
    """The editor app, keeping the text of every notification it shows, as a person reads them."""

    # Textual reads a relative CSS_PATH beside the module of the class that sets it.
    CSS_PATH = str(Path(tlgan_tui.tui.app.__file__).with_name(EditorApp.CSS_PATH))

    def __init__(self, *args, **options) -> None:
        super().__init__(*args, **options)
        self.said: list[str] = []

    def notify(self, message, **options) -> None:
        self.said.append(str(message))
        super().notify(message, **options)


def make_app(engine: Engine, tmp_path: Path, **options) -> RecordingEditorApp:
    options.setdefault("session_path", tmp_path / "state" / "session.json")
    options.setdefault("out", tmp_path / "out")
    options.setdefault("seed", 3)
    return RecordingEditorApp(engine, **options)  # the engine is immutable: shared safely


async def settle(pilot) -> None:
    if not await settle_headless(pilot):
        raise AssertionError("the preview did not catch up with the session")


def drive(app: EditorApp, script: Callable[..., Awaitable[None]], size: tuple[int, int] = SIZE) -> EditorApp:
    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await script(pilot)
            await settle(pilot)
        app.writer.close()

    asyncio.run(run())
    return app


def notices(app: RecordingEditorApp) -> list[str]:
    return list(app.said)


def shown_image(app: EditorApp) -> np.ndarray:
    return app.editor.preview.frame.image.copy()


def bar_row(app: EditorApp, axis: str) -> str:
    """The text of an axis's row in the bars, as on screen (the axis must be in view)."""
    bars = app.editor.bars
    rows = [bars.render_line(y).text for y in range(bars.size.height)]
    found = [row for row in rows if row.split(" ", 1)[0] == axis]
    if not found:
        raise AssertionError(f"no row of {axis!r} on screen: {rows}")
    return found[0]


def parallel_axes(engine: Engine) -> AxisSet:
    """Two axes for the default model, b almost parallel to a: locking a leaves b nothing."""
    rng = np.random.default_rng(0)
    a = engine.axes.direction("sefa-0")
    noise = rng.standard_normal(a.shape)
    b = a + 0.05 * noise / np.linalg.norm(noise)
    return AxisSet(engine.generator.id, np.stack([a, b / np.linalg.norm(b)]), [AxisInfo("a", method="test"), AxisInfo("b", method="test")])


def send_keys(app: EditorApp, *keys: str) -> None:
    """Keys as the terminal driver hands them over, without Pilot's wait for the app to be idle
    between them (which would wait for a running export to finish)."""
    from textual import events

    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


async def wait_until(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds, saying what."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def until(pilot, condition: Callable[[], object], what: str = "the screen to get there", tries: int = 3000) -> None:
    """Let the app run until `condition()` holds, checking after each `pilot.pause()` (which
    lets the app handle what is queued: a screen pushed, a worker's result); unlike
    `wait_until`'s time limit, it gives up after `tries` checks, saying what was awaited."""
    for _ in range(tries):
        await pilot.pause()
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what} after {tries} checks")


async def run_command(pilot, text: str, path: Path | str | None = None) -> None:
    """As a person does it: ctrl+p, type `text`, enter on the first hit once it shows; for a
    command that asks for a file, `path` is typed (pasted) into the prompt and entered."""
    from textual.command import CommandList, CommandPalette
    from textual.widgets import Input

    from tlgan_tui.tui.prompt_screen import PathPrompt

    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_until(lambda: isinstance(app.screen, CommandPalette), "the command palette")
    await pilot.press(*text)
    hits = app.screen.query_one(CommandList)
    await wait_until(lambda: hits.option_count and text.lower() in str(hits.get_option_at_index(0).prompt).lower(), f"the command {text!r}")
    await pilot.press("enter")
    if path is not None:
        await wait_until(lambda: isinstance(app.screen, PathPrompt), "the file prompt")
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_until(lambda: not isinstance(app.screen, PathPrompt), "the prompt to close")
