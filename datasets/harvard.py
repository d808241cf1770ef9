"""The Harvard Whole Brain Atlas (AANLIB) pairs used by most medical fusion papers.

810 registered 256x256 pairs (MRI-CT 184, MRI-PET 269, MRI-SPECT 357) with train/test
splits of 24 test pairs per modality pair. The root comes from ``--data-root``,
``$MMIF_BENCH_DATA`` or the copy ``mmif-bench fetch harvard`` installed, in that order.
"""
from __future__ import annotations

from pathlib import Path

from mmif_bench.config import DATA_ENV, data_root as configured_root
from mmif_bench.dataset import FolderDataset


def harvard(data_root: str | Path | None = None) -> FolderDataset:
    """The Harvard AANLIB dataset at ``data_root`` (default: :func:`mmif_bench.config.data_root`)."""
    root = configured_root(data_root)
    if root is None:
        raise FileNotFoundError(
            f"the harvard dataset is not here: run 'mmif-bench fetch harvard', or pass "
            f"--data-root DIR or set {DATA_ENV} to a folder holding MRI-CT/, MRI-PET/ and MRI-SPECT/"
        )
    return FolderDataset(root, name="harvard",
                         description="Harvard AANLIB registered brain pairs (MRI-CT/PET/SPECT)")
