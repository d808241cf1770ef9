"""The installed distribution's version (``0.0.0`` in a source tree never installed)."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mmif-bench")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
