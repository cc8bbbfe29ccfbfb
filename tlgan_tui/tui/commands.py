"""The command palette (ctrl+p): the editor's actions by name, loading a recipe or an axis
file (typed in, or picked from the files found in the output folder, the working folder and
the shipped axes), and the face swept along the selected axis as a GIF."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tlgan_tui.errors import TlganError
from tlgan_tui.export import ensure_output_folder, face_filename
from tlgan_tui.shipped import shipped_axes_dir
from tlgan_tui.sweep import Sweep, write_sweep
from tlgan_tui.tui.keymap import shown_keys
from tlgan_tui.tui.prompt_screen import PathPrompt

if TYPE_CHECKING:
    from tlgan_tui.tui.editor import EditorScreen

FILES_LISTED = 40


class EditorCommands(Provider):
    @property
    def editor(self) -> "EditorScreen | None":
        return getattr(self.app, "editor", None)

    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        editor = self.editor
        if editor is None:
            return
        for binding in editor.BINDINGS:
            if binding.action == "help":
                continue
            run = partial(editor.run_action, binding.action)
            yield binding.tooltip or binding.description, run, f"key: {shown_keys(self.app, binding)[0]}"
        if editor.session.selected:
            yield f"Sweep {editor.session.selected} as a GIF", self._sweep, f"the face from -3 to +3 along it, into {editor.out}"
        yield "Load a recipe file…", partial(self._ask, "recipe"), "a face's .json sidecar"
        yield "Load an axis file…", partial(self._ask, "axes"), "an .npz axis set for this generator"
        for path in self._files(editor.out, "*.json"):
            yield f"Load recipe {path}", partial(editor.load_recipe, path), "recipe sidecar"
        for path in self._files(Path("."), "*.json"):
            yield f"Load recipe {path}", partial(editor.load_recipe, path), "recipe file"
        for folder in (Path("."), shipped_axes_dir()):
            for path in self._files(folder, "*.npz"):
                yield f"Load axes {path}", partial(editor.load_axes, path), "axis file"

    @staticmethod
    def _files(folder: Path, pattern: str) -> list[Path]:
        try:
            return sorted(folder.glob(pattern))[:FILES_LISTED]
        except OSError:
            return []

    def _ask(self, kind: str) -> None:
        editor = self.editor
        if editor is None:
            return
        if kind == "recipe":
            prompt = PathPrompt("Load a recipe", "A recipe file: the .json saved beside every PNG.")
            self.app.push_screen(prompt, lambda path: path and editor.load_recipe(path))
        else:
            prompt = PathPrompt("Load an axis file", f"An axis set (.npz) for {editor.engine.generator.id}.")
            self.app.push_screen(prompt, lambda path: path and editor.load_axes(path))

    def _sweep(self) -> None:
        """Write the sweep in a thread (a large model takes seconds per frame) and say where."""
        editor = self.editor
        if editor is None or not editor.session.selected:
            return
        engine, recipe, axis, out = editor.engine, editor.session.recipe, editor.session.selected, editor.out
        path = out / f"sweep-{axis}-{face_filename(recipe).removesuffix('.png')}.gif"
        app = self.app

        def work() -> None:
            try:
                ensure_output_folder(out)
                written = write_sweep(engine, recipe, Sweep(axis, -3.0, 3.0), path)
            except TlganError as error:
                app.call_from_thread(app.notify, str(error), title="No sweep written", severity="error")
            else:
                app.call_from_thread(app.notify, f"Wrote {written}", title="Sweep")

        app.run_worker(work, thread=True, group="sweep", exit_on_error=False)

    async def discover(self) -> Hits:
        for text, command, help_text in self._commands():
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, text=text, help=help_text)
