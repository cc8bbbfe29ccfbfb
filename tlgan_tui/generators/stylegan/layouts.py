"""StyleGAN weight files tlgan reads, each translated to this project's own networks.

A layout is a table from our network's state-dict keys to the file's, with the transform beside
each row; shapes come from our network built for the file's configuration and are checked key
by key once. Files read:

- NVIDIA snapshot pickles of StyleGAN2-ADA and StyleGAN3 (`*.pkl`), read by
  stylegan.snapshot's restricted unpickler: `G_ema` only. StyleGAN2 is told apart from StyleGAN3
  by content (`synthesis.b4.const` against `synthesis.input.freqs`).
- rosinality/stylegan2-pytorch `.pt` files (`g_ema` + `latent_avg`), read weights-only: see
  stylegan.rosinality for the (exact) mapping.
- tlgan's own safetensors (`tlgan convert`): our state dict in float32 with the configuration
  as JSON in the metadata (format `tlgan-stylegan/1`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes

from tlgan_tui.errors import CheckpointError
from tlgan_tui.fileio import atomic_write_bytes
from tlgan_tui.generators.checkpoint import read_checkpoint
from tlgan_tui.generators.stylegan.ops import lowpass_2d
from tlgan_tui.generators.stylegan.sg2 import RESAMPLE_TAPS, SG2Config, StyleGAN2
from tlgan_tui.generators.stylegan.snapshot import Record, snapshot_generator
from tlgan_tui.safe_text import quoted, shown

if TYPE_CHECKING:
    from tlgan_tui.generators.stylegan.discriminator_files import DiscriminatorCheckpoint

FORMAT = "tlgan-stylegan/1"
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
LAYOUTS_READ = (
    "NVIDIA StyleGAN2-ADA or StyleGAN3 snapshot pickles (network-snapshot-*.pkl, stylegan2-ffhq-1024x1024.pkl, ...), "
    f"rosinality stylegan2-pytorch .pt (g_ema + latent_avg), tlgan safetensors ({FORMAT})"
)
MAX_MAPPING_LAYERS = 32
DISCRIMINATOR_PREFIX = "discriminator."
"""Where tlgan's safetensors keep a discriminator's tensors (its configuration: the metadata's
"discriminator"); stylegan.discriminator_files reads them."""


@dataclass(frozen=True)
class Row:
    """Our key (a regular expression) -> the file's key (a template over its groups and `res`,
    the resolution of the block the key belongs to), and the transform between them."""

    ours: str
    theirs: str
    transform: Callable[[torch.Tensor], torch.Tensor] = lambda tensor: tensor


SG2_NVIDIA = (
    Row(r"mapping\.fc\.(\d+)\.(weight|bias)", r"mapping.fc{1}.{2}"),
    Row(r"mapping\.w_avg", "mapping.w_avg"),
    Row(r"synthesis\.const", "synthesis.b4.const"),
    Row(r"synthesis\.blocks\.(\d+)\.(conv0|conv1)\.noise", "synthesis.b{res}.{2}.noise_const"),
    Row(r"synthesis\.blocks\.(\d+)\.(.+)", "synthesis.b{res}.{2}"),
)
SG3_NVIDIA = (
    Row(r"mapping\.fc\.(\d+)\.(weight|bias)", r"mapping.fc{1}.{2}"),
    Row(r"mapping\.w_avg", "mapping.w_avg"),
    Row(r"synthesis\.input\.(.+)", "synthesis.input.{1}"),
    Row(r"synthesis\.layers\.(\d+)\.(.+)", "synthesis.{name}.{2}"),
)


@dataclass
class StyleGANCheckpoint:
    kind: str
    """"stylegan2" or "stylegan3"."""
    config: Any
    state: dict[str, torch.Tensor]
    """Our network's state dict, float32."""
    source: str
    generator_id: str

    @property
    def resolution(self) -> int:
        return self.config.resolution

    @property
    def title(self) -> str:
        return f"{'StyleGAN2' if self.kind == 'stylegan2' else 'StyleGAN3'} {self.config.resolution}x{self.config.resolution}"

    def network(self) -> torch.nn.Module:
        network = build_network(self.kind, self.config)
        network.load_state_dict(self.state)
        return network.eval().requires_grad_(False)


def build_network(kind: str, config: Any) -> torch.nn.Module:
    if kind == "stylegan2":
        return StyleGAN2(config)
    from tlgan_tui.generators.stylegan.sg3 import StyleGAN3

    return StyleGAN3(config)


