"""CSR and CSMCA reproduce what their authors' MATLAB writes (GNU Octave runs of the
unmodified code, ``reference_outputs/`` of the classical data; issue 24's tolerance: at most
0.1 % of pixels more than 2 grey levels off, mean |diff| <= 0.5 on the fused gray/Y plane),
with the dictionaries found as published weights are (``$MMIF_BENCH_WEIGHTS``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_reference_outputs import fused_levels

from mmif_bench import create_method
from mmif_bench.fusion import prepare
from mmif_bench.imageio import read_image
from mmif_bench.weights import MissingWeightsError

pytestmark = pytest.mark.slow  # 10-20 s of one core per pair


@pytest.fixture()
def dictionaries(classical_root, monkeypatch) -> Path:
    """The authors' dictionary files as the default lookup finds them."""
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(classical_root / "data"))
    return classical_root / "data"


@pytest.mark.parametrize("name", ["csr", "csmca"])
def test_reproduces_the_authors_outputs(name, dictionaries, classical_root, harvard_root) -> None:
    references = sorted((classical_root / "reference_outputs" / name).glob("*.png"))
    assert references, f"no reference outputs for {name}"
    method = create_method(name)
    for reference in references:
        diff = np.abs(fused_levels(method, harvard_root, reference)
                      - read_image(reference).pixels.astype(np.float64))
        assert (diff > 2).mean() <= 0.001, (reference.name, int(diff.max()))
        assert diff.mean() <= 0.5, (reference.name, float(diff.mean()))


def test_csmca_on_mri_spect_black_as_the_authors_unless_guarded(dictionaries,
                                                                 harvard_root) -> None:
    """MRI-SPECT 3015: the authors' code writes an all-black image (rho overflows in a
    texture solve of the SPECT detail); the default guard gives the fused image."""
    reference = Path("MRI-SPECT_3015.png")
    authors = fused_levels(create_method("csmca", rho_guard=False), harvard_root, reference)
    guarded = fused_levels(create_method("csmca"), harvard_root, reference)
    assert not authors.any()
    sources = prepare(read_image(harvard_root / "MRI-SPECT" / "MRI" / "3015.png").pixels,
                      read_image(harvard_root / "MRI-SPECT" / "SPECT" / "3015.png").pixels,
                      "SPECT")
    mean_base = 255 * (sources.a.mean() + sources.b.mean()) / 2  # details have mean ~0
    assert abs(guarded.mean() - mean_base) < 2.0, (guarded.mean(), mean_base)


def test_missing_dictionary_names_the_file_and_the_fetch_command(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MMIF_BENCH_WEIGHTS", str(tmp_path))
    with pytest.raises(MissingWeightsError, match=r"CSMCA-Dc_8_8_32\.mat.*fetch weights csmca"):
        create_method("csmca")


def test_a_file_without_the_dictionary_is_one_clear_error(tmp_path) -> None:
    bad = tmp_path / "dict.mat"
    bad.write_bytes(b"not a MATLAB file")
    with pytest.raises(ValueError, match=r"dict\.mat: not a MATLAB file holding the dictionary"):
        create_method("csr", dictionary=str(bad))


@pytest.mark.parametrize("name", ["csr", "csmca"])
@pytest.mark.parametrize("shape", [(33, 47), (5, 7), (1, 1)])
def test_any_shape_gives_float32_in_unit_range(name, shape, dictionaries) -> None:
    rng = np.random.default_rng(0)
    a, b = (rng.random(shape).astype(np.float32) for _ in range(2))
    fused = create_method(name).fuse(a, b, modality="PET")
    assert fused.shape == shape and fused.dtype == np.float32
    assert 0.0 <= fused.min() and fused.max() <= 1.0
    np.testing.assert_array_equal(fused, create_method(name).fuse(a, b, modality="PET"))
