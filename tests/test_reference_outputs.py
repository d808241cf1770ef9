"""Each ported network reproduces its authors' own fused images (issue 15's tolerance:
at most 0.1 % of pixels more than 2 grey levels off, mean |diff| <= 0.5, on the fused
gray/Y plane the authors' script saves; see ``reference_outputs/README.md``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmif_bench import create_method
from mmif_bench.fusion import prepare
from mmif_bench.imageio import read_image

# method -> reference pairs checked in CI (None: all; the slow ones one per pair type)
ONE_PER_PAIR_TYPE = ("MRI-CT_16010", "MRI-PET_25022", "MRI-SPECT_11010")
PORTS = {
    "almfnet": None,
    "matr": None,
    "mufusion": ONE_PER_PAIR_TYPE,
    "u2fusion": ONE_PER_PAIR_TYPE,  # ~2.5 s a pair
    "emfusion": None,  # its CT-MRI model: the two MRI-CT references
    "sdnet": None,
    "mcafusion": ONE_PER_PAIR_TYPE,  # ~2 s a pair
    "macan": ONE_PER_PAIR_TYPE,
    "gesenet": ONE_PER_PAIR_TYPE,
    "prrgan": None,
    "gifnet": ONE_PER_PAIR_TYPE,  # ~3 s a pair
    "murf": None,  # its CT-MRI model: the two MRI-CT references
}


def fused_levels(method, harvard_root: Path, reference: Path) -> np.ndarray:
    """The method's fused Y in grey levels for the pair a reference file is named after,
    fed as the runner feeds it (luma of the sources, second image's modality)."""
    pair_type, name = reference.stem.split("_")
    modality = pair_type.split("-")[1]
    prepared = prepare(read_image(harvard_root / pair_type / "MRI" / f"{name}.png").pixels,
                       read_image(harvard_root / pair_type / modality / f"{name}.png").pixels,
                       modality)
    fused = method.fuse(*prepared.inputs(method), modality=modality)
    return np.round(np.clip(fused, 0.0, 1.0) * 255.0)


@pytest.mark.parametrize("name", sorted(PORTS))
def test_port_reproduces_the_authors_outputs(name, weights_dir, harvard_root, reference_outputs,
                                             monkeypatch):
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(weights_dir))  # the default lookup
    references = sorted((reference_outputs / name).glob("*.png"))
    if PORTS[name]:
        references = [path for path in references if path.stem in PORTS[name]]
    assert references, f"no reference outputs for {name}"
    method = create_method(name)
    for reference in references:
        diff = np.abs(fused_levels(method, harvard_root, reference)
                      - read_image(reference).pixels.astype(np.float64))
        assert (diff > 2).mean() <= 0.001, (reference.name, int(diff.max()))
        assert diff.mean() <= 0.5, (reference.name, float(diff.mean()))
