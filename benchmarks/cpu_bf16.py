"""Does bf16 autocast speed up CPU training here? Training steps of the bundled model's
architecture in fp32 and with bf16 autocast, timed alternately.

    PYTHONPATH=. .venv/bin/python benchmarks/cpu_bf16.py [--threads 1] [--steps 4]
        [--batch 12] [--height 64] [--width 384] [--tokens 60]

With ``cpu_bf16=true`` the trainer turns bf16 autocast on for CPUs that compute bf16 natively
(AMX or AVX512-BF16, ``core.device.cpu_has_native_bf16``); this prints whether this CPU does,
and the CPU time per step both ways (CPU time, not wall time: other programs on the machine do
not count). The batch is random images and tokens of a typical training batch's shape: a
step's cost depends on the shapes, not the values.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from _base_model import bundled_model_dir

from core.checkpoint import load_model
from core.device import cpu_has_native_bf16


def time_steps(model, batch, bf16: bool, steps: int) -> float:
    """CPU seconds per optimizer step, after one untimed step."""
    images, sizes, tokens = batch
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)

    def step():
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            _, loss = model(images, tokens, sizes, tokens, 0.1)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    start = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - start) / steps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=4, help="timed steps per round")
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--height", type=int, default=64)
    p.add_argument("--width", type=int, default=384)
    p.add_argument("--tokens", type=int, default=60)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = load_model(bundled_model_dir(), "cpu").model.float().train()
    vocab = model.cfg.vocab_size
    batch = (
        torch.rand(args.batch, 1, args.height, args.width),
        torch.tensor([[args.height, args.width]] * args.batch),
        torch.randint(4, vocab, (args.batch, args.tokens)),
    )
    print(f"native bf16 on this CPU: {'yes' if cpu_has_native_bf16() else 'no'}")
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for _ in range(2):  # alternate, so a change in the machine's load hits both alike
        for name in times:
            times[name].append(time_steps(model, batch, name == "bf16", args.steps))
    fp32, bf16 = min(times["fp32"]), min(times["bf16"])
    print(
        f"CPU seconds per training step ({args.threads} thread(s), batch {args.batch} of "
        f"{args.height}x{args.width} px, {args.tokens} tokens): fp32 {fp32:.3f}, "
        f"bf16 autocast {bf16:.3f} ({fp32 / bf16:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
