"""Pick where the model runs: CUDA, Apple MPS, else the CPU with a sensible thread count."""

from __future__ import annotations

import os

import torch

from core.errors import ModelError

DEVICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def select_device(name: str = "auto") -> torch.device:
    """``auto`` prefers CUDA, then MPS, then CPU; asking for an absent GPU is an error."""
    name = (name or "auto").lower()
    if name not in DEVICES:
        raise ModelError(f"Unknown device {name!r}: choose one of {', '.join(DEVICES)}.")
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif _mps_available():
            name = "mps"
        else:
            name = "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ModelError("No CUDA GPU is available here; use --device cpu or auto.")
    if name == "mps" and not _mps_available():
        raise ModelError("Apple MPS is not available here; use --device cpu or auto.")
    if name == "cpu":
        configure_cpu_threads()
    if name == "cuda":
        configure_cuda_attention()
    return torch.device(name)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AMX tiles or AVX512-BF16). There bf16
    autocast halves a training step's time (about 0.52 → 0.25 s of CPU time per step of the
    base model on one thread of a Xeon with AMX; ``benchmarks/cpu_bf16.py``); elsewhere
    torch has to emulate bf16 (not measured here), so it stays off. The probes are private
    torch functions: where a torch version lacks them, the answer is no."""
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        check = getattr(cpu, probe, None)
        try:
            if callable(check) and check():
                return True
        except RuntimeError:
            continue
    return False


def configure_cuda_attention() -> bool:
    """Keep attention off the cuDNN backend, which torch picks first on Hopper GPUs.

    cuDNN builds a graph for every new sequence length and batch shape; our formulas differ
    in length from batch to batch, so it rebuilt one on nearly every call. A profile on an
    H200 (``profile_steps``) put 37 ms of CPU time on each attention call, most of the step,
    with the GPU idle 90 % of the time. Flash and memory-efficient attention need no build.
    Returns whether the backend was turned off (torch builds without the switch have no
    cuDNN attention to avoid)."""
    switch = getattr(torch.backends.cuda, "enable_cudnn_sdp", None)
    if switch is None:
        return False
    switch(False)
    return True


def configure_cpu_threads() -> int:
    """Use the cores we are allowed to run on, at most 8: beyond that a small model's
    per-token matrix products gain nothing and other programs lose.

    Sharing the cores is made safe by ``OMP_WAIT_POLICY=PASSIVE``, which ``main.py`` sets
    before torch loads (it cannot be changed afterwards): with OpenMP's default, idle workers
    spin, and two processes (the app and a training run) that each spin on the same cores
    made a recognition ~6x slower on 2 cores (docs/ARCHITECTURE.md, "CPU threads").
    ``TEXSNAP_THREADS`` overrides the count."""
    env = os.environ.get("TEXSNAP_THREADS")
    if env and env.isdigit() and int(env) > 0:
        n = int(env)
    else:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:
            n = os.cpu_count() or 1
        n = max(1, min(8, n))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