def read_stylegan(path: str | Path) -> StyleGANCheckpoint:
    """Read a StyleGAN generator from any layout above, or say why it is not one."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        return _from_tlgan(path)
    with path.open("rb") as file:
        head = file.read(2)
    if head in PICKLE_MAGIC:
        return _from_snapshot(path)
    if head == b"PK":
        if _zip_mentions(path, b"g_ema"):
            return _from_rosinality(path)
        contents = read_checkpoint(path)
        keys = shown(", ".join(sorted(map(str, contents))[:6])) if isinstance(contents, dict) else type(contents).__name__
        raise CheckpointError(f"{path} is a torch.save checkpoint ({keys}), not a StyleGAN layout tlgan reads ({LAYOUTS_READ})")
    raise CheckpointError(f"{path} is neither a pickle nor safetensors: not a StyleGAN layout tlgan reads ({LAYOUTS_READ})")


def write_tlgan(checkpoint: StyleGANCheckpoint, path: str | Path, discriminator: DiscriminatorCheckpoint | None = None) -> Path:
    """Write a generator (and its discriminator, when given) in tlgan's own safetensors layout,
    atomically (lossless: float32 as read)."""
    metadata = {
        "format": FORMAT,
        "kind": checkpoint.kind,
        "config": json.dumps(checkpoint.config.to_dict()),
        "generator_id": checkpoint.generator_id,
        "source": checkpoint.source,
    }
    state = {key: value.contiguous() for key, value in checkpoint.state.items()}
    if discriminator is not None:
        metadata["discriminator"] = json.dumps(discriminator.config.to_dict())
        state.update({DISCRIMINATOR_PREFIX + key: value.contiguous() for key, value in discriminator.state.items()})
    return atomic_write_bytes(path, safetensors_bytes(state, metadata=metadata))


def convert_stylegan(source: str | Path, out: str | Path) -> tuple[StyleGANCheckpoint, str]:
    """Read a StyleGAN generator in any layout and write it as tlgan safetensors, with its
    discriminator where the source has one tlgan reads (projection uses its features). Returns
    the generator and what became of the discriminator, in words."""
    from tlgan_tui.generators.stylegan.discriminator_files import read_discriminator

    checkpoint = read_stylegan(source)
    try:
        discriminator = read_discriminator(source)
        kept = "with its discriminator" if discriminator is not None else "without a discriminator (the source has none tlgan reads)"
    except CheckpointError as error:
        # The generator is sound and is what convert is for; the discriminator is optional.
        discriminator, kept = None, f"without its discriminator ({error})"
    write_tlgan(checkpoint, out, discriminator)
    return checkpoint, kept


def is_stylegan_file(path: str | Path) -> bool:
    """Whether a file is in a StyleGAN layout (a snapshot pickle or tlgan's StyleGAN safetensors),
    judged by its first bytes and metadata only."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            head = file.read(2)
        if head in PICKLE_MAGIC:
            return True
        if head == b"PK":
            return _zip_mentions(path, b"g_ema")
        if path.suffix == ".safetensors":
            with safe_open(str(path), framework="pt") as file:
                return (file.metadata() or {}).get("format") == FORMAT
    except (OSError, SafetensorError, ValueError):
        return False
    return False


# -- NVIDIA snapshots ---------------------------------------------------------------------------


def _from_snapshot(path: Path) -> StyleGANCheckpoint:
    record = snapshot_generator(path)
    tensors = record.tensors()
    kwargs = record.init_kwargs
    c_dim = kwargs.get("c_dim", 0)
    if "mapping.embed.weight" in tensors or (isinstance(c_dim, int) and c_dim > 0):
        raise CheckpointError(f"{path} is a conditional (class-label) StyleGAN with {shown(c_dim, 20)} classes; tlgan edits unconditional models only")
    if "synthesis.b4.const" in tensors:
        config = _sg2_config(record, tensors, path)
        return _translated("stylegan2", config, tensors, SG2_NVIDIA, f"NVIDIA StyleGAN2-ADA snapshot, G_ema of {record.class_name or 'Generator'}", path)
    if "synthesis.input.freqs" in tensors:
        from tlgan_tui.generators.stylegan.sg3 import sg3_config

        config = sg3_config(record, tensors, path)
        return _translated("stylegan3", config, tensors, SG3_NVIDIA, f"NVIDIA StyleGAN3 snapshot, G_ema of {record.class_name or 'Generator'}", path)
    raise CheckpointError(f"{path}: G_ema has neither synthesis.b4.const (StyleGAN2) nor synthesis.input.freqs (StyleGAN3); keys: {_few(tensors)}")


def _sg2_config(record: Record, tensors: dict[str, torch.Tensor], path: Path) -> SG2Config:
    fcs = sorted(int(m.group(1)) for key in tensors if (m := re.fullmatch(r"mapping\.fc(\d+)\.weight", key)))
    blocks = sorted(int(m.group(1)) for key in tensors if (m := re.fullmatch(r"synthesis\.b(\d+)\.conv1\.weight", key)))
    if not fcs or fcs != list(range(len(fcs))) or len(fcs) > MAX_MAPPING_LAYERS:
        raise CheckpointError(f"{path}: the mapping network's layers are not fc0..fcN ({_few(tensors, 'mapping.')})")
    if not blocks or blocks != [4 * 2**k for k in range(len(blocks))] or blocks[-1] > 4096:
        raise CheckpointError(f"{path}: the synthesis blocks are not b4, b8, ... up to a power of two ({blocks})")
    synthesis = record.find("synthesis")
    for res in blocks:
        block = synthesis.modules.get(f"b{res}")
        architecture = block.state.get("architecture", "skip") if block else "skip"
        if architecture != "skip":
            raise CheckpointError(f"{path}: block b{res} uses the {quoted(architecture, 40)} architecture; tlgan reads StyleGAN2's 'skip' generator (config F) only")
    layer = synthesis.find("b4.conv1")
    if layer.state.get("activation", "lrelu") != "lrelu":
        raise CheckpointError(f"{path}: the synthesis layers use {quoted(layer.state.get('activation'), 40)}; tlgan implements lrelu only")
    fc0 = record.find("mapping.fc0")
    lr = fc0.state.get("bias_gain", record.init_kwargs.get("mapping_kwargs", {}).get("lr_multiplier", 0.01))
    clamp = layer.state.get("conv_clamp")
    first = tensors["mapping.fc0.weight"]
    return SG2Config(
        z_dim=int(first.shape[1]),
        w_dim=int(tensors[f"mapping.fc{fcs[-1]}.weight"].shape[0]),
        resolution=blocks[-1],
        channels=tuple(int(tensors[f"synthesis.b{res}.conv1.weight"].shape[0]) for res in blocks),
        mapping_layers=len(fcs),
        mapping_features=int(first.shape[0]) if len(fcs) > 1 else None,
        mapping_lr=_number(lr, "the mapping network's learning-rate multiplier", path),
        conv_clamp=None if clamp is None else _number(clamp, "conv_clamp", path),
        use_noise="synthesis.b4.conv1.noise_const" in tensors,
        img_channels=int(tensors["synthesis.b4.torgb.weight"].shape[0]) if "synthesis.b4.torgb.weight" in tensors else 3,
    )


def _translated(
    kind: str, config: Any, theirs: dict[str, torch.Tensor], layout: tuple[Row, ...], source: str, path: Path, fields: Callable[[tuple], dict] | None = None
) -> StyleGANCheckpoint:
    """Our state dict from the file's through the layout table, every key and shape checked.
    `fields` gives a layout's own template fields from a key's groups."""
    ours = build_network(kind, config).state_dict()
    state: dict[str, torch.Tensor] = {}
    used = set()
    problems = []
    for key, expected in ours.items():
        their_key, transform = _their_key(key, layout, config, fields)
        value = theirs.get(their_key)
        if value is None:
            problems.append(f"missing {shown(their_key)}")
            continue
        value = transform(value.float())
        if tuple(value.shape) != tuple(expected.shape):
            problems.append(f"{shown(their_key)} is {tuple(value.shape)}, expected {tuple(expected.shape)}")
            continue
        state[key] = value.contiguous()
        used.add(their_key)
    check_resample_filters(theirs, path)
    if problems:
        raise CheckpointError(f"{path} does not match the {config.resolution} px {kind} its keys describe: {'; '.join(problems[:4])}")
    unknown = [key for key in theirs if key not in used and not key.endswith(IGNORED_SUFFIXES)]
    if unknown:
        raise CheckpointError(f"{path}: G_ema has tensors this {kind} reader does not know ({shown(', '.join(unknown[:4]))}); it may be a variant tlgan does not implement")
    return StyleGANCheckpoint(kind, config, state, source, _generator_id(kind, config, state))


IGNORED_SUFFIXES = ("resample_filter", "up_filter", "down_filter", ".kernel")
"""Filters stored beside the layers: StyleGAN2's (NVIDIA's resample_filter, rosinality's blur and
upsample kernels) are the fixed [1,3,3,1] (checked); StyleGAN3's are read by its config reader."""


def check_resample_filters(theirs: dict[str, torch.Tensor], path: Path) -> None:
    expected = lowpass_2d(torch.tensor(RESAMPLE_TAPS))
    for key, value in theirs.items():
        if not key.endswith(("resample_filter", ".kernel")):
            continue
        total = float(value.float().sum()) if value.numel() else 0.0
        if value.shape != expected.shape or total == 0 or not torch.allclose(value.float() / total, expected, atol=1e-6):
            raise CheckpointError(f"{path}: {shown(key)} is not StyleGAN2's [1,3,3,1] filter; tlgan does not implement other resampling filters")


def _their_key(key: str, layout: tuple[Row, ...], config: Any, fields: Callable[[tuple], dict] | None) -> tuple[str, Callable[[torch.Tensor], torch.Tensor]]:
    for row in layout:
        match = re.fullmatch(row.ours, key)
        if match:
            groups = match.groups()
            index = int(groups[0]) if groups and groups[0].isdigit() else None
            res = 4 * 2**index if "{res}" in row.theirs and index is not None else None
            name = config.layers[index].name if "{name}" in row.theirs and index is not None else None
            extra = fields(groups) if fields is not None and groups else {}
            return row.theirs.format(None, *groups, res=res, name=name, **extra), row.transform
    raise AssertionError(f"layout table has no row for {key}")  # a bug in the table, not in the file


def _generator_id(kind: str, config: Any, state: dict[str, torch.Tensor]) -> str:
    """Names the model by its weights: the same in every file format it is stored in."""
    digest = hashlib.sha256(f"{kind}\0{json.dumps(config.to_dict(), sort_keys=True)}\0".encode())
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].float().contiguous().numpy().tobytes())
    return f"{kind}-{config.resolution}-{digest.hexdigest()[:12]}"


