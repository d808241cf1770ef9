"""The process-wide memory allocator setting, made once by the core (never by a plugin)."""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc malloc.h mallopt parameter numbers


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Have glibc's malloc reuse freed memory instead of giving it back to the system.

    Networks allocate a new tensor for every layer output and metrics many arrays of
    0.1-10 MB; by default glibc serves large blocks by ``mmap`` and unmaps them when
    freed (with thresholds that follow the largest block freed so far), so every forward
    pass or metric batch page-faults its working set again: a quarter of U2Fusion's CPU
    time, a third of SDNet's, half of the default metric suite's on 256 x 256 pairs.
    This keeps the memory as TensorFlow's allocator does: no ``mmap`` blocks, no
    trimming (the process's memory stays at its peak). Set once per process by the
    runner's fusing and scoring (:func:`mmif_bench.fusion.load_method`,
    :func:`mmif_bench.evaluation.score_255_batch`); returns False where the C library
    has no ``mallopt`` (not glibc), where nothing changes.

    References
    ----------
    .. [1] ``mallopt(3)``, Linux man-pages: M_MMAP_MAX, M_TRIM_THRESHOLD.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
