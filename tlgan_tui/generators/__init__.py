"""Face generators behind one interface (base.Generator)."""

from __future__ import annotations

from tlgan_tui.errors import TlganError
from tlgan_tui.generators.base import Generator, resolve_device

KINDS = ("default", "dcgan")


def load_generator(kind: str = "default", weights: str | None = None, device: str = "auto") -> Generator:
    """The generator of a kind, on a device (`auto`, `cpu`, `cuda`)."""
    torch_device = resolve_device(device)
    if kind in ("default", "dcgan"):
        from tlgan_tui.generators.dcgan import DCGANGenerator

        return DCGANGenerator(weights, torch_device)
    raise TlganError(f"unknown generator {kind!r}; choose one of {', '.join(KINDS)}")


__all__ = ["Generator", "KINDS", "load_generator", "resolve_device"]
