"""mmif-bench: a benchmark suite for multimodal medical image fusion."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mmif-bench")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

from .evaluation import evaluate  # noqa: E402  (after __version__, which the runner records)
from .method import Method, Option  # noqa: E402
from .metric import Metric  # noqa: E402
from .registry import (  # noqa: E402
    create_dataset,
    create_method,
    get_metric,
    list_datasets,
    list_methods,
    list_metrics,
    register,
    register_method,
    register_metric,
)
from .runner import RunConfig, RunSummary, run  # noqa: E402
from .weights import WeightFile  # noqa: E402

__all__ = [
    "Method", "Metric", "Option", "RunConfig", "RunSummary", "__version__", "create_dataset",
    "create_method", "evaluate", "get_metric", "list_datasets", "list_methods", "list_metrics",
    "register", "register_method", "register_metric", "run", "WeightFile",
]
