"""Efficiency as papers print it, measured for the methods a run runs: parameters of every
network a method holds, FLOPs of one 256 x 256 pair, and seconds per image pair.

Parameters and FLOPs are measured on the method's own instance: the networks are the
``torch.nn.Module`` objects it holds (its attributes, and the dicts, lists and tuples
among them; submodules counted once), the FLOPs are what
:class:`torch.utils.flop_counter.FlopCounterMode` counts while the method fuses one
256 x 256 pair (2 per multiply-add, network operations only). A method that holds no
network (a classical method) has neither: "n/a". Seconds per pair are timed during the
run around each shard's fusing (:func:`mmif_bench.fusion.run_fuse_task`): a shard's time
shared among its pairs; pairs taken from the cache are not timed.

References
----------
.. [1] PyTorch, ``torch.utils.flop_counter.FlopCounterMode``
   (https://pytorch.org/docs/stable/torch.utils.flop_counter.html).
"""
from __future__ import annotations

import dataclasses
import os
import re
import statistics
import sys
from typing import Any

import numpy as np

from .method import Method

SIZE = 256  # FLOPs are counted for one SIZE x SIZE pair, as papers report them
NO_NETWORK = "n/a: no network (classical)"


def networks(method: Method) -> dict[str, Any]:
    """The networks a method holds, by attribute path: its top-level ``torch.nn.Module``
    objects and the tensors held outside any module (a port that keeps its weights as
    plain tensors, e.g. batch norm folded into convs), in its attributes and the dicts,
    lists, tuples and dataclasses among them."""
    if "torch" not in sys.modules:
        return {}
    import torch
    from torch import nn

    found: dict[str, Any] = {}

    def visit(value: Any, path: str, depth: int) -> None:
        if isinstance(value, (nn.Module, torch.Tensor)):
            found.setdefault(path, value)
        elif depth >= 3:
            return
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}[{key}]", depth + 1)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]", depth + 1)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for item in dataclasses.fields(value):
                visit(getattr(value, item.name), f"{path}.{item.name}", depth + 1)

    for name, value in vars(method).items():
        visit(value, name, 0)
    modules = [v for v in found.values() if isinstance(v, nn.Module)]
    inner = {id(sub) for module in modules for sub in list(module.modules())[1:]}
    inner |= {id(t) for module in modules for t in module.parameters()}
    unique: dict[int, str] = {}
    for path, value in found.items():
        if id(value) not in inner:
            unique.setdefault(id(value), path)
    return {path: found[path] for path in unique.values()}


def _size(network: Any) -> int:
    """Parameters of a module, elements of a held tensor."""
    if hasattr(network, "parameters"):
        return int(sum(p.numel() for p in network.parameters()))
    return int(network.numel())


def _sample_pair(method: Method) -> tuple[np.ndarray, np.ndarray, str]:
    """A seeded 256 x 256 pair of a modality the method has a model for (CT first)."""
    modality = "CT" if method.applies_to("CT") else (method.modalities or ("CT",))[0]
    rng = np.random.default_rng(0)
    a = rng.random((SIZE, SIZE), dtype=np.float32)
    colour = method.colour_input and modality != "CT"
    b = rng.random((SIZE, SIZE, 3) if colour else (SIZE, SIZE), dtype=np.float32)
    return a, b, modality


def network_measures(method: Method) -> dict[str, Any]:
    """``parameters`` (total and per network) and ``flops`` of one 256 x 256 pair (None
    with the reason in ``flops_note`` where not countable); a method holding no network
    is not run here."""
    held = networks(method)
    if not held:
        return {"parameters": None, "networks": {}, "flops": None, "flops_note": NO_NETWORK}
    from torch.utils.flop_counter import FlopCounterMode

    a, b, modality = _sample_pair(method)
    try:
        with FlopCounterMode(display=False) as counter:
            method.fuse(a, b, modality=modality)
        flops: int | None = int(counter.get_total_flops())
        note = f"torch.utils.flop_counter, one {SIZE}x{SIZE} {modality} pair"
    except Exception as error:  # a method that cannot fuse a synthetic pair
        flops, note = None, f"n/a: not countable ({type(error).__name__}: {error})"[:200]
    sizes: dict[str, int] = {}
    for path, network in networks(method).items():
        key = path if hasattr(network, "parameters") else re.split(r"[.\[]", path)[0]
        sizes[key] = sizes.get(key, 0) + _size(network)
    return {"parameters": sum(sizes.values()), "networks": sizes, "flops": flops,
            "flops_note": note}


def timing(seconds: list[float], method: Method, batch: int, jobs: int) -> dict[str, Any]:
    """Seconds per pair as timed in the run: median and total over the pairs fused now,
    with the device, threads, batch (pairs per ``fuse_batch`` call at most) and jobs."""
    threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or os.cpu_count() or 1
    if "torch" in sys.modules:
        import torch

        threads = torch.get_num_threads()
    return {"seconds_per_pair": statistics.median(seconds) if seconds else None,
            "seconds_total": float(sum(seconds)), "pairs_timed": len(seconds),
            "device": str(getattr(method, "device", "cpu")), "threads": threads,
            "batch": batch, "jobs": jobs}
