"""torch.profiler over a few training steps: where a step's time goes, in OUT/profile.txt."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import torch

FIRST_STEP = 10  # caches warm, still the first epoch


class StepProfiler:
    """Profiles steps FIRST_STEP .. FIRST_STEP+steps (CPU and GPU), sorted by total time.

    ``close()`` ends a profile that the run stopped inside, writing the steps it has: the
    profiler's hooks never outlive the run."""

    def __init__(self, out: Path, steps: int, device: torch.device, log=print):
        self.out, self.steps, self.device, self.log = Path(out), steps, device, log
        self._prof = None
        self._t0 = 0.0
        self._done = 0

    @contextlib.contextmanager
    def step(self, step: int):
        if not self.steps or not FIRST_STEP <= step < FIRST_STEP + self.steps:
            yield
            return
        if self._prof is None:
            acts = [torch.profiler.ProfilerActivity.CPU]
            if self.device.type == "cuda":
                acts.append(torch.profiler.ProfilerActivity.CUDA)
            self._prof = torch.profiler.profile(activities=acts)
            self._prof.__enter__()
            self._t0 = time.perf_counter()
        yield
        self._done += 1
        if step == FIRST_STEP + self.steps - 1:
            self.close()

    def close(self) -> None:
        if self._prof is None:
            return
        prof, self._prof = self._prof, None
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - self._t0
        prof.__exit__(None, None, None)
        if not self._done:
            return
        n = self._done
        sort = "cuda_time_total" if self.device.type == "cuda" else "cpu_time_total"
        table = prof.key_averages().table(sort_by=sort, row_limit=40)
        path = self.out / "profile.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"{n} steps in {seconds:.3f} s ({1000 * seconds / n:.1f} ms/step)\n{table}\n"
        )
        self.log(f"profile: {1000 * seconds / n:.1f} ms/step over {n} steps -> {path}")
