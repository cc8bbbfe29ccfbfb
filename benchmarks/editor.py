"""Editor timings: key press -> new preview on screen, frames per second with a held key, and
memory after 10,000 key presses.

    .venv/bin/python benchmarks/editor.py            # everything (about a minute)
    .venv/bin/python benchmarks/editor.py --quick    # fewer presses

The editor runs headless (Textual's run_test) at 160x50, the size of the README's tmux session,
so the preview is 92x92 pixels. A key event is handed to the app the way the terminal driver
hands it one; the press counts as shown when the screen update that holds the new frame is
written out (the terminal's own drawing is not included). Runs with the embedded default model
as the editor runs (the faces one step either way along the selected axis drawn ahead while
nothing else is asked for) and with nothing drawn ahead (every face rendered after its key),
and with a stand-in generator that takes 200 ms per render, to show the UI keeps answering.
Prints Markdown for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tlgan_tui.tui.environment import configure_colors, configure_frame_rate, tune_interpreter  # noqa: E402

configure_colors("truecolor")  # as `tlgan` does, before Textual is imported
configure_frame_rate()

from textual import events  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402

import tlgan_tui.engine  # noqa: E402
import tlgan_tui.tui.editor  # noqa: E402
from tlgan_tui.engine import Engine  # noqa: E402
from tlgan_tui.tui.app import EditorApp  # noqa: E402

SIZE = (160, 50)


class SlowGenerator:
    """The default generator, 200 ms slower per call: a stand-in for a large model."""

    def __init__(self, generator, delay: float = 0.2):
        self._generator = generator
        self._delay = delay
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self._generator, name)

    def synthesize(self, z, size=None, batch_size=64):
        self.calls += 1
        time.sleep(self._delay)
        return self._generator.synthesize(z, size=size, batch_size=batch_size)

    def preview(self, z, size):
        """What the editor's preview calls; slowed down like synthesize."""
        self.calls += 1
        time.sleep(self._delay)
        return self._generator.preview(z, size)


class Probe:
    """Records when frames are shown and when the screen update holding them is turned into
    terminal output. Headless, Textual composes the update but skips making the escape codes
    and writing them; the probe makes them (what a terminal would be sent) and drops them."""

    def __init__(self, app: EditorApp):
        self.app = app
        self.painted: dict[object, float] = {}
        self.frames_painted = 0
        self.bytes_written: list[int] = []
        self.paint_cpu: list[float] = []
        self.render_cpu: list[float] = []
        self._unpainted: list[object] = []
        self._painting_frame = False
        editor = app.editor
        refresh = editor._compositor_refresh

        def timed_refresh():
            start = time.thread_time()
            self._painting_frame = False
            refresh()
            if self._painting_frame:
                self.paint_cpu.append(time.thread_time() - start)

        editor._compositor_refresh = timed_refresh
        work = editor.preview._runner._work

        def timed_work(request):
            start = time.thread_time()
            frame = work(request)
            self.render_cpu.append(time.thread_time() - start)
            return frame

        editor.preview._runner._work = timed_work
        self.answered: list[float] = []
        changed = editor.changed

        def recording_changed():
            changed()
            self.answered.append(time.perf_counter())  # the key's change is made and drawn

        editor.changed = recording_changed
        preview = app.editor.preview
        show = preview.show

        def recording_show(frame):
            show(frame)
            self._unpainted.append(frame.recipe)

        preview.show = recording_show
        display = app._display

        def recording_display(screen, update):
            display(screen, update)
            if isinstance(update, CompositorUpdate):
                data = update.render_segments(app.console)
            else:
                return
            if self._unpainted:
                self._painting_frame = True
                now = time.perf_counter()
                for recipe in self._unpainted:
                    self.painted.setdefault(_key(recipe), now)
                self.frames_painted += len(self._unpainted)
                self.bytes_written.append(len(data))
                self._unpainted.clear()

        app._display = recording_display


def _key(recipe) -> str:
    return recipe.to_json()


def press(app: EditorApp, key: str) -> None:
    """Hand the app a key event as the terminal driver does."""
    app._driver.send_message(events.Key(key, key if len(key) == 1 else None))


