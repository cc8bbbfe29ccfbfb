"""After a kill -9 (or an SSH drop), the session is found as it was."""

import asyncio
import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from tests.editor_support import bar_row, make_app, settle
from tlgan_tui.session import open_session


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def saved(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def test_the_editor_killed_with_sigkill_is_resumed_as_it_was(engine, tmp_path):
    session_path = tmp_path / "session.json"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    tlgan = Path(sys.executable).with_name("tlgan")
    env = {**os.environ, "TERM": "xterm-256color", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    command = [str(tlgan), "--session", str(session_path), "--out", str(tmp_path / "out"), "--seed", "7", "--device", "cpu"]
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    screen = bytearray()

    def drain() -> None:  # keep the pty from filling up, so the app never blocks on output
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            screen.extend(data)

    threading.Thread(target=drain, daemon=True).start()
    try:
        wait_for(lambda: (saved(session_path) or {}).get("recipe", {}).get("seed") == 7, 60, "the editor to start")
        for key in ["l", "l", "j", "h", " ", "m", "]"]:
            os.write(master, key.encode())
            time.sleep(0.15)

        def all_saved() -> bool:
            data = saved(session_path) or {}
            recipe = data.get("recipe", {})
            return recipe.get("offsets") == {"gender": 1.0, "age": -0.5} and recipe.get("locks") == ["age"] and len(data.get("marks", [])) == 1 and data.get("step") == 1.0

        wait_for(all_saved, 30, "the keys to be saved")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        os.close(master)
    assert process.returncode == -signal.SIGKILL
    assert b"\x1b[38;2;" in screen  # the face was drawn in truecolour

    session, axes = open_session(session_path, engine)
    app = make_app(engine, tmp_path, session=session, session_path=session_path, seed=None)  # tlgan --resume
    rows = {}

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            rows.update({axis: bar_row(app, axis) for axis in ("gender", "age")})
            rows["first row"] = app.editor.bars.render_line(1).text
            rows["preview"] = app.editor.preview.frame.recipe
            await pilot.press("u")  # the undo history came back too
            rows["undone"] = app.session.recipe.locks

    asyncio.run(run())
    app.writer.close()
    assert rows["first row"].startswith("gender")  # the bars start at the top, not at the selection
    # The bars speak the attributes' own units (P(male), years).
    assert engine.axes.axis("gender").format_value(1.0, engine.axes.effect("gender", {"age"})) in rows["gender"]
    assert engine.axes.axis("age").format_value(-0.5) in rows["age"] and "lock" in rows["age"]
    assert rows["preview"].offsets == {"gender": 1.0, "age": -0.5} and rows["preview"].seed == 7
    assert rows["undone"] == frozenset() and app.session.step == 1.0 and len(app.session.marks) == 1
