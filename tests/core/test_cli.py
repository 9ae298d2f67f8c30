"""`texsnap predict`, `render` and `info` through main.main(), every bad input included."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

import main
from core.cli import expand_inputs
from core.imageio import MAX_PIXELS
from core.render import render_png

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def model(random_model_dir, monkeypatch) -> Path:
    """The random model as the default one (as if it were the bundled base)."""
    monkeypatch.setenv("TEXSNAP_MODEL", str(random_model_dir))
    return random_model_dir


def run(argv, capsys) -> tuple[int, str, str]:
    code = main.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header that claims width x height pixels, with no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.fixture
def bad_inputs(tmp_path) -> dict[str, Path]:
    good = render_png(r"\frac{a}{b}+x^{2}", dpi=150, background="white")
    jpg = io.BytesIO()
    Image.open(io.BytesIO(good)).convert("RGB").save(jpg, format="JPEG")
    side = int(MAX_PIXELS**0.5) + 100
    files = {
        "zero_byte.png": b"",
        "truncated.png": good[: len(good) // 2],
        "truncated.jpg": jpg.getvalue()[: len(jpg.getvalue()) // 2],
        "text.png": b"this is a text file, not an image\n",
        "sliver.png": png(Image.new("L", (1, 200), 0)),
        "bomb.png": bomb_png(side, side),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    return paths


# ----------------------------------------------------------------------------- predict


def test_predict_json_result_fields(model, formula_png, capsys):
    code, out, _ = run(["predict", "--json", str(formula_png)], capsys)
    assert code == 0
    [line] = json_lines(out)
    assert set(line) == {"path", "latex", "confidence", "alternatives", "unsure", "ms"}
    assert line["path"] == str(formula_png)
    assert 0.0 <= line["confidence"] <= 1.0 and line["ms"] > 0
    assert isinstance(line["alternatives"], list)


@pytest.mark.parametrize("command", ["predict", "eval"])
def test_one_size_reads_each_image_at_the_standard_glyph_size_only(
    model, formula_png, tmp_path, capsys, monkeypatch, command
):
    import core.recognizer

    sizes = []
    real = core.recognizer.candidates

    def recording(image, cfg):
        sizes.append(cfg.also_read_at)
        return real(image, cfg)

    monkeypatch.setattr(core.recognizer, "candidates", recording)
    data = tmp_path / "set"
    (data / "images").mkdir(parents=True)
    (data / "images" / "a.png").write_bytes(formula_png.read_bytes())
    (data / "labels.tsv").write_text("a.png\tx^{2}\n")
    target = [str(formula_png)] if command == "predict" else [str(data)]
    for flags, expected in (([], (20.0, 14.5)), (["--one-size"], ())):
        sizes.clear()
        code, _, _ = run([command, *flags, *target], capsys)
        assert code == 0 and sizes and set(sizes) == {expected}


def test_predict_plain_single_input_prints_latex_only(model, formula_png, capsys):
    code, out, err = run(["predict", str(formula_png)], capsys)
    assert code == 0 and out.count("\n") == 1 and not out.startswith(str(formula_png))
    code, out, _ = run(["predict", str(formula_png), str(formula_png)], capsys)
    assert code == 0
    assert [line.split(": ")[0] for line in out.splitlines()] == [str(formula_png)] * 2


@pytest.mark.parametrize(
    "name, words",
    [
        ("zero_byte.png", "empty"),
        ("truncated.png", "truncated or damaged"),
        ("truncated.jpg", "truncated or damaged"),
        ("text.png", "not an image"),
        ("sliver.png", "too small"),
        ("bomb.png", "limit"),
    ],
)
def test_predict_bad_input_is_a_clear_error(model, bad_inputs, capsys, name, words):
    code, out, err = run(["predict", "--json", str(bad_inputs[name])], capsys)
    assert code == 1
    [line] = json_lines(out)
    assert set(line) == {"path", "error"} and words in line["error"]
    assert "Traceback" not in err


def test_bad_input_in_plain_mode_goes_to_stderr(model, bad_inputs, capsys):
    code, out, err = run(["predict", str(bad_inputs["text.png"])], capsys)
    assert code == 1 and out == ""
    assert f"{bad_inputs['text.png']}: error: " in err


def test_blank_image_gives_empty_result_with_reason(model, tmp_path, capsys):
    blank = tmp_path / "blank.png"
    blank.write_bytes(png(Image.new("RGB", (300, 80), "white")))
    code, out, _ = run(["predict", "--json", str(blank)], capsys)
    [line] = json_lines(out)
    assert code == 0 and line["latex"] == "" and "blank" in line["empty_reason"]
    code, out, err = run(["predict", str(blank)], capsys)
    assert code == 0 and out == "\n" and "blank" in err


@pytest.mark.parametrize("batch", ["1", "3"])
def test_mixed_batch_carries_on(model, bad_inputs, formula_png, capsys, batch):
    order = [formula_png, bad_inputs["zero_byte.png"], formula_png, bad_inputs["bomb.png"]]
    argv = ["predict", "--json", "--batch", batch, *map(str, order), "/no/such/file.png"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    lines = json_lines(out)
    assert [line["path"] for line in lines] == [*map(str, order), "/no/such/file.png"]
    assert ["error" in line for line in lines] == [False, True, False, True, True]
    assert lines[-1]["error"] == "File not found: /no/such/file.png"


def test_every_input_bad_is_a_failure(model, bad_inputs, capsys):
    code, out, _ = run(["predict", "--json", *map(str, bad_inputs.values())], capsys)
    assert code == 1
    assert all("error" in line for line in json_lines(out))


def test_missing_path(model, tmp_path, capsys):
    code, out, err = run(["predict", str(tmp_path / "nope.png")], capsys)
    assert code == 1 and "File not found" in err


def test_folders_are_searched_recursively(model, formula_png, tmp_path, capsys):
    root = tmp_path / "scans"
    (root / "deeper").mkdir(parents=True)
    shutil.copy(formula_png, root / "a.png")
    shutil.copy(formula_png, root / "deeper" / "b.PNG")
    (root / "notes.txt").write_text("not an image")
    code, out, _ = run(["predict", "--json", str(root)], capsys)
    assert code == 0
    assert [line["path"] for line in json_lines(out)] == [
        str(root / "a.png"),
        str(root / "deeper" / "b.PNG"),
    ]


def test_empty_folder(model, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, out, _ = run(["predict", "--json", str(tmp_path / "empty")], capsys)
    [line] = json_lines(out)
    assert code == 1 and "No images in folder" in line["error"]


def test_globs_are_expanded_for_shells_that_do_not(model, formula_png, tmp_path, capsys):
    for name in ("x1.png", "x2.png", "y.png"):
        shutil.copy(formula_png, tmp_path / name)
    code, out, _ = run(["predict", "--json", str(tmp_path / "x*.png")], capsys)
    assert code == 0
    assert [Path(line["path"]).name for line in json_lines(out)] == ["x1.png", "x2.png"]
    code, out, _ = run(["predict", "--json", str(tmp_path / "z*.png")], capsys)
    assert code == 1 and "No file matches" in json_lines(out)[0]["error"]


def test_stdin(model, formula_png, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(formula_png.read_bytes())))
    code, out, _ = run(["predict", "--json", "-"], capsys)
    [line] = json_lines(out)
    assert code == 0 and line["path"] == "-" and "latex" in line


def test_empty_stdin(model, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    code, out, _ = run(["predict", "--json", "-"], capsys)
    assert code == 1 and "empty" in json_lines(out)[0]["error"]


def test_expand_inputs_keeps_order(tmp_path, formula_png):
    got = expand_inputs([str(formula_png), "-", str(tmp_path / "gone")], stdin=io.BytesIO(b"x"))
    assert [(i.label, i.error is None) for i in got] == [
        (str(formula_png), True),
        ("-", True),
        (str(tmp_path / "gone"), False),
    ]
    assert got[1].source == b"x"


def test_beam_and_alternatives(model, formula_png, capsys):
    code, out, _ = run(
        ["predict", "--json", "--beam", "3", "--alternatives", "2", str(formula_png)], capsys
    )
    [line] = json_lines(out)
    assert code == 0 and len(line["alternatives"]) <= 2


@pytest.mark.parametrize("beam", ["0", "11", "-1"])
def test_bad_beam(model, formula_png, capsys, beam):
    code, out, err = run(["predict", "--beam", beam, str(formula_png)], capsys)
    assert code == 2 and out == "" and "--beam must be 1 (greedy) to 10" in err


@pytest.mark.parametrize("argv", [["--batch", "0"], ["--alternatives", "-1"]])
def test_bad_batch_or_alternatives(model, formula_png, capsys, argv):
    code, out, err = run(["predict", *argv, str(formula_png)], capsys)
    assert code == 2 and out == "" and err.startswith("error: --")


def test_beam_must_be_a_number(model, formula_png, capsys):
    with pytest.raises(SystemExit) as exc:
        main.main(["predict", "--beam", "wide", str(formula_png)])
    assert exc.value.code == 2 and "invalid int value" in capsys.readouterr().err


def test_missing_model_dir(tmp_path, monkeypatch, formula_png, capsys):
    monkeypatch.setenv("TEXSNAP_MODEL", str(tmp_path / "no-base"))
    code, out, err = run(["predict", "--model", str(tmp_path / "nope"), str(formula_png)], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "config.json is missing" in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def damaged_model(random_model_dir, tmp_path) -> Path:
    copy = tmp_path / "damaged"
    shutil.copytree(random_model_dir, copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    return copy


def test_damaged_model_without_fallback_fails(
    damaged_model, tmp_path, monkeypatch, formula_png, capsys
):
    monkeypatch.setenv("TEXSNAP_MODEL", str(damaged_model))
    code, _, err = run(["predict", str(formula_png)], capsys)
    assert code == 2 and "checksum mismatch" in err and "Traceback" not in err


def test_damaged_model_falls_back_to_base_with_notice(model, damaged_model, formula_png, capsys):
    code, out, err = run(
        ["predict", "--json", "--model", str(damaged_model), str(formula_png)], capsys
    )
    assert code == 0 and "latex" in json_lines(out)[0]
    assert err.startswith("warning: ") and "checksum mismatch" in err and "bundled base" in err


def test_absent_gpu_is_a_clear_error(model, formula_png, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    code, _, err = run(["predict", "--device", "cuda", str(formula_png)], capsys)
    assert code == 2 and "No CUDA GPU" in err


# ------------------------------------------------------------------------------ render


def test_render_writes_png(tmp_path, capsys):
    out_file = tmp_path / "out.png"
    code, _, _ = run(["render", r"x^{2}+y^{2}=z^{2}", "-o", str(out_file), "--dpi", "120"], capsys)
    assert code == 0
    img = Image.open(out_file)
    assert img.format == "PNG" and img.width > img.height > 10


def test_render_names_the_unsupported_command(tmp_path, capsys):
    code, _, err = run(
        ["render", r"\begin{pmatrix}a\end{pmatrix}", "-o", str(tmp_path / "x.png")], capsys
    )
    assert code == 1 and r"\begin{pmatrix}" in err and not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["", "-o", "x.png"], "no formula"),
        (["x", "-o", "x.png", "--dpi", "0"], "--dpi"),
        (["x", "-o", "x.png", "--background", "notacolour"], "--background"),
        (["x", "-o", "missing-dir/x.png"], "cannot write"),
    ],
)
def test_render_bad_requests(tmp_path, monkeypatch, capsys, argv, words):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["render", *argv], capsys)
    assert code in (1, 2) and words in err and "Traceback" not in err


# -------------------------------------------------------------------------------- info


def test_info(model, capsys):
    code, out, _ = run(["info", "--json"], capsys)
    info = json.loads(out)
    assert code == 0 and info["name"] == "random-test" and info["parameters"] > 0
    assert info["device"] == "cpu"
    code, out, _ = run(["info"], capsys)
    assert code == 0 and "random-test" in out and "parameters:" in out


def test_info_without_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TEXSNAP_MODEL", str(tmp_path / "none"))
    code, _, err = run(["info"], capsys)
    assert code == 2 and "config.json is missing" in err


# --------------------------------------------------------------------- the entry point


@pytest.mark.slow
def test_entry_point_in_a_subprocess(random_model_dir, formula_png, tmp_path):
    """`python main.py predict` as users run it: stdin, JSON lines, exit status."""
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "predict",
            "--json",
            "--model",
            str(random_model_dir),
            "-",
            str(tmp_path / "missing.png"),
        ],
        input=formula_png.read_bytes(),
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    lines = json_lines(proc.stdout.decode())
    assert lines[0]["path"] == "-" and "latex" in lines[0]
    assert lines[1] == {
        "path": str(tmp_path / "missing.png"),
        "error": f"File not found: {tmp_path / 'missing.png'}",
    }


@pytest.mark.parametrize(
    ("argv", "frees"),
    [
        ([], True),  # the app
        (["gui", "--hidden"], True),
        (["snip"], True),
        (["serve", "--port", "8765"], True),
        (["predict", "a.png"], True),
        (["train", "--config", "base.toml"], False),
        (["data", "build", "--printed", "10"], False),
        (["eval", "val.zip", "--limit", "5"], False),
        (["finetune", "corrections.zip"], False),
    ],
)
def test_only_long_running_commands_give_freed_buffers_back(argv, frees):
    """A memory map per large buffer keeps the app and the API from growing with every new
    image size, but training spent 44 % of its CPU time in the kernel with it and ran at about
    half its speed (benchmarks/allocator.py), so batch jobs keep glibc's default."""
    assert main.returns_freed_memory(argv) is frees


def test_main_sets_the_allocator_for_predict_and_not_for_eval(
    model, formula_png, tmp_path, capsys, allocator_calls
):
    code, _, _ = run(["predict", str(formula_png)], capsys)
    assert code == 0 and allocator_calls == [True]
    code, _, err = run(["eval", str(tmp_path / "missing.zip")], capsys)
    assert code != 0 and err  # a clear error, and no change of allocator
    assert allocator_calls == [True]
