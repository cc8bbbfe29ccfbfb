"""Discovering named axes (TL-GAN): sample latents, generate faces, label them, fit directions.

Work is done in shards of latents, each labelled shard written (atomically) to a work folder,
so an interrupted run continues where it stopped and a larger run reuses a smaller one's
labels. Shard i always holds the same latents (drawn from the seed and i), so a run is
deterministic for a seed. After the fit, each axis's unit is measured on faces the fit never
saw: the attribute's mean change per unit step along the axis.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from tlgan_tui.axes import AxisInfo, AxisSet
from tlgan_tui.errors import DiscoveryError
from tlgan_tui.fileio import atomic_write_bytes, atomic_write_text
from tlgan_tui.fitting import METHODS, fit_axis
from tlgan_tui.generators import Generator
from tlgan_tui.labelers import Attribute, Labeler
from tlgan_tui.paths import cache_dir
from tlgan_tui.pipeline import LABEL_SIZE, label_faces

FORMAT = "tlgan-discover/1"
UNIT_STEP = 2.0
"""Units are measured between offsets -UNIT_STEP and +UNIT_STEP."""

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total) with stage "label", "fit" or "units"."""


@dataclass(frozen=True)
class Settings:
    samples: int = 10_000
    seed: int = 0
    shard_size: int = 256
    method: str = "auto"
    unit_faces: int = 200
    """New faces the per-step change of each axis is measured on."""

    def __post_init__(self) -> None:
        if self.samples < 100:
            raise DiscoveryError(f"--samples {self.samples}: at least 100 are needed (10,000 or more for stable axes)")
        if self.shard_size < 1:
            raise DiscoveryError(f"--batch-size {self.shard_size} must be at least 1")
        if self.unit_faces < 1:
            raise DiscoveryError("at least one face is needed to measure units on")
        if self.method not in METHODS:
            raise DiscoveryError(f"unknown fit method {self.method!r}; choose one of {', '.join(METHODS)}")


def default_work_dir(generator: Generator, labelers: Sequence[Labeler], settings: Settings) -> Path:
    """A cache folder that belongs to exactly one generator, set of labelers and seed."""
    key = hashlib.sha256(json.dumps(run_identity(generator, labelers, settings), sort_keys=True).encode()).hexdigest()[:12]
    return cache_dir() / "discover" / f"{generator.id}-seed{settings.seed}-{key}"


def run_identity(generator: Generator, labelers: Sequence[Labeler], settings: Settings) -> dict:
    """What labelled shards depend on: a work folder is only reused when all of it matches."""
    return {
        "format": FORMAT,
        "generator": generator.id,
        "labelers": {labeler.name: labeler.provenance() for labeler in labelers},
        "attributes": [attribute.name for labeler in labelers for attribute in labeler.attributes],
        "seed": settings.seed,
        "shard_size": settings.shard_size,
        "label_size": min(generator.resolution, LABEL_SIZE),
        # StyleGAN's faces depend on the truncation they are drawn at
        **({"truncation": generator.truncation} if generator.truncation is not None else {}),
    }


def shard_latents(generator: Generator, seed: int, index: int, size: int) -> np.ndarray:
    """The edit-space latents of one shard of faces (z on the sphere, or StyleGAN's w)."""
    return generator.draw(np.random.default_rng([seed, 0, index]), size)


def discover(
    generator: Generator,
    labelers: Sequence[Labeler],
    settings: Settings,
    work_dir: Path,
    progress: Progress | None = None,
    only: Sequence[str] | None = None,
) -> AxisSet:
    """Named axes for the attributes of the labelers (or `only` those), fitted on
    `settings.samples` faces."""
    report = progress or (lambda stage, done, total: None)
    attributes = [attribute for labeler in labelers for attribute in labeler.attributes]
    if only:
        unknown = sorted(set(only) - {attribute.name for attribute in attributes})
        if unknown:
            known = ", ".join(attribute.name for attribute in attributes)
            raise DiscoveryError(f"no labeler given measures {', '.join(map(repr, unknown))}; these do: {known}")
        attributes = [attribute for attribute in attributes if attribute.name in only]
    z, scores = label_samples(generator, labelers, settings, work_dir, report)
    fits = {}
    for done, attribute in enumerate(attributes):
        report("fit", done, len(attributes))
        try:
            fits[attribute.name] = fit_axis(z, scores[attribute.name], attribute.kind, settings.method, settings.seed)
        except ValueError as error:
            raise DiscoveryError(f"cannot fit {attribute.name!r}: {error}") from None
    report("fit", len(attributes), len(attributes))

    directions = np.stack([fits[attribute.name].direction for attribute in attributes])
    per_step = measure_units(generator, labelers, attributes, directions, settings, report)
    info = [
        AxisInfo(
            name=attribute.name,
            unit=attribute.unit,
            per_step=round(float(per_step[attribute.name]), 4),
            method=fits[attribute.name].method,
            quality=fits[attribute.name].quality,
            description=attribute.description,
        )
        for attribute in attributes
    ]
    provenance = {
        f"discover {', '.join(a.name for a in attributes)}": {
            **run_identity(generator, labelers, settings),
            "samples": settings.samples,
            "method": settings.method,
            "unit_faces": settings.unit_faces,
            "unit_step": UNIT_STEP,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        }
    }
    return AxisSet(generator.id, directions, info, provenance, space=generator.edit_space)


