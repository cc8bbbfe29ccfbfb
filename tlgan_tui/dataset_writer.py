"""Writing a data set: a spec's faces as a labelled image folder (or tar shards), resumably.

The folder is Hugging Face's image-folder layout, which pandas, `datasets` and most training
tools read as it is:

    DIR/metadata.csv                one row per image (written when every face is there)
    DIR/images/0000/00000000.png    1,000 faces per folder, each PNG with its recipe inside
    DIR/dataset.json                the spec, the generator, and what each column means
    DIR/.tlgan/part-000000.csv      the rows of each finished part: a rerun skips those parts

Work is done in parts of whole batches; a part's rows are written (atomically) once all its
faces are, so an interrupted run continues where it stopped without duplicates.
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from tlgan_tui.axes import AxisSet
from tlgan_tui.dataset import DatasetSpec
from tlgan_tui.engine import Engine
from tlgan_tui.errors import SpecError
from tlgan_tui.export import png_bytes, recipe_text
from tlgan_tui import userjson
from tlgan_tui.fileio import atomic_write_bytes, atomic_write_text, sync_files
from tlgan_tui.labelers import Labeler
from tlgan_tui.pipeline import FaceJob, Progress, run_faces, write_png
from tlgan_tui.recipe import Recipe

FORMAT = "tlgan-dataset/1"
FACES_PER_FOLDER = 1000
WORK = ".tlgan"


@dataclass(frozen=True)
class DatasetPlan:
    """How a spec becomes files in a folder: parts of whole batches, columns, file names."""

    spec: DatasetSpec
    folder: Path
    axes: AxisSet
    generator_id: str
    batch_size: int = 64
    batches_per_part: int = 8
    labeler_specs: tuple[str, ...] = ()
    """Labelers (by name) whose scores go next to the intended values (--label)."""
    label_attributes: tuple[str, ...] = ()
    shards: bool = False
    """WebDataset-style tar shards (one per part: KEY.png + KEY.json) instead of an image folder."""

    @property
    def part_size(self) -> int:
        return self.batch_size * self.batches_per_part

    @property
    def parts(self) -> int:
        return -(-self.spec.count // self.part_size)

    def part_range(self, part: int) -> range:
        return range(part * self.part_size, min(self.spec.count, (part + 1) * self.part_size))

    def image_name(self, index: int) -> str:
        if self.shards:
            return f"{self.shard_name(index // self.part_size)}:{index:08d}.png"
        return f"images/{index // FACES_PER_FOLDER:04d}/{index:08d}.png"

    def shard_name(self, part: int) -> str:
        return f"shards/part-{part:06d}.tar"

    def part_path(self, part: int) -> Path:
        return self.folder / WORK / f"part-{part:06d}.csv"

    def columns(self) -> list[str]:
        columns = ["file_name", "face", "generator", "seed", "locks"]
        for name in self.spec.moved:
            columns.append(f"{name}_offset")
            if self.axes.axis(name).per_step is not None:
                columns.append(f"{name}_change")
        return columns + [f"{name}_measured" for name in self.label_attributes]

    def column_notes(self) -> dict[str, str]:
        notes = {
            "file_name": (
                "SHARD:KEY.png, the tar shard relative to this folder and the PNG in it (its recipe inside it, as the tlgan-recipe text chunk)"
                if self.shards
                else "the PNG, relative to this folder (its recipe is inside it, as the tlgan-recipe text chunk)"
            ),
            "face": "the face's index in the data set",
            "generator": "the generator's id",
            "seed": "the face's own seed (tlgan render --seed)",
            "locks": "axes locked while moving, separated by ';'",
        }
        for name in self.spec.moved:
            info = self.axes.axis(name)
            notes[f"{name}_offset"] = f"offset along axis {name} (unit steps)"
            if info.per_step is not None:
                notes[f"{name}_change"] = f"expected change of {name} from the unedited face, in {info.unit or 'its unit'} (offset x per-step change x what the locks leave of a step)"
        for name in self.label_attributes:
            notes[f"{name}_measured"] = f"{name} as the installed labeler measures it on the image"
        return notes

    def identity(self) -> dict[str, Any]:
        """What the files depend on: a folder is only continued when all of it matches."""
        spec = self.spec.to_dict()
        del spec["count"]  # a larger count extends a data set
        used = [*self.spec.moved, *sorted(self.spec.locks)]
        return {
            "format": FORMAT,
            "generator": self.generator_id,
            "spec": spec,
            "axes": {name: self.axes.fingerprint(name) for name in used},
            "batch_size": self.batch_size,
            "part_size": self.part_size,
            "labelers": list(self.labeler_specs),
            "layout": "webdataset" if self.shards else "imagefolder",
        }

    def jobs(self, part: int, engine: Engine) -> list[tuple[FaceJob, dict[str, float]]]:
        jobs = []
        locks = self.spec.locks
        for index in self.part_range(part):
            seed, offsets = self.spec.offsets(index)
            recipe = engine.new_recipe(seed).edited(offsets, locks, self.axes)
            # No fsync per image: run_part syncs once before it records the part as done.
            path = self.folder / f"{index:08d}.png" if self.shards else self.folder / self.image_name(index)
            jobs.append((FaceJob(recipe, path, sidecar=False, durable=False), offsets))
        return jobs

    def row(self, index: int, recipe: Recipe, offsets: Mapping[str, float], labels: Mapping[str, float]) -> list[Any]:
        row: list[Any] = [self.image_name(index), index, recipe.generator, recipe.seed, ";".join(sorted(self.spec.locks))]
        for name in self.spec.moved:
            offset = offsets[name]
            row.append(round(offset, 6))
            info = self.axes.axis(name)
            if info.per_step is not None:
                row.append(round(offset * info.per_step * self.axes.effect(name, self.spec.locks), 6))
        return row + [round(labels[name], 6) for name in self.label_attributes]

    def part_done(self, part: int) -> bool:
        """Whether the part's rows are on disk, one per face (a part cut short by a smaller
        --count earlier is not done)."""
        try:
            with self.part_path(part).open(newline="") as handle:
                return sum(1 for _ in csv.reader(handle)) == len(self.part_range(part))
        except OSError:
            return False


@dataclass
class PartResult:
    part: int
    written: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def run_part(plan: DatasetPlan, part: int, engine: Engine, labelers: Sequence[Labeler] = (), progress: Progress | None = None) -> PartResult:
    """Make one part's faces and, when all are there, write its rows."""
    made = plan.jobs(part, engine)
    encoded: dict[Path, bytes] = {}
    if plan.shards:
        shard = plan.folder / plan.shard_name(part)
        shard.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers([shard])
        write: Callable = partial(encode_into, encoded)
    else:
        for folder in sorted({job.path.parent for job, _ in made}):
            folder.mkdir(parents=True, exist_ok=True)
        remove_leftovers([job.path for job, _ in made])
        write = write_png
    report = run_faces(engine, [job for job, _ in made], plan.batch_size, labelers=labelers, progress=progress, write=write)
    result = PartResult(part, len(report.written), len(report.skipped), report.failed)
    if report.failed or report.cancelled:
        return result
    rows = [plan.row(index, job.recipe, offsets, report.labels.get(job.path, {})) for index, (job, offsets) in zip(plan.part_range(part), made)]
    if plan.shards:
        columns = plan.columns()
        write_shard(shard, [(job.path.stem, encoded[job.path], dict(zip(columns, row))) for (job, _), row in zip(made, rows)])
    sync_files()  # the images reach the disk before the rows that say they are there
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    atomic_write_text(plan.part_path(part), buffer.getvalue())
    return result


