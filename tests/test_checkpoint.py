"""checkpoint.py as other loaders use it: a file's structure without its data, shapes checked
against a network built on the meta device, then only the tensors asked for are read."""

import collections
import io
import pickle
import struct

import pytest
import torch
from torch import nn

from tests.pggan_layouts import SMALL_32, genforce_state, save_zoo
from tlgan_tui.errors import CheckpointError
from tlgan_tui.generators.checkpoint import PlainConfig, TensorRef, check_shapes, module_shapes, open_weights, read_checkpoint, tensor_refs
from tlgan_tui.generators.pggan_formats import read_pggan


class Tiny(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.register_buffer("scale", torch.ones(()))


def saved(path, obj, **kwargs):
    torch.save(obj, path, **kwargs)
    return path


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_file_opens_as_refs_and_reads_exactly_what_was_saved(tmp_path, legacy):
    weights = {"conv.weight": torch.randn(8, 3, 3, 3), "conv.bias": torch.randn(8).half(), "scale": torch.tensor(2.0)}
    weights["view"] = weights["conv.weight"][:, 1]  # shares the first tensor's storage
    opened = open_weights(saved(tmp_path / "w.pth", weights, _use_new_zipfile_serialization=not legacy))
    refs = tensor_refs(opened.contents)
    assert {key: ref.shape for key, ref in refs.items()} == {key: tuple(value.shape) for key, value in weights.items()}
    loaded = opened.load(refs)
    for key, value in weights.items():
        assert loaded[key].dtype == value.dtype and torch.equal(loaded[key], value)


def test_shapes_are_checked_against_a_module_built_on_the_meta_device(tmp_path):
    with torch.device("meta"):
        expected = module_shapes(Tiny(width=8))
    assert expected == {"conv.weight": (8, 3, 3, 3), "conv.bias": (8,), "scale": ()}
    opened = open_weights(saved(tmp_path / "w.pth", Tiny(width=4).state_dict()))
    with pytest.raises(CheckpointError) as error:
        check_shapes(opened.contents, expected, label="Tiny", path=opened.path)
    assert "conv.weight has shape [4, 3, 3, 3], expected [8, 3, 3, 3]" in str(error.value) and "Tiny layout" in str(error.value)
    good = open_weights(saved(tmp_path / "good.pth", Tiny(width=8).state_dict()))
    check_shapes(good.contents, expected, label="Tiny", path=good.path)


def test_read_checkpoint_reads_the_tensors_of_a_state_dict_and_leaves_plain_data(tmp_path):
    path = saved(tmp_path / "w.pth", {"netG_state_dict": {"main.0.weight": torch.ones(2, 2)}, "epoch": 7})
    contents = read_checkpoint(path)
    assert contents["epoch"] == 7 and torch.equal(contents["netG_state_dict"]["main.0.weight"], torch.ones(2, 2))


def test_attributes_pickled_on_a_state_dict_cannot_shadow_its_methods(tmp_path):
    class Shadowing(collections.OrderedDict):
        def __reduce__(self):
            return collections.OrderedDict, (), {"items": "not a method", "get": 3}, None, iter(list(dict.items(self)))

    path = saved(tmp_path / "shadow.pth", Shadowing(genforce_state(SMALL_32, 32, 0)))
    assert read_pggan(path).channels == SMALL_32


def test_the_zoo_config_is_plain_data(tmp_path):
    config = open_weights(save_zoo(tmp_path / "zoo.pth", alpha=0.5)).contents["config"]
    assert isinstance(config, PlainConfig) and config.fields["alpha"] == 0.5 and config.fields["depthOtherScales"] == [16, 12, 8]


def test_a_memo_index_no_pickler_writes_is_refused_before_the_unpickler_sizes_its_table(tmp_path):
    # LONG_BINPUT 2**31 - 1: the C unpickler would grow its memo table to 2**32 slots (32 GB)
    path = tmp_path / "memo.pth"
    path.write_bytes(b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19." + b"\x80\x02]r\xff\xff\xff\x7f.")
    with pytest.raises(CheckpointError, match="memo index"):
        open_weights(path)


class _Storage:
    """Pickles as a persistent id naming a float storage of `numel` elements."""

    def __init__(self, numel):
        self.numel = numel


class _Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, shape

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, (self.storage, 0, self.shape, (1,), False, collections.OrderedDict())


def legacy_file(numel_declared: int, data: bytes) -> bytes:
    """torch's pre-1.6 format by hand: magic, protocol, system info, the object, storage keys,
    then the storage as an int64 count and its bytes."""

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", obj.numel, None) if isinstance(obj, _Storage) else None

    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)
    Pickler(out, protocol=2).dump({"weight": _Tensor(_Storage(numel_declared), (numel_declared,))})
    pickle.dump(["0"], out, protocol=2)
    out.write(struct.pack("<q", numel_declared) + data)
    return out.getvalue()


def test_a_legacy_file_declaring_more_data_than_it_holds_is_refused_before_reading(tmp_path):
    good = tmp_path / "good.pth"
    good.write_bytes(legacy_file(3, struct.pack("<3f", 1, 2, 3)))
    opened = open_weights(good)
    assert torch.equal(opened.load(tensor_refs(opened.contents))["weight"], torch.tensor([1.0, 2.0, 3.0]))
    huge = tmp_path / "huge.pth"
    huge.write_bytes(legacy_file(10**10, struct.pack("<3f", 1, 2, 3)))  # claims 40 GB
    with pytest.raises(CheckpointError, match="is truncated: its tensors need 37.3 GB"):
        open_weights(huge)


def test_a_tensor_reaching_past_its_storage_is_refused(tmp_path):
    path = tmp_path / "past.pth"
    data = legacy_file(3, struct.pack("<3f", 1, 2, 3)).replace(b"K\x03\x85", b"K\x09\x85")  # shape (9,) on 3 floats
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match="reaches past the end of its storage"):
        open_weights(path)


def test_refs_hold_no_data_until_loaded(tmp_path):
    opened = open_weights(saved(tmp_path / "w.pth", {"a": torch.ones(1000)}))
    ref = opened.contents["a"]
    assert isinstance(ref, TensorRef) and ref.nbytes == 4000 and not hasattr(ref, "data")
