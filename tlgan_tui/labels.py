"""Labels files: the answers an axis is taught from, one JSON object per line, a recipe as
`tlgan export` reads it plus `"label": true` or `false`.

The editor appends each answer as it is given (one write of a whole line, then fsync), so a
kill keeps every answer given; a line torn by a kill in the middle of a write is the last
one, has no newline, and is left out when the file is read. Undo rewrites the file
atomically. Files from elsewhere are read with limits on their size and lines.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from tlgan_tui.errors import RecipeError, TeachError
from tlgan_tui.fileio import atomic_write_text
from tlgan_tui.recipe import Recipe
from tlgan_tui.safe_text import quoted, shown
from tlgan_tui.teach import Answer

MAX_BYTES = 32 * 1024 * 1024
MAX_LINE = 64 * 1024
"""A recipe is well under 10 KB even with an explicit 512-value latent."""
MAX_ANSWERS = 50_000


def parse_labels(text: str, source: str, generator: str | None = None) -> list[Answer]:
    """Answers from the text of a labels file; TeachError names the first bad line. With
    `generator` (the id of the model in use), a line may leave out the recipe's `format` and
    `generator`, as `tlgan export` reads it (`{"seed": 7, "label": true}`), and a face of
    another model is refused."""
    lines = text.split("\n")
    torn = lines.pop() if lines else ""
    answers = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            answers.append(_parse_line(line, f"{source}:{number}", generator))
    if torn.strip():
        try:
            answers.append(_parse_line(torn, f"{source}:{len(lines) + 1}", generator))
        except TeachError:
            pass  # the last answer, cut off by a kill while it was being written
    if len(answers) > MAX_ANSWERS:
        raise TeachError(f"{source} holds {len(answers)} answers; at most {MAX_ANSWERS} are read")
    return answers


def _parse_line(line: str, where: str, generator: str | None) -> Answer:
    if len(line) > MAX_LINE:
        raise TeachError(f"{where}: the line is {len(line)} characters long; a labelled recipe takes at most {MAX_LINE}")
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, RecursionError, ValueError) as error:
        raise TeachError(f"{where} is not a JSON object ({shown(error, 120)})") from None
    if not isinstance(data, dict):
        raise TeachError(f"{where} is not a JSON object with a recipe and a label")
    label = data.pop("label", None)
    if not isinstance(label, bool):
        raise TeachError(f'{where}: "label" must be true or false, got {shown(json.dumps(label), 40)}')
    try:
        recipe = Recipe.from_dict(data, where, generator)
    except RecipeError as error:
        raise TeachError(str(error)) from None
    if generator is not None and recipe.generator != generator:
        raise TeachError(
            f"{where}: the face is from generator {quoted(recipe.generator)}, but the model in use is {quoted(generator)}; "
            "answers teach the model they were given on (choose it with --generator and --weights)"
        )
    if recipe.z is not None and np.ndim(recipe.z) == 2:
        raise TeachError(
            f"{where}: the face holds a W+ latent (one w per layer, as a projected photo may); "
            "an axis is taught in W from faces with one w each (seeds): leave this line out"
        )
    return Answer(recipe, label)


def read_labels(path: str | Path, generator: str | None = None) -> list[Answer]:
    """The answers in a labels file someone gives (TeachError says what is wrong with it);
    `generator` as for `parse_labels`."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise TeachError(f"{path} is {size / 2**20:.0f} MB; a labels file may be at most {MAX_BYTES // 2**20} MB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TeachError(f"labels file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TeachError(f"cannot read labels file {path}: {getattr(error, 'strerror', None) or error}") from None
    answers = parse_labels(text, str(path), generator)
    if not answers:
        raise TeachError(f"{path} holds no answers (expected one JSON recipe with \"label\": true or false per line)")
    return answers


class LabelsFile:
    """The answers of one taught axis, kept as they are given."""

    def __init__(self, path: str | Path, generator: str | None = None):
        self.path = Path(path)
        self.generator = generator
        """The id of the model whose faces are answered, when known: faces of others are refused."""

    def read(self) -> list[Answer]:
        """The answers kept so far (none when the file does not exist yet)."""
        if not self.path.exists():
            return []
        return read_labels(self.path, self.generator)

    def append(self, answer: Answer) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise TeachError(f"cannot keep the answer in {self.path}: {error.strerror or error}") from None
        try:
            _drop_torn_line(fd)
            os.write(fd, answer.to_line().encode("utf-8"))
            os.fsync(fd)
        except OSError as error:
            raise TeachError(f"cannot keep the answer in {self.path}: {error.strerror or error}") from None
        finally:
            os.close(fd)

    def rewrite(self, answers: list[Answer]) -> None:
        """Replace the file's answers (undo), atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, "".join(answer.to_line() for answer in answers))


def _drop_torn_line(fd: int) -> None:
    """Cut off a last line without its newline (an answer torn by a kill while it was written,
    never read back), so the next answer starts a line of its own."""
    size = os.fstat(fd).st_size
    if not size or os.pread(fd, 1, size - 1) == b"\n":
        return
    tail = os.pread(fd, min(size, MAX_LINE + 1), max(0, size - MAX_LINE - 1))
    end = tail.rfind(b"\n")
    os.ftruncate(fd, size - len(tail) + end + 1 if end >= 0 else max(0, size - len(tail)))
