"""The convolutional sparse coding steps of CSR and CSMCA (``methods/convsparse.py``) against
SPORCO, the maintained Python port of the MATLAB library the authors' code copies, with the
options of the authors' calls (``docs/methods.md``); no data needed."""
from __future__ import annotations

import numpy as np
import pytest

from mmif_bench.methods.convsparse import (
    ADMMOptions,
    as_8bit,
    choose_by_activity,
    conv_bpdn,
    filter_spectra,
    synthesize,
    tikhonov_split,
)
from mmif_bench.methods.csmca import mca_lambda

cbpdn = pytest.importorskip("sporco.admm.cbpdn", reason="sporco (test extra) not installed")
sporco_signal = pytest.importorskip("sporco.signal")


def random_dictionary(count: int = 8, seed: int = 0) -> np.ndarray:
    """8 x 8 x ``count`` float32 filters of unit l2 norm, not zero-mean (like the authors')."""
    filters = np.random.default_rng(seed).normal(size=(8, 8, count)) + 0.2
    return (filters / np.linalg.norm(filters, axis=(0, 1))).astype(np.float32)


def detail_layer(shape: tuple[int, int] = (64, 64), seed: int = 1) -> np.ndarray:
    """The Tikhonov detail of a blocky random image in [0, 1], float64."""
    coarse = np.random.default_rng(seed).random((shape[0] // 8, shape[1] // 8))
    image = np.kron(coarse, np.ones((8, 8))) * 0.8 + 0.1
    return tikhonov_split(image, 5.0)[1]


def sporco_options(opt: ADMMOptions) -> cbpdn.ConvBPDN.Options:
    """The SPORCO options that compute what the authors' MATLAB ``cbpdn`` call does."""
    return cbpdn.ConvBPDN.Options({
        "Verbose": False, "MaxMainIter": opt.max_iter, "RelStopTol": opt.rel_tol,
        "AbsStopTol": 0.0, "AuxVarObj": False, "HighMemSolve": True, "RelaxParam": opt.relax,
        "FastSolve": True, "DataType": np.float32, "rho": opt.rho,
        "AutoRho": {"Enabled": True, "Period": 1, "AutoScaling": True,
                    "RsdlRatio": opt.rho_ratio, "StdResiduals": False, "RsdlTarget": None,
                    "Scaling": opt.rho_scaling}})


def sporco_bpdn(filters: np.ndarray, signal: np.ndarray, lmbda: float,
                opt: ADMMOptions) -> np.ndarray:
    """SPORCO's coefficient maps, filters first (M x H x W)."""
    solver = cbpdn.ConvBPDN(filters, signal.astype(np.float32), lmbda, sporco_options(opt))
    return np.moveaxis(solver.solve().squeeze(), -1, 0)


def test_tikhonov_split_is_sporcos_lowpass() -> None:
    image = np.random.default_rng(2).random((40, 52))
    base, detail = tikhonov_split(image, 5.0, 16)
    expected_base, expected_detail = sporco_signal.tikhonov_filter(image, 5.0, 16)
    np.testing.assert_allclose(base, expected_base, atol=1e-12)
    np.testing.assert_allclose(detail, expected_detail, atol=1e-12)
    assert tikhonov_split(image.astype(np.float32), 60.0)[0].dtype == np.float32


@pytest.mark.slow
@pytest.mark.parametrize("lmbda, rho, rel_tol", [(0.01, 1.5, 0.0), (0.05, 3.5, 1e-3)])
def test_conv_bpdn_computes_what_sporco_computes(lmbda, rho, rel_tol) -> None:
    """Same ADMM iterates (float32, same automatic rho) to single-precision rounding: a
    fixed 60 iterations, and the relative-tolerance stop."""
    filters, signal = random_dictionary(), detail_layer()
    opt = ADMMOptions(rho=rho, max_iter=60, rel_tol=rel_tol)
    ours = conv_bpdn(filter_spectra(filters, signal.shape), signal, lmbda, opt)
    theirs = sporco_bpdn(filters, signal, lmbda, opt)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert np.count_nonzero(ours) > 0.01 * ours.size
    assert np.abs(ours - theirs).max() <= 1e-4 * np.abs(theirs).max()


def test_synthesis_is_circular_convolution_anchored_at_the_origin() -> None:
    filters = random_dictionary(2)
    maps = np.zeros((2, 16, 16), dtype=np.float32)
    maps[1, 15, 14] = 1.0  # paints rows 15, 0..6 and columns 14, 15, 0..5
    image = synthesize(filter_spectra(filters, (16, 16)), maps)
    expected = np.roll(np.pad(filters[:, :, 1], ((0, 8), (0, 8))), (15, 14), axis=(0, 1))
    np.testing.assert_allclose(image, expected, atol=1e-6)


def test_the_rho_guard_changes_nothing_while_rho_stays_finite() -> None:
    filters, signal = random_dictionary(), detail_layer()
    spectra = filter_spectra(filters, signal.shape)
    guarded, reference = (conv_bpdn(spectra, signal, 0.01, ADMMOptions(1.5, 40, rho_guard=g))
                          for g in (True, False))
    np.testing.assert_array_equal(guarded, reference)


def test_all_zero_coefficients_overflow_rho_to_nan_unless_guarded() -> None:
    """CSMCA's MRI-SPECT failure: a residue too weak for the threshold keeps every
    coefficient at 0, the dual residual is 0, rho grows x100 per iteration and passes the
    float32 range at the 22nd of the 30 iterations."""
    filters = random_dictionary()
    signal = 0.1 * detail_layer()
    spectra = filter_spectra(filters, signal.shape)
    reference = conv_bpdn(spectra, signal, 0.5, ADMMOptions(1.0, 30, rho_guard=False))
    guarded = conv_bpdn(spectra, signal, 0.5, ADMMOptions(1.0, 30))
    assert np.isnan(reference).all()
    assert np.array_equal(guarded, np.zeros_like(guarded))
    before = conv_bpdn(spectra, signal, 0.5, ADMMOptions(1.0, 21, rho_guard=False))
    assert not np.isnan(before).any()  # rho = 1e38 still fits


def test_choose_by_activity_gives_ties_to_the_second_source() -> None:
    first = np.zeros((2, 9, 9), dtype=np.float32)
    second = np.zeros_like(first)
    first[0, 2, 2], second[1, 6, 6] = 1.0, -1.0
    second[0, 2, 2] = 0.5
    chosen = choose_by_activity(first, second, radius=1)
    assert chosen[0, 2, 2] == 1.0 and chosen[1, 6, 6] == -1.0
    first[0, 6, 6] = 1.0  # equal activity around (6, 6): the second source's vector
    assert choose_by_activity(first, second, radius=1)[0, 6, 6] == 0.0


def test_as_8bit_rounds_half_away_from_zero_saturates_and_blacks_out_nan() -> None:
    levels = np.array([0.5, 1.5, 2.4999, -3.0, 300.0, np.nan], dtype=np.float32) / 255
    assert np.array_equal(np.round(as_8bit(levels) * 255), [1, 2, 2, 0, 255, 0])


def test_mca_lambda_schedule() -> None:
    assert [mca_lambda(k) for k in range(1, 7)] == pytest.approx([0.5, 0.4, 0.3, 0.2, 0.1, 0.005])
    assert mca_lambda(6) == 0.005
