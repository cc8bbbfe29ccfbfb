"""Regenerate screenshots/: the editor driven headless, saved as Textual SVGs and as PNGs.

    .venv/bin/python scripts/screenshots.py

PNGs are made from the SVGs with rsvg-convert (Debian/Ubuntu: `apt-get install librsvg2-bin`,
macOS: `brew install librsvg`); without it only the SVGs are written, and the script says so.
The faces are fixed (seed 3), so a rerun gives the same pictures.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tlgan_tui.tui.environment import configure_colors  # noqa: E402

configure_colors("truecolor")

from tlgan_tui.engine import Engine  # noqa: E402
from tlgan_tui.session import Session  # noqa: E402
from tlgan_tui.tui.app import EditorApp  # noqa: E402
from tlgan_tui.tui.headless import settle as settle_headless  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (160, 50)
TEACH_ANSWERS = 32


async def settle(pilot) -> None:
    await settle_headless(pilot, tries=1000)
    await pilot.pause(0.2)


async def shoot(app: EditorApp, name: str, steps) -> Path:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await steps(pilot)
        app.clear_notifications()
        await pilot.pause(0.3)
        path = Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT)))
    app.writer.close()
    return path


async def edited(pilot) -> None:
    """Three axes moved, one locked, the face marked."""
    await pilot.press("l", "l", "l", "down", "h", "h", "space", "down", "shift+right", "m")
    await settle(pilot)


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    engine = Engine.open("default", device="cpu")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["HOME"] = folder  # the resume question shows the session as ~/.local/state/...
        os.environ["XDG_DATA_HOME"] = str(Path(folder) / ".local" / "share")  # taught axes: not the user's
        state = Path(folder) / ".local" / "state" / "tlgan"

        def app(**options) -> EditorApp:
            return EditorApp(engine, session_path=state / "session.json", out="exports", seed=3, **options)

        async def helped(pilot):
            await edited(pilot)
            await pilot.press("question_mark")

        async def gallery(pilot):
            await edited(pilot)
            await pilot.press("g")
            await pilot.pause(0.5)
            await pilot.app.workers.wait_for_complete()

        async def nothing(pilot):
            await pilot.pause(0.3)

        async def teaching(pilot, leave: bool = False):
            """Teach "smiling", answering as the FER emotion predictor sees the faces (a person
            stand-in: yes when P(happy) > 0.5), with the faces offered fixed (seed 3)."""
            from tlgan_tui.labelers import load_labeler
            from tlgan_tui.tui.teach_screen import TeachScreen, start_teaching

            emotion = load_labeler("emotion")
            editor = pilot.app.editor
            start_teaching(pilot.app, editor.engine, editor.session.axes, editor.add_taught_axis, seed=3)
            await pilot.pause(0.3)
            await pilot.press(*"smiling", "enter")
            while not (isinstance(pilot.app.screen, TeachScreen) and pilot.app.screen.settled):
                await pilot.pause(0.1)
            screen = pilot.app.screen
            for _ in range(TEACH_ANSWERS - len(screen.answers)):  # the second shot goes on from the first one's answers
                face = engine.generator.synthesize(engine.latents([screen.choices[screen.cursor]]))
                await pilot.press("y" if emotion(face)["smile"][0] > 0.5 else "n")
            while not screen.settled:
                await pilot.pause(0.1)
            if leave:
                await pilot.press("escape", "l", "l", "l", "l", "space")
                await settle(pilot)

        async def taught(pilot):
            await teaching(pilot, leave=True)

        saved = Session(engine.new_recipe(3), engine.axes, marks=[engine.new_recipe(5), engine.new_recipe(8)])
        saved.move("sefa-0", 3)
        shots = [
            await shoot(app(), "editor", edited),
            await shoot(app(), "help", helped),
            await shoot(app(), "gallery", gallery),
            await shoot(app(offer=saved), "resume", nothing),
            await shoot(app(), "teach", teaching),
            await shoot(app(), "taught", taught),
        ]
    converter = shutil.which("rsvg-convert")
    if converter is None:
        print("wrote the SVGs; PNGs need rsvg-convert (apt-get install librsvg2-bin)", file=sys.stderr)
    for svg in shots:
        if converter:
            # rsvg gives Textual's non-breaking spaces no width, which pulls right-aligned text
            # left; plain spaces kept with xml:space="preserve" draw as the terminal does.
            text = svg.read_text().replace("&#160;", " ").replace("<svg ", '<svg xml:space="preserve" ', 1)
            subprocess.run([converter, "-o", str(svg.with_suffix(".png"))], input=text.encode(), check=True)
        print(f"wrote {svg.relative_to(ROOT)}" + (f" and {svg.with_suffix('.png').name}" if converter else ""))


if __name__ == "__main__":
    asyncio.run(main())