def encode_into(encoded: dict[Path, bytes], job: FaceJob, image: np.ndarray, latent: np.ndarray, resolution: int) -> None:
    """Keep a face's PNG (with its recipe inside) for its tar shard."""
    encoded[job.path] = png_bytes(image, recipe_text(job.recipe, latent, resolution, image.shape[0]))


def write_shard(path: Path, samples: Sequence[tuple[str, bytes, dict[str, Any]]]) -> Path:
    """A WebDataset-style tar: for each sample KEY.png and KEY.json (its metadata row)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for key, png, row in samples:
            for name, data in ((f"{key}.png", png), (f"{key}.json", json.dumps(row).encode())):
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o644, 0  # no time: the same bytes on every run
                tar.addfile(info, io.BytesIO(data))
    return atomic_write_bytes(path, buffer.getvalue(), durable=False)


def remove_leftovers(paths: Sequence[Path]) -> None:
    """Remove the temporary files a killed run left behind while writing these PNGs (an
    atomic write goes through `.NAME.*.part` beside NAME): never read, but they would stay."""
    names = {path.name for path in paths}
    for folder in {path.parent for path in paths}:
        for entry in folder.glob(".*.part"):
            if entry.name[1:].rsplit(".", 2)[0] in names:
                entry.unlink(missing_ok=True)


def claim_folder(plan: DatasetPlan) -> None:
    """Make the folder, or check that the data set in it was made with the same settings."""
    manifest = plan.folder / "dataset.json"
    identity = json.loads(json.dumps(plan.identity()))
    if manifest.is_file():
        try:
            existing = userjson.read(manifest, "data set manifest", SpecError, 2**20).get("identity")
        except (SpecError, AttributeError):
            existing = None
        if existing != identity:
            changed = sorted(key for key in identity if not isinstance(existing, dict) or existing.get(key) != identity[key])
            raise SpecError(
                f"{plan.folder} holds a data set made with other settings ({', '.join(changed) or 'unreadable dataset.json'}); "
                "choose another --out folder or remove that one"
            )
    (plan.folder / WORK).mkdir(parents=True, exist_ok=True)
    data = {"identity": identity, "count": plan.spec.count, "columns": plan.column_notes()}
    atomic_write_text(manifest, json.dumps(data, indent=1) + "\n")


def write_metadata(plan: DatasetPlan) -> Path:
    """metadata.csv from every part's rows, in face order."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(plan.columns())
    for part in range(plan.parts):
        buffer.write(plan.part_path(part).read_text())
    return atomic_write_bytes(plan.folder / "metadata.csv", buffer.getvalue().encode())


