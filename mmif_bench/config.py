"""Where weights and fetched data live: options first, then environment variables."""
from __future__ import annotations

import os
from pathlib import Path

WEIGHTS_ENV = "MMIF_BENCH_WEIGHTS"


def weights_dir(explicit: str | Path | None = None) -> Path | None:
    """The directory of published weight files from ``$MMIF_BENCH_WEIGHTS``."""
    value = explicit or os.environ.get(WEIGHTS_ENV)
    return Path(value).expanduser() if value else None


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
