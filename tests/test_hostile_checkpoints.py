"""Weights files written to hurt: each is refused in one line with exit code 2, quickly, without
spending memory on what it claims, and nothing it holds reaches the terminal unescaped."""

import collections
import copyreg
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import torch

from tests.pggan_layouts import SMALL_32, genforce_state, save_interfacegan, save_zoo, zoo_config_class, zoo_state
from tlgan_tui.cli import main
from tlgan_tui.generators.pggan_formats import read_pggan, write_tlgan

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    # convert only rewrites a file: it takes no model options.
    code = main([*argv] if argv[0] == "convert" else [*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, path: Path, command: str = "info") -> str:
    """The one line `tlgan info` (or render, convert) prints for `path`, asserting exit code 2."""
    if command == "convert":
        code, _, err = run(capsys, "convert", str(path), str(path.with_name("out.safetensors")))
        assert not path.with_name("out.safetensors").exists()
    elif command == "render":
        code, _, err = run(capsys, "--generator", "pggan", "--weights", str(path), "render", "--seed", "1", "-o", str(path.with_name("face.png")))
        assert not path.with_name("face.png").exists()
    else:
        code, _, err = run(capsys, "info", "--generator", "pggan", "--weights", str(path))
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "internal error" not in err and "Traceback" not in err
    return err


# -- objects a weights-only reader must not build ------------------------------------------------


class Reduced:
    """Pickles as a call, `target(*args)` (REDUCE), then `state` set on the result (BUILD); with
    `newobj`, as `target.__new__(target, *args)` (NEWOBJ)."""

    def __init__(self, target, args, newobj=False, state=None):
        self.target, self.args, self.newobj, self.state = target, args, newobj, state

    @property
    def __class__(self):  # the pickler writes NEWOBJ only for an object of the class it names
        return self.target if self.newobj else Reduced

    def __reduce__(self):
        if self.newobj:
            return copyreg.__newobj__, (self.target, *self.args)
        return (self.target, self.args) if self.state is None else (self.target, self.args, self.state)


def zoo_with_config(path: Path, make_config) -> Path:
    with zoo_config_class() as base_config:
        torch.save({"config": make_config(base_config), "avgG": zoo_state(SMALL_32, 32, 0)}, path)
    return path


ZOO_CONFIGS = {
    "REDUCE with arguments": lambda cls: Reduced(cls, (1, "two")),
    "NEWOBJ with arguments": lambda cls: Reduced(cls, (1, "two"), newobj=True),
    "attributes that are not a dict": lambda cls: Reduced(cls, (), state=["not", "a", "dict"]),
}


@pytest.mark.parametrize("case", ZOO_CONFIGS)
def test_a_zoo_config_built_with_arguments_is_refused_in_one_line(capsys, tmp_path, case):
    path = zoo_with_config(tmp_path / "zoo.pth", ZOO_CONFIGS[case])
    assert "config" in refused(capsys, path)


def test_a_zoo_config_with_plain_fields_is_read_as_plain_data(tmp_path):
    checkpoint = read_pggan(save_zoo(tmp_path / "zoo.pth", alpha=0.25))
    assert checkpoint.lod == 0.25 and "pytorch_GAN_zoo" in checkpoint.source


def meta_tensor(shape):
    return torch.empty(shape, device="meta")


def with_parameter_state(tensor, state):
    """A Parameter pickled with a __dict__ that shadows the tensor's own attributes."""
    return Reduced(torch._utils._rebuild_parameter_with_state, (tensor, False, collections.OrderedDict(), state))


ODD_TENSORS = {
    "meta tensor": (lambda t: meta_tensor(t.shape), "meta"),
    "sparse tensor": (lambda t: t.to_sparse(), "sparse"),
    "Parameter whose state shadows data and shape": (lambda t: with_parameter_state(t, {"data": 3, "shape": (1,)}), "attribute"),
    "integer tensor": (lambda t: t.long(), "int64"),
}


@pytest.mark.parametrize("case", ODD_TENSORS)
def test_tensors_that_are_not_plain_dense_floats_are_refused_naming_the_key(capsys, tmp_path, case):
    change, word = ODD_TENSORS[case]
    state = genforce_state(SMALL_32, 32, 0)
    state["layer2.conv.weight"] = change(state["layer2.conv.weight"])
    torch.save(state, tmp_path / "odd.pth")
    err = refused(capsys, tmp_path / "odd.pth")
    assert word in err and "layer2.conv.weight" in err


# -- weights that are not numbers ------------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("command", ["render", "info", "convert"])
def test_non_finite_weights_are_refused_naming_the_tensor(capsys, tmp_path, bad, command):
    state = genforce_state(SMALL_32, 32, 0)
    state["layer3.conv.weight"][0, 0, 1, 1] = bad
    torch.save(state, tmp_path / "nan.pth")
    err = refused(capsys, tmp_path / "nan.pth", command)
    assert "'layer3.conv.weight'" in err and "not finite" in err


# -- memory: what a file claims is checked before it is spent -------------------------------------

BIG = (1024,) * 6  # about 480 MB of float32 weights at 128 px


def expanded_interfacegan(path: Path) -> Path:
    """Every weight a stride-0 view of one number: a few KB on disk that claim BIG's 480 MB."""
    state = {key: torch.zeros(1).expand(value.shape) for key, value in genforce_state(BIG, 1024, 0).items() if value.dim()}
    state["lod"] = torch.tensor(0.0)
    torch.save(state, path)
    return path


def deflated_copy(source: Path, target: Path) -> Path:
    """The same torch zip with its records deflated: zeros compress a thousandfold."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    return target


def memory_cases(folder: Path) -> dict[str, Path]:
    zeros = {key: torch.zeros(value.shape) for key, value in genforce_state(BIG, 1024, 0).items()}
    torch.save(zeros, folder / "zeros.pth")
    cases = {
        "stride-0 tensors": expanded_interfacegan(folder / "expanded.pth"),
        "deflated records (a zip bomb)": deflated_copy(folder / "zeros.pth", folder / "bomb.pth"),
    }
    (folder / "zeros.pth").unlink()
    return cases


PEAK_RSS = textwrap.dedent(
    """
    import json, resource, sys, time
    import tlgan_tui.generators.pggan, tlgan_tui.generators.pggan_formats  # torch's import is not what is measured
    from tlgan_tui.cli import main
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    code = main(["info", "--generator", "pggan", "--weights", sys.argv[1], "--device", "cpu"])
    seconds = time.perf_counter() - start
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps({"code": code, "grown_mb": grown_mb, "seconds": seconds}))
    """
)


@pytest.mark.parametrize("case", ["stride-0 tensors", "deflated records (a zip bomb)"])
def test_a_small_file_that_claims_a_lot_of_memory_is_refused_before_any_is_spent(tmp_path, case):
    path = memory_cases(tmp_path)[case]
    assert path.stat().st_size < 2_000_000
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert report["grown_mb"] < 100, report  # the weights it claims would take 480 MB
    assert report["seconds"] < 10, report  # about 0.1 s alone; reading 480 MB and running SeFa took a minute


# -- strings from a file never reach the terminal raw -----------------------------------------------

HOSTILE = "\x1b]0;owned\x07\x1b[2J\nforged: line [bold red]markup[/]\u202e"


def assert_escaped(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b" in text


def test_hostile_keys_in_a_layout_error_are_escaped_on_one_line(capsys, tmp_path):
    state = genforce_state(SMALL_32, 32, 0)
    state[HOSTILE] = torch.zeros(1)
    torch.save(state, tmp_path / "keys.pth")
    err = refused(capsys, tmp_path / "keys.pth")
    assert "unexpected" in err
    assert_escaped(err)


def test_hostile_keys_in_a_file_of_another_kind_are_escaped(capsys, tmp_path):
    torch.save({HOSTILE: torch.zeros(1)}, tmp_path / "other.pth")
    assert_escaped(refused(capsys, tmp_path / "other.pth"))


def test_a_pickle_naming_a_hostile_global_is_escaped(capsys, tmp_path):
    (tmp_path / "global.pth").write_bytes(b"\x80\x02c" + b"os\x1b[2J\nsystem\n" + b"q\x00.")
    err = refused(capsys, tmp_path / "global.pth")
    assert "refusing" in err
    assert "\x1b" not in err


def test_hostile_safetensors_metadata_is_escaped_in_info(capsys, tmp_path):
    checkpoint = read_pggan(save_interfacegan(tmp_path / "model.pth"))
    checkpoint.title = checkpoint.source = HOSTILE
    write_tlgan(checkpoint, tmp_path / "model.safetensors")
    code, out, err = run(capsys, "info", "--generator", "pggan", "--weights", str(tmp_path / "model.safetensors"))
    assert code == 0, err
    generator_line = next(line for line in out.splitlines() if line.startswith("generator"))
    assert_escaped(generator_line)
    assert "forged" in generator_line and not any(line.startswith("forged") for line in out.splitlines())


# -- files that are not checkpoints at all -----------------------------------------------------------


def test_a_directory_given_as_weights_is_named_a_directory(capsys, tmp_path):
    err = refused(capsys, tmp_path)
    assert "is a directory" in err and "not found" not in err


def unreadable_files(folder: Path) -> dict[str, tuple[Path, str]]:
    good = save_interfacegan(folder / "good.pth")
    legacy = save_zoo(folder / "legacy.pth", legacy=True)
    files = {
        "empty file": (b"", "empty"),
        "random bytes": (bytes(range(256)) * 4, "not a torch checkpoint"),
        "a zip that is not a torch file": (None, "not a torch checkpoint"),
        "a legacy torch file cut short": (legacy.read_bytes()[: legacy.stat().st_size * 2 // 3], "truncated"),
        "a torch zip cut inside its index": (good.read_bytes()[:-30], "truncated"),
    }
    out = {}
    for name, (data, message) in files.items():
        path = folder / f"{name.replace(' ', '_')}.pth"
        if data is None:
            with zipfile.ZipFile(path, "w") as archive:
                archive.writestr("notes.txt", "hello")
        else:
            path.write_bytes(data)
        out[name] = (path, message)
    return out


UNREADABLE = ["empty file", "random bytes", "a zip that is not a torch file", "a legacy torch file cut short", "a torch zip cut inside its index"]


@pytest.mark.parametrize("case", UNREADABLE)
def test_files_that_are_not_whole_torch_checkpoints_get_one_line(capsys, tmp_path, case):
    path, message = unreadable_files(tmp_path)[case]
    assert message in refused(capsys, path)


@pytest.mark.parametrize("change, message", [("1-D layer", "malformed main.3.weight"), ("NaN", "'main.3.weight' holds values that are not finite")])
def test_a_broken_dcgan_file_gets_one_line(capsys, tmp_path, change, message):
    from safetensors.torch import load_file, save_file

    from tlgan_tui.generators.dcgan import DEFAULT_WEIGHTS

    state = load_file(str(DEFAULT_WEIGHTS))
    if change == "NaN":
        state["main.3.weight"][0, 0, 0, 0] = float("nan")
    else:
        state["main.3.weight"] = torch.zeros(5)
    save_file(state, str(tmp_path / "dcgan.safetensors"))
    code, _, err = run(capsys, "info", "--weights", str(tmp_path / "dcgan.safetensors"))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "internal error" not in err