def _number(value: Any, what: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < float(value) < 1e6):
        raise CheckpointError(f"{path}: {what} is {str(value)[:40]!r}, not a positive number")
    return float(value)


def _few(tensors: dict[str, Any], prefix: str = "") -> str:
    keys = [key for key in tensors if key.startswith(prefix)]
    return shown(", ".join(keys[:5])) + (f", ... ({len(keys)} keys)" if len(keys) > 5 else "")


# -- rosinality .pt ------------------------------------------------------------------------------


def _zip_mentions(path: Path, name: bytes) -> bool:
    """Whether a torch.save zip's pickle names `name` (read as bytes, never unpickled)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [info for info in archive.infolist() if info.filename.endswith("data.pkl") and info.file_size < 64 * 2**20]
            return any(name in archive.read(info) for info in pickles)
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _from_rosinality(path: Path) -> StyleGANCheckpoint:
    from tlgan_tui.generators.stylegan.rosinality import read_rosinality_file, rosinality_config, rosinality_rows, row_fields

    tensors = read_rosinality_file(path)
    config = rosinality_config(tensors, path)
    return _translated("stylegan2", config, tensors, rosinality_rows(), "rosinality stylegan2-pytorch checkpoint, g_ema", path, row_fields)


# -- tlgan's own safetensors --------------------------------------------------------------------


def _from_tlgan(path: Path) -> StyleGANCheckpoint:
    try:
        with safe_open(str(path), framework="pt") as file:
            metadata = file.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is not a readable safetensors file ({error})") from error
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a safetensors file of format {quoted(metadata.get('format'), 60)}, not {FORMAT!r} (made by `tlgan convert` from a StyleGAN snapshot)")
    kind = metadata.get("kind")
    try:
        fields = json.loads(metadata["config"])
        if kind == "stylegan2":
            config = SG2Config(**{**fields, "channels": tuple(fields["channels"])})
        elif kind == "stylegan3":
            from tlgan_tui.generators.stylegan.sg3 import SG3Config

            config = SG3Config.from_dict(fields)
        else:
            raise ValueError(f"kind {kind!r}")
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: its {FORMAT} metadata is malformed ({type(error).__name__}: {shown(error)})") from error
    state = {key: value for key, value in read_checkpoint(path).items() if not key.startswith(DISCRIMINATOR_PREFIX)}
    expected = build_network(kind, config).state_dict()
    problems = [key for key in expected if key not in state or tuple(state[key].shape) != tuple(expected[key].shape)]
    extra = [key for key in state if key not in expected]
    if problems or extra:
        raise CheckpointError(f"{path} does not match its own configuration: {shown(', '.join((problems + extra)[:4]))}")
    return StyleGANCheckpoint(kind, config, {key: state[key].float() for key in expected}, f"tlgan safetensors ({shown(metadata.get('source', 'converted'), 120)})", _generator_id(kind, config, state))
