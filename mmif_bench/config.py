"""Where data and weights live: options first, then environment variables."""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "MMIF_BENCH_DATA"
WEIGHTS_ENV = "MMIF_BENCH_WEIGHTS"


def data_root(explicit: str | Path | None = None) -> Path | None:
    """The Harvard data root from ``--data-root`` or ``$MMIF_BENCH_DATA`` (None if unset)."""
    value = explicit or os.environ.get(DATA_ENV)
    return Path(value).expanduser() if value else None


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
