"""Recognition stays lean: importing the code and loading a model pull in neither torchvision
nor torch's Python meta kernels (both drag in torch._dynamo, sympy, triton: +150 MB, seconds at
start-up, against a 700 MB budget), and our copy of torchvision's ResNet block computes exactly
what the original does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.model import BasicBlock

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torchvision", "sympy", "torch._dynamo", "triton", "matplotlib", "PySide6")


@pytest.mark.slow  # imports torchvision
@pytest.mark.parametrize("c_in, c_out, stride", [(8, 8, 1), (8, 16, 2)])
def test_basic_block_matches_torchvision(c_in, c_out, stride):
    from torch import nn
    from torchvision.models.resnet import BasicBlock as Reference

    torch.manual_seed(0)

    def down():
        if stride == 1 and c_in == c_out:
            return None
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
        )

    ref = Reference(c_in, c_out, stride=stride, downsample=down())
    for m in ref.modules():  # non-trivial batch-norm statistics, as after training
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    ours = BasicBlock(c_in, c_out, stride=stride, downsample=down())
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, c_in, 16, 24)
    with torch.inference_mode():
        assert torch.equal(ours.eval()(x), ref.eval()(x))


@pytest.mark.slow  # a fresh interpreter importing torch
def test_recognition_imports_nothing_heavy(random_model_dir):
    code = (
        "import sys, main; main.build_parser(); import core.recognizer, core.cli, core.evaluate;"
        f"core.recognizer.Recognizer.from_pretrained({str(random_model_dir)!r}, device='cpu');"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_openmp_threads_sleep_while_waiting():
    """Spinning OpenMP waiters made recognition 15x slower on busy cores (see core/__init__)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = "import core, os; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"  # the user's choice wins
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "ACTIVE"


def test_freed_buffers_go_back_to_the_system_on_linux():
    # in a child process: the setting lasts for the process (see conftest's guard)
    code = "import core.allocator as a, sys; print(a.return_freed_memory())"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == str(sys.platform.startswith("linux"))
