"""The real generator as a user meets it: full-size checkpoints in each layout work through
`tlgan info`, `render` and `axes`; unusable files get one line and exit code 2."""

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from tests.pggan_layouts import NVIDIA_1024, ZOO_512, save_interfacegan, save_sefa, save_zoo
from tlgan_tui.cli import main
from tlgan_tui.generators.dcgan import DEFAULT_WEIGHTS
from tlgan_tui.shipped import shipped_axes_path

pytestmark = pytest.mark.slow  # full-size (1024) pg-GAN checkpoints, written and read

INTERFACEGAN_AXES = ["age", "gender", "eyeglasses", "pose", "smile", "quality"]


def run(capsys, *argv):
    # convert only rewrites a file: it takes no model options.
    code = main([*argv] if argv[0] == "convert" else [*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def full_size(tmp_path_factory):
    """Random weights in the published models' exact layouts and sizes."""
    folder = tmp_path_factory.mktemp("full")
    return {
        "InterFaceGAN": save_interfacegan(folder / "pggan_celebahq.pth", NVIDIA_1024, 512),
        "SeFa": save_sefa(folder / "pggan_celebahq1024.pth", NVIDIA_1024, 512, others=False),
        "zoo": save_zoo(folder / "celebaHQ16_december_s7_i96000.pth", ZOO_512, 512, legacy=True, others=False),
    }


def test_the_interfacegan_file_has_the_published_55_keys(full_size):
    assert len(torch.load(full_size["InterFaceGAN"], weights_only=True)) == 55


@pytest.mark.parametrize(
    "layout, published, size",
    [("InterFaceGAN", "pggan-celebahq1024", 1024), ("SeFa", "pggan-celebahq1024", 1024), ("zoo", "pggan-zoo-celebahq512", 512)],
)
def test_info_names_the_model_by_its_weights_its_layout_and_resolution(capsys, full_size, layout, published, size):
    """Random weights with a published model's network are not that model: named by their
    weights, with the published model they could be named beside."""
    code, out, err = run(capsys, "info", "--generator", "pggan", "--weights", str(full_size[layout]))
    assert code == 0, err
    assert f"generator    pggan{size}-" in out and f"{size}x{size}" in out and "fp32" in out
    assert "named by its weights" in out and f"it has the network of {published}" in out
    assert {"InterFaceGAN": "genforce/InterFaceGAN", "SeFa": "genforce/SeFa", "zoo": "pytorch_GAN_zoo"}[layout] in out


def test_render_writes_a_1024_face_moved_along_an_interfacegan_axis(capsys, full_size, tmp_path):
    face = tmp_path / "face.png"
    model = ["--generator", "pggan", "--weights", str(full_size["InterFaceGAN"])]
    code, out, err = run(capsys, *model, "--as-model", "pggan-celebahq1024", "render", "--seed", "3", "--set", "age=2", "--lock", "gender", "-o", str(face))
    assert code == 0, err
    image = np.asarray(Image.open(face))
    assert image.shape == (1024, 1024, 3) and image.std() > 10
    recipe = json.loads(face.with_suffix(".json").read_text())
    assert recipe["generator"] == "pggan-celebahq1024" and recipe["offsets"] == {"age": 2.0}


def test_show_prints_a_draft_of_the_1024_face_in_the_terminal(capsys, full_size):
    code, out, err = run(capsys, "show", "--generator", "pggan", "--weights", str(full_size["InterFaceGAN"]), "--seed", "3", "--width", "32")
    lines = out.splitlines()
    assert code == 0, err
    assert len(lines) == 16 + 1 and lines[0].count("▄") == 32 and "pggan1024-" in lines[-1]


def test_axes_lists_the_interfacegan_directions_and_sefa_beside_them(capsys, full_size):
    code, out, _ = run(capsys, "axes", "--generator", "pggan", "--weights", str(full_size["SeFa"]), "--as-model", "pggan-celebahq1024")
    assert code == 0
    assert all(name in out for name in INTERFACEGAN_AXES) and "pggan-celebahq1024" in out
    assert "sefa-0" in out and "sefa-9" in out


def test_the_interfacegan_axes_are_refused_for_the_default_model(capsys):
    code, _, err = run(capsys, "axes", "--axes", str(shipped_axes_path("pggan-celebahq1024")))
    assert code == 2 and "holds axes for generator 'pggan-celebahq1024'" in err and "dcgan-digiface64" in err


class Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def refusal_cases(tmp_path):
    small = save_interfacegan(tmp_path / "small.pth")
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(small.read_bytes()[: small.stat().st_size // 2])
    cut_safetensors = tmp_path / "cut.safetensors"
    cut_safetensors.write_bytes(DEFAULT_WEIGHTS.read_bytes()[:5000])
    other = tmp_path / "other.pth"
    torch.save({"encoder.weight": torch.zeros(3)}, other)
    evil = tmp_path / "evil.pth"
    torch.save({"avgG": Evil(tmp_path / "pwned")}, evil)
    return {
        "truncated torch file": (truncated, "truncated"),
        "truncated safetensors": (cut_safetensors, "not a readable safetensors file"),
        "the default DCGAN's weights": (DEFAULT_WEIGHTS, "is not a pg-GAN checkpoint in a layout tlgan reads"),
        "another model": (other, "it holds encoder.weight"),
        "a pickle that would run code": (evil, "refusing"),
    }


REFUSALS = ["truncated torch file", "truncated safetensors", "the default DCGAN's weights", "another model", "a pickle that would run code"]


@pytest.mark.parametrize("case", REFUSALS)
@pytest.mark.parametrize("command", ["info", "convert"])
def test_unusable_files_get_one_line_and_exit_code_2(capsys, tmp_path, case, command):
    path, message = refusal_cases(tmp_path)[case]
    if command == "info":
        code, _, err = run(capsys, "info", "--generator", "pggan", "--weights", str(path))
    else:
        code, _, err = run(capsys, "convert", str(path), str(tmp_path / "out.safetensors"))
        assert not (tmp_path / "out.safetensors").exists()
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "pwned").exists()


def test_missing_weights_and_a_pggan_file_given_to_the_default_model_say_what_to_do(capsys, full_size):
    code, _, err = run(capsys, "info", "--generator", "pggan")
    assert code == 2 and "--generator pggan needs --weights FILE" in err
    code, _, err = run(capsys, "info", "--weights", str(full_size["InterFaceGAN"]))
    assert code == 2 and "add --generator pggan" in err


def test_convert_on_the_command_line_and_its_output_check(capsys, tmp_path):
    source = save_zoo(tmp_path / "zoo.pth")
    code, out, err = run(capsys, "convert", str(source), str(tmp_path / "zoo.safetensors"))
    assert code == 0 and "pggan32-" in out and "pytorch_GAN_zoo" in out, err
    code, _, err = run(capsys, "convert", str(source), str(tmp_path / "zoo.pt"))
    assert code == 2 and "must be a .safetensors file" in err


def test_a_precision_the_default_model_does_not_offer_is_refused(capsys):
    code, _, err = run(capsys, "info", "--precision", "fp16")
    assert code == 2 and "fp32 only" in err
