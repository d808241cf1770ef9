"""Where data and the user cache live: options first, then environment variables
(weights: :mod:`mmif_bench.weights`)."""
from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "MMIF_BENCH_CACHE"


def cache_root() -> Path:
    """The user cache that fetched data and weights go to: ``$MMIF_BENCH_CACHE``, else
    pooch's per-user cache folder for ``mmif-bench``."""
    value = os.environ.get(CACHE_ENV)
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("mmif-bench"))


def fetched_dataset(name: str) -> Path:
    """The folder ``mmif-bench fetch NAME`` installs dataset ``name`` into (whole or absent)."""
    return cache_root() / "datasets" / name
