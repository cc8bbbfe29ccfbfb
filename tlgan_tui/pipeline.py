"""The one batch pipeline: recipes -> faces on the generator's device -> PNGs encoded in a CPU
pool -> files written atomically (optionally labelled on the way).

`tlgan export` and the editor's export (`export_batch`) and `tlgan dataset` all run through
`run_faces`, and `tlgan dataset --label` and `tlgan discover` score faces with the same
`label_faces`. The generator renders batch k+1 while a thread pool resamples, encodes and writes
batch k (Pillow's resampler, PNG encoder and zlib hand back the GIL), so a GPU is kept busy, and
memory stays at two batches of images however many faces there are.

Two ways to render a batch. Export draws each face in a forward pass of its own
(`export.render_face`), so a face has exactly the pixels `tlgan render --recipe` gives for its
sidecar, whatever faces it was exported with (the float kernels of a batched pass depend on the
batch). Data sets render a batch in one pass, for throughput; their batches are fixed slices of
the job list, so a face is always rendered in the same company and its pixels are the same
whether or not a run was interrupted and resumed, and on every engine (local or Ray) that uses
the same batch size. Faces whose files are there already are not rendered again, unless they
are to be labelled or their batch's company is needed for the others.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from tlgan_tui.axes import AxisSet
from tlgan_tui.engine import Engine
from tlgan_tui.errors import TlganError
from tlgan_tui.export import check_size, face_filename, render_face, resample, sidecar_path, write_face
from tlgan_tui.fileio import check_writable_folder
from tlgan_tui.labelers import Labeler
from tlgan_tui.latent import stack_latents
from tlgan_tui.recipe import Recipe

LABEL_SIZE = 256
"""Faces are labelled at no more than this size (the labelers need no more; discovery does the same)."""

Progress = Callable[[int, int], None]
"""progress(done, total), in faces."""


@dataclass(frozen=True)
class FaceJob:
    """One face to write: its recipe and where its PNG goes."""

    recipe: Recipe
    path: Path
    origin: str = ""
    """Where the recipe came from ("marked face 3", "FILE:LINE"): a bad recipe is reported
    under it; a file that cannot be written, under its path."""
    sidecar: bool = True
    """Also write the recipe beside the PNG as OUT.json (the PNG always carries it inside)."""
    durable: bool = True
    """fsync each file; False where the caller syncs once after the batch (fileio.sync_files)."""

    def done(self) -> bool:
        """Whether an earlier run wrote it (files are only ever complete: they are renamed into place)."""
        return self.path.is_file() and (not self.sidecar or sidecar_path(self.path).is_file())


@dataclass
class PipelineReport:
    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    """Already there from an earlier run."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(which face, why) for faces that could not be rendered or written; the others go on."""
    labels: dict[Path, dict[str, float]] = field(default_factory=dict)
    """The labelers' scores of each face rendered, by PNG path."""
    cancelled: bool = False


Write = Callable[[FaceJob, np.ndarray, np.ndarray, int], object]
"""write(job, image, latent, resolution): runs in the pool for each face rendered (`resolution`:
the generator's own, which a resampled image's recipe text notes)."""


def write_png(job: FaceJob, image: np.ndarray, latent: np.ndarray, resolution: int | None = None) -> Path:
    """Encode one face and write it with its sidecar (both or neither), or alone."""
    return write_face(job.path, image, job.recipe, latent, resolution, job.durable, job.sidecar)


