"""mmif-bench: a benchmark suite for multimodal medical image fusion."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .method import Method, Option
from .metric import Metric
from .registry import (
    create_dataset,
    create_method,
    get_metric,
    list_datasets,
    list_methods,
    list_metrics,
    register,
)

try:
    __version__ = version("mmif-bench")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = [
    "Method", "Metric", "Option", "__version__", "create_dataset", "create_method",
    "get_metric", "list_datasets", "list_methods", "list_metrics", "register",
]
