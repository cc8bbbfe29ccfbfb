"""Attribute predictors by name: the built-in ones and any installed as entry points.

A package adds a labeler by declaring an entry point in the group `tlgan_tui.labelers`; its
name is what `--labelers` takes, its value a Labeler subclass or a function returning one.
`NAME:ARGUMENT` passes ARGUMENT (a file, say) to it.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Callable

from tlgan_tui.errors import LabelerError, TlganError
from tlgan_tui.labelers.base import Attribute, Labeler

ENTRY_POINT_GROUP = "tlgan_tui.labelers"
BUILTIN = {
    "age-gender": "tlgan_tui.labelers.age_gender:AgeGenderLabeler",
    "emotion": "tlgan_tui.labelers.emotion:EmotionLabeler",
    "face-mesh": "tlgan_tui.labelers.face_mesh:FaceMeshLabeler",
    "celeba": "tlgan_tui.labelers.celeba:CelebALabeler",
}
DEFAULT = ("age-gender", "emotion", "face-mesh")


def available() -> dict[str, str]:
    """Every labeler name and where it comes from ("module:object"); built-ins win a clash."""
    found = {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}
    return {**found, **BUILTIN}


def load_labeler(spec: str) -> Labeler:
    """The labeler `NAME` or `NAME:ARGUMENT`, built and ready to predict."""
    name, _, argument = spec.partition(":")
    known = available()
    if name not in known:
        raise LabelerError(f"unknown labeler {name!r}; installed labelers: {', '.join(sorted(known))}")
    factory = _resolve(name, known[name])
    try:
        labeler = factory(argument) if argument else factory()
    except TlganError:
        raise
    except TypeError as error:
        raise LabelerError(f"labeler {name!r} could not be built from {spec!r}: {error}") from error
    if not isinstance(labeler, Labeler):
        raise LabelerError(f"labeler {name!r} ({known[name]}) did not give a Labeler but a {type(labeler).__name__}")
    return labeler


def load_labelers(specs: list[str], device: str = "cpu") -> list[Labeler]:
    """Several labelers, predicting on `device` where they can (Labeler.to); refused if two of
    them name the same attribute."""
    labelers = [load_labeler(spec).to(device) for spec in specs]
    seen: dict[str, str] = {}
    for labeler in labelers:
        for attribute in labeler.attributes:
            if attribute.name in seen:
                raise LabelerError(f"attribute {attribute.name!r} comes from both {seen[attribute.name]!r} and {labeler.name!r}")
            seen[attribute.name] = labeler.name
    return labelers


def _resolve(name: str, target: str) -> Callable[..., object]:
    module, _, attr = target.partition(":")
    try:
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except TlganError:
        raise
    except Exception as error:  # a broken plug-in must not look like a bug of ours
        raise LabelerError(f"labeler {name!r} ({target}) could not be imported: {type(error).__name__}: {error}") from error
    return obj


__all__ = ["Attribute", "DEFAULT", "ENTRY_POINT_GROUP", "Labeler", "available", "load_labeler", "load_labelers"]