async def wait_until(predicate, timeout: float = 10.0, poll: float = 0.005) -> bool:
    """Poll gently: the times measured are taken where things happen, not here, and a busy
    poll would hold the interpreter lock the render thread needs."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return True
        await asyncio.sleep(poll)
    return False


async def settle(app: EditorApp) -> None:
    editor = app.editor
    await wait_until(lambda: editor.preview_settled, 30)
    await asyncio.sleep(0.05)


def make_app(engine: Engine, folder: Path) -> EditorApp:
    # The same faces on every run: `n` draws its seeds from a fixed sequence here.
    tlgan_tui.engine.random_seed = itertools.count(1000).__next__
    return EditorApp(engine, session_path=folder / "session.json", out=folder / "out", seed=3)


async def latency(app: EditorApp, presses: int) -> dict[str, float]:
    """Press `l` one at a time, each press a face never shown before (revisited faces would find
    their cell styles cached): six steps up an axis, then the next axis, a new face after all
    ten. Key -> preview painted, and key -> bars updated."""
    probe = Probe(app)
    await settle(app)
    to_preview, to_bars = [], []
    for i in range(presses):
        if i and i % 6 == 0:  # not measured: move on to the next axis, or to a new face
            press(app, "j" if (i // 6) % len(app.session.axes) else "n")
            await settle(app)
        answered = len(probe.answered)
        start = time.perf_counter()
        press(app, "l")
        await wait_until(lambda: len(probe.answered) > answered, 5)
        to_bars.append(probe.answered[answered] - start)
        wanted = _key(app.session.recipe)
        await wait_until(lambda: wanted in probe.painted, 10)
        to_preview.append(probe.painted[wanted] - start)
        await asyncio.sleep(0.02)  # a person's pace between presses, not a held key
    return {
        "preview_p50": _ms(np.percentile(to_preview, 50)),
        "preview_p95": _ms(np.percentile(to_preview, 95)),
        "bars_p50": _ms(np.percentile(to_bars, 50)),
        "bars_p95": _ms(np.percentile(to_bars, 95)),
        "bytes_per_frame": float(statistics.median(probe.bytes_written)),
        "paint_cpu": _ms(statistics.median(probe.paint_cpu)),
        "render_cpu": _ms(statistics.median(probe.render_cpu)),
    }


STEPS_TO_BAR_END = 6
"""Presses from 0 to the end of a bar (+-3 at the editor's step of 0.5): a further press in that
direction changes nothing (the editor says so), so a held key turns to the next axis first."""


def held_key_name(i: int, axes: int) -> str:
    """The i-th repeat of a held key: six steps along an axis, then the next axis; once every
    axis has been walked, back the other way. Every step shows a face not shown before on that pass."""
    if i % (STEPS_TO_BAR_END + 1) == STEPS_TO_BAR_END:
        return "j"
    walked = i // ((STEPS_TO_BAR_END + 1) * axes)
    return "l" if walked % 2 == 0 else "h"


async def held_key(app: EditorApp, seconds: float, rate: float) -> dict[str, float]:
    """A key held down: repeats at `rate` per second (see `held_key_name`: every repeat shows a
    new face); frames painted per second, and how long after the last repeat the preview shows
    the final face."""
    probe = Probe(app)
    await settle(app)
    painted_before = probe.frames_painted
    interval = 1 / rate
    start = time.perf_counter()
    sent = 0
    while time.perf_counter() - start < seconds:
        press(app, held_key_name(sent, len(app.session.axes)))
        sent += 1
        next_at = start + sent * interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    released = time.perf_counter()
    await wait_until(lambda: app.session.recipe is not None and _key(app.session.recipe) in probe.painted or app.editor.preview_is_current, 10)
    caught_up = time.perf_counter() - released
    frames = probe.frames_painted - painted_before
    return {"keys": sent, "fps": frames / (released - start), "catch_up_ms": caught_up * 1000}


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def memory(app: EditorApp, presses: int) -> dict[str, float]:
    await settle(app)
    keys = ["l", "l", "j", "h", "k", "space", "m", "u", "ctrl+r", "right_square_bracket", "left_square_bracket", "space"]
    before = rss_mib()
    checkpoints = []
    for i in range(presses):
        press(app, keys[i % len(keys)])
        if i % 25 == 0:
            await asyncio.sleep(0.005)  # let the app keep up, as a fast typist's pace
        if (i + 1) % (presses // 4) == 0:
            await settle(app)
            checkpoints.append(rss_mib())
    await settle(app)
    session_file = app.writer.path
    app.writer.flush()
    return {"before": before, "after": rss_mib(), "checkpoints": checkpoints, "session_kib": session_file.stat().st_size / 1024}


def _ms(seconds: float) -> float:
    return float(seconds) * 1000


async def run_app(engine: Engine, job):
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(engine, Path(folder))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            result = await job(app)
            await wait_until(lambda: app._message_queue.empty(), 30)  # no key left for a closing app
        app.writer.close()
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    presses = 60 if args.quick else 300
    engine = Engine.open("default", device="cpu")
    engine.generator.favour_latency()  # as `tlgan` does for the editor
    tune_interpreter()

    default = asyncio.run(run_app(engine, lambda app: latency(app, presses)))
    drawn_ahead = tlgan_tui.tui.editor.PREFETCH_STEPS
    tlgan_tui.tui.editor.PREFETCH_STEPS = ()  # every face rendered after its key
    unpredicted = asyncio.run(run_app(engine, lambda app: latency(app, presses)))
    tlgan_tui.tui.editor.PREFETCH_STEPS = drawn_ahead
    held30 = asyncio.run(run_app(engine, lambda app: held_key(app, 3.0, 30)))
    held60 = asyncio.run(run_app(engine, lambda app: held_key(app, 3.0, 60)))
    slow_engine = Engine(SlowGenerator(engine.generator), engine.axes)
    slow = asyncio.run(run_app(slow_engine, lambda app: latency(app, 15 if args.quick else 30)))
    calls_before = slow_engine.generator.calls
    slow_held = asyncio.run(run_app(slow_engine, lambda app: held_key(app, 3.0, 30)))
    slow_calls = slow_engine.generator.calls - calls_before
    memory_presses = 2000 if args.quick else 10_000
    mem = asyncio.run(run_app(engine, lambda app: memory(app, memory_presses)))

    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} intra-op thread), load average at the end {os.getloadavg()[0]:.1f}\n")
    print("| what | p50 | p95 |\n|---|---|---|")
    print(f"| key press -> new preview painted, default model, the editor as it runs ({presses} presses) | {default['preview_p50']:.1f} ms | {default['preview_p95']:.1f} ms |")
    print(f"| key press -> new preview painted, default model, nothing drawn ahead (every face rendered after its key) | {unpredicted['preview_p50']:.1f} ms | {unpredicted['preview_p95']:.1f} ms |")
    print(f"| key press -> bars updated, default model | {default['bars_p50']:.1f} ms | {default['bars_p95']:.1f} ms |")
    print(f"| key press -> new preview painted, 200 ms stand-in generator | {slow['preview_p50']:.0f} ms | {slow['preview_p95']:.0f} ms |")
    print(f"| key press -> bars updated, 200 ms stand-in generator | {slow['bars_p50']:.1f} ms | {slow['bars_p95']:.1f} ms |")
    print()
    print("| held key | keys sent | frames painted per second | last frame after release |\n|---|---|---|---|")
    print(f"| default model, 30 repeats/s | {held30['keys']} | {held30['fps']:.1f} | {held30['catch_up_ms']:.0f} ms |")
    print(f"| default model, 60 repeats/s | {held60['keys']} | {held60['fps']:.1f} | {held60['catch_up_ms']:.0f} ms |")
    print(f"| 200 ms stand-in, 30 repeats/s ({slow_calls} forward passes for {slow_held['keys']} keys) | {slow_held['keys']} | {slow_held['fps']:.1f} | {slow_held['catch_up_ms']:.0f} ms |")
    print()
    checkpoints = ", ".join(f"{value:.0f}" for value in mem["checkpoints"])
    print(f"Memory (RSS): {mem['before']:.0f} MiB before, {mem['after']:.0f} MiB after {memory_presses:,} key presses "
          f"(after each quarter: {checkpoints} MiB); session file {mem['session_kib']:.0f} KiB.")
    print(f"Screen update holding a new 92x92 frame: {default['bytes_per_frame'] / 1024:.0f} KiB of terminal output (median).")
    print(f"CPU time per frame (medians, thread time, so load on other cores does not count): render thread "
          f"{unpredicted['render_cpu']:.1f} ms (latent, forward pass, half-block lines), UI thread painting it {unpredicted['paint_cpu']:.1f} ms.")


if __name__ == "__main__":
    main()
