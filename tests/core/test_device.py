"""Device selection: CUDA, Apple MPS, else the CPU with a sensible thread count."""

from __future__ import annotations

import pytest
import torch

from core import device as dev
from core.device import configure_cpu_threads, select_device
from core.errors import ModelError


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_cpu(no_gpu):
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("CPU") == torch.device("cpu")


@pytest.mark.parametrize("name", ["auto", "", None])
def test_auto_falls_back_to_cpu(no_gpu, name):
    assert select_device(name) == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: True)
    assert select_device("auto") == torch.device("mps")


def test_cuda_keeps_attention_off_cudnn(monkeypatch):
    """cuDNN attention rebuilds a graph for every new formula length: on an H200 that made
    each attention call cost 37 ms of CPU and left the GPU idle (see configure_cuda_attention)."""
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cuda, "enable_cudnn_sdp", calls.append, raising=False)
    assert select_device("cuda") == torch.device("cuda")
    assert select_device("auto") == torch.device("cuda")
    assert calls == [False, False]


def test_cuda_without_a_cudnn_attention_switch(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.delattr(torch.backends.cuda, "enable_cudnn_sdp", raising=False)
    assert dev.configure_cuda_attention() is False
    assert select_device("cuda") == torch.device("cuda")


def test_absent_cuda_is_a_clear_error(no_gpu):
    with pytest.raises(ModelError, match="No CUDA GPU.*--device cpu"):
        select_device("cuda")


def test_absent_mps_is_a_clear_error(no_gpu):
    with pytest.raises(ModelError, match="MPS is not available"):
        select_device("mps")


@pytest.mark.parametrize("name", ["gpu", "cuda:0", "tpu"])
def test_unknown_device_names_the_choices(name):
    with pytest.raises(ModelError, match="auto, cpu, cuda, mps"):
        select_device(name)


def test_thread_count_from_the_environment(monkeypatch):
    monkeypatch.setenv("TEXSNAP_THREADS", "1")
    assert configure_cpu_threads() == 1 and torch.get_num_threads() == 1


@pytest.mark.parametrize("value", ["", "0", "-2", "many"])
def test_bad_thread_setting_falls_back_to_the_cores_we_may_use(monkeypatch, value):
    monkeypatch.setenv("TEXSNAP_THREADS", value)
    monkeypatch.setattr(dev.os, "sched_getaffinity", lambda _pid: set(range(64)))
    assert configure_cpu_threads() == 8  # capped: a small model gains nothing beyond


def test_thread_count_follows_the_allowed_cores(monkeypatch):
    monkeypatch.delenv("TEXSNAP_THREADS")
    monkeypatch.setattr(dev.os, "sched_getaffinity", lambda _pid: {0, 1, 2})
    assert configure_cpu_threads() == 3


def test_cpu_selection_configures_threads(no_gpu, monkeypatch):
    monkeypatch.setenv("TEXSNAP_THREADS", "1")
    torch.set_num_threads(2)
    select_device("cpu")
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize(
    ("probes", "expected"),
    [
        ({"_is_amx_tile_supported": True, "_is_avx512_bf16_supported": False}, True),
        ({"_is_amx_tile_supported": False, "_is_avx512_bf16_supported": True}, True),
        ({"_is_amx_tile_supported": False, "_is_avx512_bf16_supported": False}, False),
        ({}, False),  # a torch without the private probes
    ],
)
def test_native_bf16_is_read_from_torchs_cpu_probes(monkeypatch, probes, expected):
    for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        monkeypatch.delattr(torch.cpu, name, raising=False)
    for name, answer in probes.items():
        monkeypatch.setattr(torch.cpu, name, lambda answer=answer: answer, raising=False)
    assert dev.cpu_has_native_bf16() is expected


def test_a_failing_bf16_probe_means_no(monkeypatch):
    def broken():
        raise RuntimeError("cpuinfo failed")

    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", broken, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", broken, raising=False)
    assert dev.cpu_has_native_bf16() is False
