"""Which weights the user has said are a published model: fingerprint -> published id, kept in
$XDG_CONFIG_HOME/tlgan/adopted-models.json (paths.adopted_models_path).

A pg-GAN is named by a fingerprint of its weights (pggan_formats._identity), so NVIDIA's
CelebA-HQ model, whose file cannot be recognised here, opens as `pggan1024-<fingerprint>` until
its user says what it is (`tlgan axes adopt pggan-celebahq1024 ...`). From then on the same
weights, in any layout and after `tlgan convert`, open as the published id, with its published
axes and the sessions, recipes and taught axes kept under that id. The file is the user's own,
but it is read as any file is: with size and depth limits, every entry checked. A file that is
not this format at all is refused whole; an entry that cannot be used (an id this tlgan does
not know, written by a newer one or by hand) is skipped with one note per process, and kept
unchanged when `adopt` or `forget` rewrites the file.

    {"format": "tlgan-adopted-models/1",
     "models": {"<sha256 of the weights>": {"id": "pggan-celebahq1024", "weights": "/path/when/adopted",
                                             "date": "2026-11-30"}}}
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tlgan_tui import paths, userjson
from tlgan_tui.errors import AdoptionError
from tlgan_tui.fileio import atomic_write_text
from tlgan_tui.generators.base import Generator, Identity
from tlgan_tui.generators.published import PUBLISHED, PublishedModel, lookalikes, published_model
from tlgan_tui.safe_text import quoted, shown
from tlgan_tui.shipped import shipped_axes_path

FORMAT = "tlgan-adopted-models/1"
MAX_BYTES = 2**20
MAX_MODELS = 1000
"""Far more models than anyone adopts; the file stays small enough to read at every start."""
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Adoption:
    fingerprint: str
    model_id: str
    weights: str
    """The file adopted, as it was named then (for people: the fingerprint is what counts)."""
    date: str


def _problem(path: Path, what: str) -> AdoptionError:
    return AdoptionError(f"your adopted-models file {shown(path)} cannot be used: {what}; fix it or move it away")


@dataclass
class _Contents:
    found: dict[str, Adoption]
    skipped: dict[str, object]
    """Entries this tlgan cannot use, as they were in the file: written back unchanged, since a
    newer tlgan may have written them (an id it knows) and they are the user's."""


_unsaid: dict[str, None] = {}
"""Lines about skipped entries not yet given to the user (an ordered set)."""
_said: set[str] = set()
"""Lines given already: a file is read each time a pg-GAN opens, its problem is said once."""


def _entry_problem(fingerprint: str, entry: object) -> str | None:
    """Why one entry cannot be used, or None when it can."""
    if not FINGERPRINT.fullmatch(fingerprint):
        return f"{quoted(fingerprint, 80)} is not a fingerprint (64 hexadecimal digits)"
    if not isinstance(entry, dict) or not all(isinstance(entry.get(key, ""), str) for key in ("id", "weights", "date")):
        return f"the entry of {fingerprint[:12]} is not an object of strings id, weights, date"
    if entry.get("id") not in PUBLISHED:
        return f"the entry of {fingerprint[:12]} names {quoted(entry.get('id', ''), 80)}, not a published model tlgan knows ({', '.join(PUBLISHED)})"
    return None


def _skipped_line(path: Path, problems: list[str]) -> str:
    shown_problems = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    entries = "an entry" if len(problems) == 1 else f"{len(problems)} entries"
    return shown(
        f"your adopted-models file {path} has {entries} tlgan skips ({shown_problems}); the other adoptions are used "
        f"and the file keeps what it skips as it is: correct or delete {'that entry' if len(problems) == 1 else 'those entries'} "
        f"in it (a newer tlgan may have written {'it' if len(problems) == 1 else 'them'})",
        2000,
    )


def _read() -> _Contents:
    path = paths.adopted_models_path()
    if not path.is_file():
        return _Contents({}, {})
    data = userjson.read(path, "adopted-models file", AdoptionError, MAX_BYTES)
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("models"), dict):
        raise _problem(path, f'it is not a {{"format": "{FORMAT}", "models": {{...}}}} object')
    models = data["models"]
    if len(models) > MAX_MODELS:
        raise _problem(path, f"it lists {len(models)} models (at most {MAX_MODELS})")
    contents = _Contents({}, {})
    problems = []
    for fingerprint, entry in models.items():
        problem = _entry_problem(fingerprint, entry)
        if problem is not None:
            contents.skipped[fingerprint] = entry
            problems.append(problem)
        else:
            contents.found[fingerprint] = Adoption(fingerprint, entry["id"], entry.get("weights", ""), entry.get("date", ""))
    if problems and (line := _skipped_line(path, problems)) not in _said:
        _unsaid[line] = None
    return contents


def adoptions() -> dict[str, Adoption]:
    """Every adoption the user made, by fingerprint ({} when there is no file). An entry that
    cannot be used is skipped (`unsaid_notes` says so); a file that cannot be used at all is
    AdoptionError."""
    return _read().found