def label_faces(labelers: Sequence[Labeler], images: np.ndarray, size: int = LABEL_SIZE) -> dict[str, np.ndarray]:
    """Every labeler's scores of the faces, {attribute: (N,)}; faces larger than `size` are
    first brought down to it the way the generator resizes. Discovery labels its faces here too."""
    if images.shape[1] > size:
        pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float()
        pixels = F.interpolate(pixels, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        images = pixels.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    return {name: values for labeler in labelers for name, values in labeler(images).items()}


def export_jobs(recipes: Sequence[Recipe], folder: str | Path, origins: Sequence[str] | None = None) -> list[FaceJob]:
    """Faces to export into `folder`, each named by what it is (export.face_filename)."""
    origins = list(origins) if origins is not None else [f"marked face {n}" for n in range(1, len(recipes) + 1)]
    return [FaceJob(recipe, Path(folder) / face_filename(recipe), origin) for recipe, origin in zip(recipes, origins)]


def export_batch(
    engine: Engine,
    jobs: Sequence[FaceJob],
    batch_size: int = 16,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    size: int | None = None,
    axes: AxisSet | None = None,
) -> PipelineReport:
    """`tlgan export` and the editor's export: every face in a forward pass of its own (so it
    has the pixels of its sidecar rendered again), `batch_size` of them rendered while the
    previous ones are written, resampled to `size` when given. `axes`: the axis set the
    recipes' offsets refer to (a session's), when not the engine's."""
    return run_faces(engine, jobs, batch_size, workers, progress=progress, cancel=cancel, size=size, axes=axes, one_per_pass=True)


def run_faces(
    engine: Engine,
    jobs: Sequence[FaceJob],
    batch_size: int = 16,
    workers: int | None = None,
    labelers: Sequence[Labeler] = (),
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    write: Write = write_png,
    size: int | None = None,
    axes: AxisSet | None = None,
    one_per_pass: bool = False,
) -> PipelineReport:
    """Render, encode and write `jobs` in batches of `batch_size` (see the module's docstring).

    `write(job, image, latent, resolution)` runs in the pool for each face rendered: by default
    it writes the PNG (and sidecar) to `job.path`; tar shards collect the encoded PNGs instead.
    `size`: faces are resampled to size x size (Lanczos) in the pool before they are written.
    `axes`: the axis set the recipes' offsets refer to, when not the engine's. `one_per_pass`:
    each face in a forward pass of its own instead of the batch in one.

    A bad recipe or an unwritable file is recorded in the report and the rest go on. `cancel`
    stops between batches; files already begun are finished, so no partial file is left.
    """
    check_size(size)
    report = PipelineReport()
    total, done = len(jobs), 0
    if progress:
        progress(0, total)
    checked: set[Path] = set()
    resolution = engine.generator.resolution
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        writing: list[tuple[FaceJob, Future | None]] = []  # the previous batch, written while this one renders
        for start in range(0, total, batch_size):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            batch = jobs[start : start + batch_size]
            if labelers:
                drawn = batch
            elif one_per_pass:  # a face drawn alone needs no company: only the missing ones
                drawn = [job for job in batch if not job.done()]
            else:  # a batched pass draws the whole batch again, or none of it
                drawn = [] if all(job.done() for job in batch) else batch
            todo, latents, images = _render(engine, drawn, checked, report, axes, one_per_pass)
            if labelers and todo:
                scores = label_faces(labelers, images)
                for i, job in enumerate(todo):
                    report.labels[job.path] = {name: float(values[i]) for name, values in scores.items()}
            done = _finish(report, writing, done, total, progress)
            rendering = {id(job) for job in todo}
            writing = [(job, None) for job in batch if id(job) not in rendering and job.done()]
            writing += [
                (job, None if job.done() else pool.submit(_encode, write, job, image, latent, size, resolution))
                for job, latent, image in zip(todo, latents, images)
            ]
            done += len(batch) - len(writing)  # the faces that failed before rendering
        _finish(report, writing, done, total, progress)
    return report


def _encode(write: Write, job: FaceJob, image: np.ndarray, latent: np.ndarray, size: int | None, resolution: int) -> object:
    """One face's CPU work, in the pool: resampled when asked, then written."""
    return write(job, resample(image, size), latent, resolution)


def _render(
    engine: Engine, batch: Sequence[FaceJob], checked: set[Path], report: PipelineReport, axes: AxisSet | None, one_per_pass: bool
) -> tuple[list[FaceJob], Sequence[np.ndarray], np.ndarray]:
    """The batch's valid jobs, their latents and images; a job whose recipe is bad goes to the
    report under its origin, one whose folder cannot be written under its path."""
    todo, latents = [], []
    for job in batch:
        try:
            latent = engine.latent(job.recipe, axes)  # refuses a recipe for another generator or axis set
        except TlganError as error:
            report.failed.append((job.origin or str(job.path), str(error)))
            continue
        try:
            if job.path.parent not in checked:
                check_writable_folder(job.path)
                checked.add(job.path.parent)
        except TlganError as error:
            report.failed.append((str(job.path), str(error)))
            continue
        todo.append(job)
        latents.append(latent)
    if not todo:
        return [], [], np.empty((0, 0, 0, 3), np.uint8)
    if one_per_pass:
        return todo, latents, np.stack([render_face(engine, latent) for latent in latents])
    stacked = stack_latents(latents)
    return todo, stacked, engine.generator.synthesize(stacked, batch_size=len(todo))


def _finish(report: PipelineReport, writing: Iterable[tuple[FaceJob, Future | None]], done: int, total: int, progress: Progress | None) -> int:
    for job, future in writing:
        done += 1
        if future is None:
            report.skipped.append(job.path)
        else:
            try:
                future.result()
                report.written.append(job.path)
            except TlganError as error:
                report.failed.append((str(job.path), str(error)))
        if progress:
            progress(done, total)
    return done