def label_samples(
    generator: Generator,
    labelers: Sequence[Labeler],
    settings: Settings,
    work_dir: Path,
    report: Progress,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Latents (samples, d) and their scores, labelling only the shards not on disk yet."""
    identity = run_identity(generator, labelers, settings)
    claim_work_dir(work_dir, identity)
    names = identity["attributes"]
    count = shard_count(settings)
    zs, labels = [], {name: [] for name in names}
    for index in range(count):
        report("label", min(index * settings.shard_size, settings.samples), settings.samples)
        z, shard = label_shard(generator, labelers, settings, work_dir, index)
        zs.append(z)
        for name in names:
            labels[name].append(shard[name])
    report("label", settings.samples, settings.samples)
    n = settings.samples
    return np.concatenate(zs)[:n], {name: np.concatenate(values)[:n] for name, values in labels.items()}


def shard_count(settings: Settings) -> int:
    return -(-settings.samples // settings.shard_size)


def label_shard(generator: Generator, labelers: Sequence[Labeler], settings: Settings, work_dir: Path, index: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Shard `index`'s latents and labels: read from the work folder, or made and written there.
    Shards depend on nothing but the run's identity and their index, so any worker of a
    cluster can make any of them (`tlgan discover --engine ray`)."""
    names = run_identity(generator, labelers, settings)["attributes"]
    path = work_dir / f"shard-{index:05d}.npz"
    z = shard_latents(generator, settings.seed, index, settings.shard_size)
    shard = read_shard(path, names, z)
    if shard is None:
        shard = label_faces(labelers, generator.synthesize(z, size=min(generator.resolution, LABEL_SIZE)))
        write_shard(path, z, shard)
    return z, shard


def missing_shards(generator: Generator, labelers: Sequence[Labeler], settings: Settings, work_dir: Path) -> list[int]:
    """The shards of a run not labelled yet (claiming the work folder for it)."""
    claim_work_dir(work_dir, run_identity(generator, labelers, settings))
    names = run_identity(generator, labelers, settings)["attributes"]
    return [
        index
        for index in range(shard_count(settings))
        if read_shard(work_dir / f"shard-{index:05d}.npz", names, shard_latents(generator, settings.seed, index, settings.shard_size)) is None
    ]


def claim_work_dir(work_dir: Path, identity: dict) -> None:
    """Make the work folder, or check that the one there was made for the same run."""
    manifest = work_dir / "run.json"
    if manifest.is_file():
        try:
            existing = json.loads(manifest.read_text())
        except (OSError, ValueError) as error:
            raise DiscoveryError(f"{manifest} is unreadable ({error}); remove the folder {work_dir} to start afresh") from None
        if existing != json.loads(json.dumps(identity)):
            changed = sorted(key for key in identity if existing.get(key) != identity[key])
            raise DiscoveryError(
                f"the work folder {work_dir} holds labels made with other settings ({', '.join(changed)} differ); "
                "choose another --work folder or remove that one"
            )
        return
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DiscoveryError(f"cannot create the work folder {work_dir}: {error.strerror or error}") from None
    atomic_write_text(manifest, json.dumps(identity, indent=1))


def read_shard(path: Path, names: Sequence[str], z: np.ndarray) -> dict[str, np.ndarray] | None:
    """A labelled shard from disk, or None when it is missing, partial or not for these latents."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if not np.array_equal(data["z"], z):
                return None
            return {name: np.array(data[f"label:{name}"]) for name in names}
    except (OSError, KeyError, ValueError):
        return None


def write_shard(path: Path, z: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, z=z, **{f"label:{name}": values for name, values in scores.items()})
    atomic_write_bytes(path, buffer.getvalue())


def measure_units(
    generator: Generator,
    labelers: Sequence[Labeler],
    attributes: Sequence[Attribute],
    directions: np.ndarray,
    settings: Settings,
    report: Progress,
) -> dict[str, float]:
    """Each attribute's mean change per unit step along its own axis, on new faces."""
    z0 = generator.draw(np.random.default_rng([settings.seed, 1]), settings.unit_faces)
    size = min(generator.resolution, LABEL_SIZE)
    owner = {attribute.name: labeler for labeler in labelers for attribute in labeler.attributes}
    per_step = {}
    for done, (attribute, direction) in enumerate(zip(attributes, directions)):
        report("units", done, len(attributes))
        labeler = owner[attribute.name]
        low, high = (labeler(generator.synthesize(generator.in_space(z0 + a * direction), size=size))[attribute.name] for a in (-UNIT_STEP, UNIT_STEP))
        per_step[attribute.name] = float(np.mean(high - low) / (2 * UNIT_STEP))
    report("units", len(attributes), len(attributes))
    return per_step


def merge_into(found: AxisSet, base: AxisSet) -> AxisSet:
    """`base` with the found axes added (replacing axes of the same name), labelled axes
    first so that the editor shows gender and age before the unsupervised ones."""
    merged = base.merged(found)
    order = sorted(range(len(merged)), key=lambda i: merged.info[i].per_step is None)
    return AxisSet(
        merged.generator_id,
        merged.directions[order],
        [merged.info[i] for i in order],
        merged.provenance,
        merged.path,
        merged.space,
        merged.retired,
    )


def discover_into(
    out: Path,
    base: AxisSet,
    generator: Generator,
    labelers: Sequence[Labeler],
    settings: Settings,
    work_dir: Path,
    progress: Progress | None = None,
    only: Sequence[str] | None = None,
) -> tuple[AxisSet, AxisSet]:
    """Discover axes and merge them into the axis file `out` (or, when it does not exist yet,
    into `base`, the axes in use), written atomically. Returns (found, written)."""
    if out.is_file():
        base = AxisSet.load(out)
    base.check_generator(generator.id, generator.latent_dim, generator.edit_space)
    found = discover(generator, labelers, settings, work_dir, progress, only)
    merged = merge_into(found, base)
    merged.save(out)
    return found, merged
