"""Bytes the editor writes to the terminal per face, with and without flow control.

    .venv/bin/python benchmarks/frame_bytes.py

Headless at 160x50 (a 92x92 face): the screen updates Textual composes are turned into the
escape codes a terminal would be sent (as benchmarks/editor.py does) and counted. Without a
terminal link every face is written whole, as on a fast terminal; with a stand-in terminal that
answers each question after 100 ms (a slow link's round trip) the preview sends the cells that
changed visibly, then the rest once the face stays. Ten single presses of `l` (one step, 0.5,
along the first axis), one a second, then `l` held at 30 repeats a second for 3 s. Unlike
benchmarks/ssh.py this does not depend on how busy the machine is. Prints Markdown.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tlgan_tui.tui.environment import configure_colors  # noqa: E402

configure_colors("truecolor")

from textual._compositor import CompositorUpdate  # noqa: E402

from tlgan_tui.engine import Engine  # noqa: E402
from tlgan_tui.tui.app import EditorApp  # noqa: E402
from tlgan_tui.tui.headless import settle  # noqa: E402
from tlgan_tui.tui.terminal_link import TerminalLink  # noqa: E402

ROUND_TRIP = 0.1


async def measure(engine: Engine, linked: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        app = EditorApp(engine, session_path=Path(folder) / "session.json", out=Path(folder) / "out", seed=3)
        if linked:
            app.terminal_link = TerminalLink(lambda _query: asyncio.get_running_loop().call_later(ROUND_TRIP, app.terminal_link.answered))
        written: list[int] = []
        async with app.run_test(size=(160, 50)) as pilot:
            display = app._display

            def counting(screen, update):
                display(screen, update)
                if isinstance(update, CompositorUpdate):
                    written.append(len(update.render_segments(app.console).encode()))

            app._display = counting
            await settle(pilot)
            await asyncio.sleep(1)
            per_press = []
            for i in range(10):
                if i == 6:  # six steps reach the end of the bar (+3): the next axis
                    await pilot.press("j")
                    await asyncio.sleep(1.0)
                before = sum(written)
                await pilot.press("l")
                await asyncio.sleep(1.0)
                per_press.append(sum(written) - before)
            before = sum(written)
            for i in range(90):
                await pilot.press("j" if i % 7 == 0 else "l")  # the next axis, then six steps to its end: a new face on every step
                await asyncio.sleep(1 / 30)
            await asyncio.sleep(1.5)
            held = sum(written) - before
        app.writer.close()
    return {"press": statistics.median(per_press), "held": held}


def main() -> None:
    engine = Engine.open("default", device="cpu")
    plain = asyncio.run(measure(engine, linked=False))
    linked = asyncio.run(measure(engine, linked=True))
    print("| terminal | bytes per key press (median of 10) | bytes for 3 s of a held key |\n|---|---|---|")
    print(f"| no link (every face whole, as on a fast terminal) | {plain['press'] / 1024:.0f} KiB | {plain['held'] / 2**20:.2f} MiB |")
    print(f"| answers after {ROUND_TRIP * 1000:.0f} ms (a slow link) | {linked['press'] / 1024:.0f} KiB | {linked['held'] / 2**20:.2f} MiB |")


if __name__ == "__main__":
    main()
