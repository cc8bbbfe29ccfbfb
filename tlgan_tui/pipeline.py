"""The one batch pipeline: recipes -> faces on the generator's device -> PNGs encoded in a CPU
pool -> files written atomically (optionally labelled on the way).

`tlgan dataset` runs through `run_faces`, and `tlgan dataset --label` and `tlgan discover`
score faces with the same `label_faces`. The generator renders batch k+1 while a thread pool
encodes and writes batch k (Pillow's PNG encoder and zlib hand back the GIL), so a GPU is kept
busy, and memory stays at two batches of images however many faces there are.

Batches are fixed slices of the job list: a face is always rendered in the same company, so its
pixels are the same whether or not a run was interrupted and resumed, and on every engine (local
or Ray) that uses the same batch size. A batch whose files are all there already is not
rendered again, unless its faces are to be labelled.
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

from tlgan_tui.engine import Engine
from tlgan_tui.errors import TlganError
from tlgan_tui.export import png_bytes, sidecar_path
from tlgan_tui.fileio import atomic_write_bytes, check_writable_folder
from tlgan_tui.labelers import Labeler
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


def write_png(job: FaceJob, image: np.ndarray, latent: np.ndarray) -> Path:
    """Encode one face and write it (and its sidecar), each file atomically."""
    recipe_json = job.recipe.to_json(latent)
    png = atomic_write_bytes(job.path, png_bytes(image, recipe_json), job.durable)
    if job.sidecar:
        atomic_write_bytes(sidecar_path(job.path), recipe_json.encode(), job.durable)
    return png


def label_faces(labelers: Sequence[Labeler], images: np.ndarray, size: int = LABEL_SIZE) -> dict[str, np.ndarray]:
    """Every labeler's scores of the faces, {attribute: (N,)}; faces larger than `size` are
    first brought down to it the way the generator resizes. Discovery labels its faces here too."""
    if images.shape[1] > size:
        pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float()
        pixels = F.interpolate(pixels, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        images = pixels.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    return {name: values for labeler in labelers for name, values in labeler(images).items()}


def run_faces(
    engine: Engine,
    jobs: Sequence[FaceJob],
    batch_size: int = 16,
    workers: int | None = None,
    labelers: Sequence[Labeler] = (),
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    write: Callable[[FaceJob, np.ndarray, np.ndarray], object] = write_png,
) -> PipelineReport:
    """Render, encode and write `jobs` in batches of `batch_size` (see the module's docstring).

    `write(job, image, latent)` runs in the pool for each face rendered: by default it writes
    the PNG (and sidecar) to `job.path`; tar shards collect the encoded PNGs instead.

    A bad recipe or an unwritable file is recorded in the report and the rest go on. `cancel`
    stops between batches; files already begun are finished, so no partial file is left.
    """
    report = PipelineReport()
    total, done = len(jobs), 0
    if progress:
        progress(0, total)
    checked: set[Path] = set()
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        writing: list[tuple[FaceJob, Future | None]] = []  # the previous batch, written while this one renders
        for start in range(0, total, batch_size):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            batch = jobs[start : start + batch_size]
            if not labelers and all(job.done() for job in batch):
                todo, latents, images = [], None, None
            else:
                todo, latents, images = _render(engine, batch, checked, report)
            if labelers and todo:
                scores = label_faces(labelers, images)
                for i, job in enumerate(todo):
                    report.labels[job.path] = {name: float(values[i]) for name, values in scores.items()}
            done = _finish(report, writing, done, total, progress)
            rendering = {id(job) for job in todo}
            writing = [(job, None) for job in batch if id(job) not in rendering and job.done()]
            if todo:
                writing += [(job, None if job.done() else pool.submit(write, job, image, latent)) for job, latent, image in zip(todo, latents, images)]
            done += len(batch) - len(writing)  # the faces that failed before rendering
        _finish(report, writing, done, total, progress)
    return report


def _render(engine: Engine, batch: Sequence[FaceJob], checked: set[Path], report: PipelineReport) -> tuple[list[FaceJob], np.ndarray | None, np.ndarray | None]:
    """The batch's valid jobs, their latents and images; a job whose recipe or folder is bad
    goes to the report instead."""
    todo = []
    for job in batch:
        try:
            folder = job.path.parent
            if folder not in checked:
                check_writable_folder(job.path)
                checked.add(folder)
            engine.latents([job.recipe])  # refuses a recipe for another generator or axis set
            todo.append(job)
        except TlganError as error:
            report.failed.append((str(job.path), str(error)))
    if not todo:
        return [], None, None
    latents = engine.latents([job.recipe for job in todo])
    return todo, latents, engine.generator.synthesize(latents, batch_size=len(todo))


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
