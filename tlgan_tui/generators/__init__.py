"""Face generators behind one interface (base.Generator)."""

from __future__ import annotations

from tlgan_tui.errors import CheckpointError, DeviceError, TlganError
from typing import TYPE_CHECKING

from tlgan_tui.generators.base import Generator, Identity, resolve_device

if TYPE_CHECKING:
    from tlgan_tui.generators.pggan import PGGANCheckpoint

KINDS = ("default", "dcgan", "pggan", "stylegan")


def load_generator(
    kind: str = "default",
    weights: str | None = None,
    device: str = "auto",
    precision: str = "auto",
    truncation: float | None = None,
    as_model: str | None = None,
) -> Generator:
    """The generator of a kind, on a device (`auto`, `cpu`, `cuda`), in a precision (`auto`,
    `fp32`, `fp16`, `bf16`; see generators.precision); `truncation` is StyleGAN's psi for new
    faces (None: its default, 0.7); `as_model` a published pg-GAN id the weights open as
    (refused when their network is another; None: as the user adopted them, else by the
    weights' fingerprint)."""
    if truncation is not None and kind != "stylegan":
        raise TlganError(f"--truncation applies to --generator stylegan only, not {kind}")
    if as_model is not None and kind != "pggan":
        raise TlganError(f"--as-model names a published pg-GAN; it applies to --generator pggan only, not {kind}")
    torch_device = resolve_device(device)
    if kind in ("default", "dcgan"):
        from tlgan_tui.generators.dcgan import DCGANGenerator

        if precision not in ("auto", "fp32"):
            raise DeviceError(f"--precision {precision}: the default generator runs in fp32 only (it takes 3 ms per face)")
        try:
            return DCGANGenerator(weights, torch_device)
        except CheckpointError as error:
            if weights is None:
                raise
            raise CheckpointError(f"{error} (for a pg-GAN checkpoint add --generator pggan)") from error
    if kind == "pggan":
        from tlgan_tui.generators.pggan import PGGANGenerator
        from tlgan_tui.generators.pggan_formats import LAYOUTS_READ, read_pggan

        if weights is None:
            raise CheckpointError(f"--generator pggan needs --weights FILE: a pg-GAN checkpoint in one of these layouts: {LAYOUTS_READ}")
        checkpoint = read_pggan(weights)
        return PGGANGenerator(checkpoint, torch_device, precision, pggan_identity(checkpoint, as_model))
    if kind == "stylegan":
        from tlgan_tui.generators.stylegan.generator import DEFAULT_TRUNCATION, StyleGANGenerator
        from tlgan_tui.generators.stylegan.layouts import LAYOUTS_READ as STYLEGAN_LAYOUTS

        if weights is None:
            raise CheckpointError(f"--generator stylegan needs --weights FILE: {STYLEGAN_LAYOUTS}")
        return StyleGANGenerator(weights, torch_device, precision, DEFAULT_TRUNCATION if truncation is None else truncation)
    raise TlganError(f"unknown generator {kind!r}; choose one of {', '.join(KINDS)}")


def pggan_identity(checkpoint: PGGANCheckpoint, as_model: str | None = None) -> Identity:
    """The id a pg-GAN checkpoint opens as (see tlgan_tui/adoptions.py)."""
    from tlgan_tui.adoptions import resolve

    where = str(checkpoint.path) if checkpoint.path is not None else checkpoint.title
    return resolve(checkpoint.generator_id, checkpoint.fingerprint, checkpoint.latent_dim, checkpoint.channels, where, as_model)


__all__ = ["Generator", "Identity", "KINDS", "load_generator", "pggan_identity", "resolve_device"]