@dataclass
class DatasetReport:
    written: int = 0
    skipped: int = 0
    """Faces already there from an earlier run."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    metadata: Path | None = None
    """metadata.csv, when every face is there."""


def pending_parts(plan: DatasetPlan) -> list[int]:
    return [part for part in range(plan.parts) if not plan.part_done(part)]


def make_dataset(
    plan: DatasetPlan,
    engine: Engine,
    labelers: Sequence[Labeler] = (),
    progress: Progress | None = None,
    run_parts: Callable[[list[int], Progress], Iterable[PartResult]] | None = None,
) -> DatasetReport:
    """Every face of the plan not yet on disk, then metadata.csv. `run_parts` runs the parts
    elsewhere (a Ray cluster); by default they are run here, one after another."""
    claim_folder(plan)
    todo = pending_parts(plan)
    total = plan.spec.count
    finished = total - sum(len(plan.part_range(part)) for part in todo)
    report = DatasetReport(skipped=finished)
    report_progress = progress or (lambda done, total: None)
    report_progress(finished, total)

    def local(parts: list[int], progress: Progress) -> Iterable[PartResult]:
        base = finished
        for part in parts:
            yield run_part(plan, part, engine, labelers, lambda done, _: progress(base + done, total))
            base += len(plan.part_range(part))

    for result in (run_parts or local)(todo, report_progress):
        report.written += result.written
        report.skipped += result.skipped
        report.failed += result.failed
    if not report.failed and not pending_parts(plan):
        report.metadata = write_metadata(plan)
    return report
