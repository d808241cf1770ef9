"""Which DM-FNet model produced a result: the label and description its row carries.

A leaderboard row called just "DM-FNet" would be read as the paper's model (a 20.7 M
parameter UNet and a 3.0 M parameter fusion network trained for 630 000 + 221 400
iterations, He et al., IEEE TMM 2025). The models shipped with mmif-bench are far smaller
and trained far less, so every row says which model it is, in a label that survives
copy-paste into a paper (``DM-FNet (cpu32, trained here)``) and a one-line description with
the sizes and training steps set against the paper's.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from mmif_bench.weights.store import hash_once

PAPER_UNET_PARAMETERS = 20.67e6
PAPER_HEAD_PARAMETERS = 3.03e6
PAPER_STAGE1_STEPS = 630_000
PAPER_STAGE2_STEPS = 221_400


@dataclass(frozen=True)
class ModelSource:
    """Where a DM-FNet model comes from.

    ``kind`` is ``"trained here"`` (a model shipped with mmif-bench), ``"authors' weights"``
    (the files He et al. released) or ``"user weights"`` (any other file); ``label`` is the
    row's display name; ``detail`` says the sizes and training steps against the paper's.
    """

    kind: str
    label: str
    detail: str

    def as_record(self) -> dict[str, str]:
        """The provenance fields of the method's entry in ``run.json``."""
        return {"kind": self.kind, "label": self.label, "detail": self.detail}


def parameter_count(network: torch.nn.Module) -> int:
    """Number of parameters of ``network``."""
    return sum(p.numel() for p in network.parameters())


def _millions(count: float) -> str:
    return f"{count / 1e6:.2f} M"


def _sizes(unet: torch.nn.Module, head: torch.nn.Module) -> str:
    return (f"UNet {_millions(parameter_count(unet))} + fusion network "
            f"{_millions(parameter_count(head))} parameters")


def _paper() -> str:
    return (f"paper: {_millions(PAPER_UNET_PARAMETERS)} + {_millions(PAPER_HEAD_PARAMETERS)}, "
            f"{PAPER_STAGE1_STEPS:,} + {PAPER_STAGE2_STEPS:,} steps")


def training_record(weights: Path) -> dict | None:
    """The ``NAME_training_record.json`` shipped beside ``NAME.pt``, if there is one."""
    record = weights.with_name(f"{weights.stem}_training_record.json")
    if not record.is_file():
        return None
    return json.loads(record.read_text(encoding="utf-8"))


def describe_ours(weights: Path, config: dict, stage2_step: int, *, shipped: bool,
                  unet: torch.nn.Module, head: torch.nn.Module) -> ModelSource:
    """The source of a Stage II checkpoint written by ``mmif-bench train dmfnet``.

    Training steps come from the shipped training record where there is one, else from the
    checkpoint (its preset's Stage I steps and the Stage II step it was saved at).
    """
    preset = str(config.get("name", "custom"))
    record = training_record(weights) if shipped else None
    steps = (record or {}).get("steps") or {"stage1": config["stage1"]["steps"],
                                             "stage2": stage2_step}
    trained = f"{int(steps['stage1']):,} + {int(steps['stage2']):,} training steps"
    if shipped:
        label = f"DM-FNet ({preset}, trained here)"
        where = f"the {preset} model trained by mmif-bench on the Harvard train split"
    else:
        label = f"DM-FNet ({preset}, {weights.name})"
        where = f"user weights {weights.name} (preset {preset})"
    return ModelSource("trained here" if shipped else "user weights", label,
                       f"{where}: {_sizes(unet, head)}, {trained} ({_paper()})")


def describe_authors(files: dict[str, Path], released: bool, *, unet: torch.nn.Module,
                     head: torch.nn.Module) -> ModelSource:
    """The source of a model read from files in the authors' formats: their release
    (``released``: the files' git blob ids are the released files') or a user's files in
    that format."""
    names = " + ".join(f"{path.name} (sha256 {hash_once(path)[:12]})"
                       for path in files.values())
    if released:
        return ModelSource("authors' weights", "DM-FNet (authors' weights)",
                           f"the authors' released model, {names}: {_sizes(unet, head)}")
    label = " + ".join(path.name for path in files.values())
    return ModelSource("user weights", f"DM-FNet ({label})",
                       f"user weights in the authors' format, {names}: {_sizes(unet, head)}")
