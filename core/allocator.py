"""How the process hands memory back to the system (no torch import: ``main`` calls this
before anything heavy loads)."""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def return_freed_memory() -> bool:
    """Linux/glibc: give every large buffer (an image, a layer's activations) its own memory
    map, returned to the system as soon as it is freed. By default glibc raises that threshold
    after the first such buffer is freed, and from then on the buffers of snips of every size
    are carved out of the heap and stay there as fragments: a long-running app grows with
    each new image size. Measured with benchmarks/memory.py (100 images at four zoom levels):
    see README, "Benchmarks". Returns whether the setting was applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