def unsaid_notes() -> tuple[str, ...]:
    """One line for each adopted-models file read with entries skipped that the user has not
    been told about yet in this process; each is given out once."""
    lines = tuple(_unsaid)
    _said.update(lines)
    _unsaid.clear()
    return lines


def _write(contents: _Contents) -> Path:
    path = paths.adopted_models_path()
    models = {a.fingerprint: {"id": a.model_id, "weights": a.weights, "date": a.date} for a in contents.found.values()}
    models.update(contents.skipped)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AdoptionError(f"cannot create the folder for {shown(path)}: {error.strerror or error}") from None
    return atomic_write_text(path, json.dumps({"format": FORMAT, "models": models}, indent=1) + "\n")


def adopt(identity: Identity, latent_dim: int, channels: tuple[int, ...], model_id: str, weights: str) -> Adoption | None:
    """Remember that the weights of `identity` are the published model `model_id`; refused when
    their architecture cannot be that model's. Returns the adoption it replaces, if any."""
    check_fits(model_id, latent_dim, channels, weights)
    contents = _read()
    before = contents.found.get(identity.fingerprint)
    # The user says now what these weights are: that replaces an entry for them tlgan skipped.
    contents.skipped.pop(identity.fingerprint, None)
    contents.found[identity.fingerprint] = Adoption(identity.fingerprint, model_id, str(Path(weights).absolute()), datetime.now(timezone.utc).strftime("%Y-%m-%d"))
    _write(contents)
    return before


def forget(fingerprint: str) -> Adoption | None:
    """Forget the adoption of these weights; the one forgotten, or None when there was none."""
    contents = _read()
    gone = contents.found.pop(fingerprint, None)
    if gone is not None:
        _write(contents)
    return gone


def check_fits(model_id: str, latent_dim: int, channels: tuple[int, ...], weights: str) -> PublishedModel:
    """The published model `model_id`, if weights of this architecture can be it."""
    model = published_model(model_id)
    misfit = model.misfit(latent_dim, channels)
    if misfit is not None:
        raise AdoptionError(f"{shown(weights)} cannot be {model.id} ({model.title}): {misfit}")
    return model


def resolve(weights_id: str, fingerprint: str, latent_dim: int, channels: tuple[int, ...], weights: str, as_model: str | None) -> Identity:
    """How weights of this fingerprint and architecture are named: as `as_model` for this
    command, else as the user adopted them, else by the weights."""
    if as_model is not None:
        check_fits(as_model, latent_dim, channels, weights)
        return Identity(as_model, weights_id, fingerprint, "for this command (--as-model)")
    remembered = adoptions().get(fingerprint)
    if remembered is not None:
        return Identity(remembered.model_id, weights_id, fingerprint, f"by `tlgan axes adopt` (remembered in {paths.adopted_models_path()})")
    return Identity(weights_id, weights_id, fingerprint, lookalikes=tuple(model.id for model in lookalikes(latent_dim, channels)))


def adoption_hint(generator: Generator) -> str | None:
    """One line for a model named by its weights that has the network of a published one and
    no axes shipped for its own id: how to adopt the published id, and what the user keeps
    under that id already. None when there is nothing to say."""
    identity = generator.identity
    if identity is None or identity.adopted or not identity.lookalikes or shipped_axes_path(generator.id).is_file():
        return None
    weights = shlex.quote(generator.weights_path)
    hints = []
    for model in map(published_model, identity.lookalikes):
        yours = _kept_under(model.id)
        gives = [model.axes] if model.axes else []
        gives += [f"your {' and '.join(yours)}"] if yours else []
        command = f"`tlgan axes adopt {model.id} --generator pggan --weights {weights}`"
        hints.append(f"if it is {model.title}, {command} gives it {' and '.join(gives) or 'that id'}")
    # The weights' path and the XDG folders are the user's text: shown escaped, on one line.
    return shown(f"{generator.id} is named by its weights and gets SeFa axes only; it has the network of a published model: {'; '.join(hints)}", 2000)


def adoption_suggestion(generator: object, wanted_id: str) -> str:
    """For a refusal of something made for `wanted_id` (a recipe, a session, an axis file): how
    the generator's weights can open as it, when they have that published model's network (""
    if not, and for anything that is not a generator named by its weights)."""
    identity = getattr(generator, "identity", None)
    if identity is None or identity.adopted or wanted_id not in identity.lookalikes:
        return ""
    model = published_model(wanted_id)
    command = f"tlgan axes adopt {model.id} --generator pggan --weights {shlex.quote(generator.weights_path)}"
    return shown(f"; these weights ({generator.id}) have the network of {model.title}: if they are that model, `{command}` opens them as {model.id} (or --as-model {model.id} for one command)", 1000)


def _kept_under(model_id: str) -> list[str]:
    """What the user has under a published id: a saved session, taught axes."""
    kept = []
    if paths.default_session_path(model_id).is_file():
        kept.append(f"saved session ({paths.default_session_path(model_id)})")
    if paths.user_axes_path(model_id).is_file():
        kept.append(f"taught axes ({paths.user_axes_path(model_id)})")
    return kept
