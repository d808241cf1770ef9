"""mmif-bench: a benchmark suite for multimodal medical image fusion."""
from __future__ import annotations

from ._version import __version__
from .evaluation import evaluate
from .method import Method, Option
from .metric import Metric
from .registry import (
    create_dataset,
    create_method,
    get_metric,
    isolated_registrations,
    list_datasets,
    list_methods,
    list_metrics,
    register,
    register_method,
    register_metric,
)
from .run_record import RunRecord, read_run_record
from .runner import RunConfig, RunResult, run
from .weights import WeightFile

__all__ = [
    "Method", "Metric", "Option", "RunConfig", "RunRecord", "RunResult", "__version__", "create_dataset",
    "create_method", "evaluate", "get_metric", "isolated_registrations", "list_datasets",
    "list_methods", "list_metrics",
    "read_run_record", "register", "register_method", "register_metric", "run", "WeightFile",
]
