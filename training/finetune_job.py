"""A fine-tune run in a child process, so that nothing training does can take the app down.

A crash of torch, running out of memory, a kill by the OS: the child dies, the app sees the
process gone without a result and says so. The parent talks to the child through one queue
of ``(kind, payload)`` messages (plain dicts and strings, nothing app-specific is pickled)
and two events, ``cancel`` and ``pause``. The child uses the ``spawn`` start method on every
platform: a forked child would inherit the GUI's threads and Qt state.

Messages: ``("progress", Progress dict)``, ``("done", Report dict)``,
``("cancelled", sentence)``, ``("error", sentence)``.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import traceback
from dataclasses import asdict, dataclass, field

from training.finetune_plan import Options

log = logging.getLogger(__name__)


@dataclass
class Job:
    dataset: str
    start_dir: str  # model to start from
    current_dir: str  # model in use, for the "before" column
    out_dir: str  # the new version's folder (must not exist)
    options: Options = field(default_factory=Options)


def run_job(job: Job, events, cancel=None, pause=None) -> None:
    """Run ``job`` and report through ``events``; never raises."""
    from core.errors import Cancelled, TeXSnapError
    from training.finetune import finetune

    try:
        report = finetune(
            job.dataset,
            job.start_dir,
            job.current_dir,
            job.out_dir,
            job.options,
            progress=lambda p: events.put(("progress", asdict(p))),
            cancel=cancel,
            pause=pause,
        )
    except Cancelled as exc:
        events.put(("cancelled", str(exc)))
    except TeXSnapError as exc:
        events.put(("error", str(exc)))
    except MemoryError:
        events.put(("error", "Fine-tuning ran out of memory; try the CPU or the quick preset."))
    except BaseException as exc:  # noqa: BLE001 - a bug in training is reported, not raised
        log.error("fine-tuning failed\n%s", traceback.format_exc())
        events.put(("error", f"Fine-tuning failed ({type(exc).__name__}: {exc})."))
    else:
        events.put(("done", report.to_dict()))


class ChildRun:
    """``job`` running in a spawned process; poll :meth:`messages` from the parent."""

    def __init__(self, job: Job):
        ctx = mp.get_context("spawn")
        self.events = ctx.Queue()
        self.cancel_event = ctx.Event()
        self.pause_event = ctx.Event()
        self.process = ctx.Process(
            target=run_job,
            args=(job, self.events, self.cancel_event, self.pause_event),
            name="texsnap-finetune",
            daemon=True,  # never outlives the app
        )
        self.process.start()
        self.finished = False

    def messages(self) -> list[tuple[str, object]]:
        """Messages waiting now; a child gone without a final message yields an error."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                break
        if any(kind in ("done", "cancelled", "error") for kind, _ in out):
            self.finished = True
        elif not self.process.is_alive() and not self.finished:
            out += self._drain_after_exit()
        return out

    def _drain_after_exit(self) -> list[tuple[str, object]]:
        # the child may have put its last message just before exiting
        try:
            last = [self.events.get(timeout=0.5)]
        except queue.Empty:
            last = []
        self.finished = True
        if any(kind in ("done", "cancelled", "error") for kind, _ in last):
            return last
        code = self.process.exitcode
        return [*last, ("error", f"Fine-tuning stopped unexpectedly (exit code {code}).")]

    def set_paused(self, paused: bool) -> None:
        (self.pause_event.set if paused else self.pause_event.clear)()

    def cancel(self) -> None:
        self.cancel_event.set()
        self.pause_event.clear()

    def kill(self, timeout: float = 5.0) -> None:
        """Ask to stop, then end the process if it does not within ``timeout`` seconds."""
        self.cancel()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
        self.finished = True
