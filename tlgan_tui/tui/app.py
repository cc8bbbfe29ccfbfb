"""The editor app: it sets up the session and hands over to the editor screen, where the keys
live (so they act only there, not under the help or gallery screens)."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.app import App
from textual.message import Message

from tlgan_tui.axes import AxisSet
from tlgan_tui.engine import Engine
from tlgan_tui.errors import TlganError
from tlgan_tui.recipe import Recipe
from tlgan_tui.session import Session, SessionWriter
from tlgan_tui.tui.commands import EditorCommands
from tlgan_tui.tui.editor import EditorScreen
from tlgan_tui.tui.graphics import Graphics
from tlgan_tui.tui.restore_screen import RestoreScreen
from tlgan_tui.tui.terminal_link import TerminalLink


class SessionNotSaved(Message):
    def __init__(self, error: TlganError) -> None:
        super().__init__()
        self.error = error


class EditorApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "tlgan"
    COMMANDS = App.COMMANDS | {EditorCommands}

    def __init__(
        self,
        engine: Engine,
        *,
        session_path: str | Path,
        session: Session | None = None,
        offer: tuple[Session, AxisSet] | None = None,
        out: str | Path = "exports",
        graphics: Graphics = Graphics("halfblock"),
        seed: int | None = None,
        face: Recipe | None = None,
        keymap: dict[str, str] | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        """`session` is resumed at once (on the engine's axes); `offer` is a saved session and
        its axes, which the user is asked about; with neither, a new session starts on `face` (a
        projected photo), or the face of `seed` (random without either). A face or seed given
        with a session to resume is added to it as a new face."""
        # The app draws in truecolour only, so Textual's ANSI-to-truecolour filter has nothing
        # to convert; it would still visit every cell of every preview frame (a third of the
        # time a frame takes to draw), so it is switched off.
        super().__init__(ansi_color=True)
        self.engine = engine
        self.session_path = Path(session_path)
        self.session = session
        self.offer = offer
        self.out = Path(out)
        self.graphics = graphics
        self.start = face if face is not None else (engine.new_recipe(seed) if seed is not None else None)
        self.start_name = "the photo's face" if face is not None else f"seed {seed}'s face"
        self.keymap = dict(keymap or {})
        self.notes = notes
        self.editor: EditorScreen | None = None
        self.writer = SessionWriter(self.session_path, on_error=self._session_not_saved)
        self._warned_unsaved = False
        self.terminal_link: TerminalLink | None = None
        """Paces preview frames by the terminal's answers; None draws every frame at once
        (headless there is no terminal to ask; tests put a stand-in here)."""

    def on_mount(self) -> None:
        if self.terminal_link is None and not self.is_headless:
            self.terminal_link = TerminalLink(self._write_to_terminal)
        if self.keymap:
            self.set_keymap(self.keymap)
        # Notes name files and extras ("tlgan-tui[graphics]"): shown as written, not as markup.
        for note in self.notes:
            self.notify(note, severity="warning", timeout=8, markup=False)
        if self.graphics.note:
            self.notify(self.graphics.note, severity="warning", timeout=8, markup=False)
        if self.offer is not None:
            start = f"Either way the editor starts on {self.start_name}." if self.start is not None else ""
            self.push_screen(RestoreScreen(self.session_path, self.offer[0].describe(), start), self._begin)
        else:
            self._begin(False)

    def _begin(self, resume: bool | None) -> None:
        if resume and self.offer is not None:
            session, self.engine.axes = self.offer
        else:
            session = self.session or Session(self.start or self.engine.new_recipe())
        if self.start is not None:
            # --seed N (or --photo) starts on that face, in a resumed session too (as a new face
            # there, so p returns to the face the session was left on).
            session.new_face(self.start)
        self.session = session
        self.editor = EditorScreen(self.engine, session, self.writer, self.out, self.graphics)
        self.push_screen(self.editor)
        self.writer.save(session)

    def _write_to_terminal(self, text: str) -> None:
        # Textual's driver writes in order, so this follows the frame already handed to it.
        if self._driver is not None:
            self._driver.write(text)
            self._driver.flush()

    def on_cursor_position(self, event: events.CursorPosition) -> None:
        """The terminal's answer to the preview's question (see tui/terminal_link.py)."""
        if self.terminal_link is not None:
            self.terminal_link.answered()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No command palette over the "terminal too small" message: its commands would change
        the face unseen."""
        if action == "command_palette" and self.editor is not None and self.screen is self.editor:
            return not self.editor.has_class("too-small")
        return True

    def _session_not_saved(self, error: TlganError) -> None:
        self.post_message(SessionNotSaved(error))  # from the writer's thread: never wait on the UI

    def on_session_not_saved(self, message: SessionNotSaved) -> None:
        if not self._warned_unsaved:  # once: editing goes on
            self._warned_unsaved = True
            self.notify(f"{message.error}; editing goes on, but the session is not being saved", severity="error", timeout=10, markup=False)

    async def on_unmount(self) -> None:
        self.writer.close()
