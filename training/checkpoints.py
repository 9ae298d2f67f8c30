"""Resumable training checkpoints without pickle.

A checkpoint is a folder: ``model.safetensors`` (fp32 weights), ``optim.safetensors`` (optimizer
tensors and RNG states) and ``state.json`` (step, position, config, optimizer scalars). Written
to a temp folder and renamed, so an interruption never leaves a half checkpoint behind.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from core.errors import ModelError


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"state.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict, meta: dict) -> dict:
    state: dict = {}
    for key, v in tensors.items():
        if key.startswith("state."):
            _, pid, k = key.split(".", 2)
            state.setdefault(int(pid), {})[k] = v
    for key, v in meta["scalars"].items():
        pid, k = key.split(".", 1)
        state.setdefault(int(pid), {})[k] = v
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(folder: Path, model, optimizer, ema, state: dict) -> None:
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(_untie(weights), tmp / "model.safetensors")
    tensors, meta = _flatten_optimizer(optimizer)
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    if ema is not None:
        for k, v in ema.items():
            tensors[f"ema.{k}"] = v.detach().cpu().contiguous()
    save_file(tensors, tmp / "optim.safetensors")
    (tmp / "state.json").write_text(json.dumps({**state, "optimizer": meta}, indent=1))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _untie(weights: dict) -> dict:
    """safetensors refuses shared storage (the tied head): store the head once, as its embedding."""
    return {k: v for k, v in weights.items() if k != "head.weight"}


def load_checkpoint(folder: Path, model, optimizer, device) -> tuple[dict, dict | None]:
    folder = Path(folder)
    try:
        weights = load_file(folder / "model.safetensors", device=str(device))
        tensors = load_file(folder / "optim.safetensors")
        state = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"Checkpoint {folder} is damaged ({exc}).") from None
    model.load_state_dict(weights, strict=False)
    optimizer.load_state_dict(_unflatten_optimizer(tensors, state.pop("optimizer")))
    torch.set_rng_state(tensors["rng.torch"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    ema = {k[4:]: v.to(device) for k, v in tensors.items() if k.startswith("ema.")} or None
    return state, ema
