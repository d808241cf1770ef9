"""Speed of the convolutional BPDN solver of CSR and CSMCA (pytest-benchmark, one thread):
ours (filters first, numba-fused element-wise steps) against SPORCO's ``ConvBPDN`` (filters
last, numpy/pyFFTW) on the same problem, both running the same fixed number of ADMM
iterations. Run: ``pytest tests/test_convsparse_bench.py --benchmark-only``. Per-pair
timings against the authors' code in Octave are in docs/methods.md."""
from __future__ import annotations

import numpy as np
import pytest
from test_convsparse import detail_layer, random_dictionary, sporco_bpdn

from mmif_bench.methods.convsparse import ADMMOptions, conv_bpdn, filter_spectra

pytestmark = pytest.mark.benchmark
SHAPE = (128, 128)
OPTIONS = ADMMOptions(rho=1.5, max_iter=30, rel_tol=0.0)  # a CSMCA-length solve, no early stop


@pytest.fixture(autouse=True)
def one_fft_thread(monkeypatch) -> None:
    sporco_fft = pytest.importorskip("sporco.fft")
    monkeypatch.setattr(sporco_fft, "pyfftw_threads", 1)


@pytest.mark.parametrize("implementation", ["ours", "sporco"])
def test_conv_bpdn_32_filters(benchmark, implementation) -> None:
    filters, signal = random_dictionary(32), detail_layer(SHAPE)
    if implementation == "ours":
        spectra = filter_spectra(filters, SHAPE)
        conv_bpdn(spectra, signal, 0.01, ADMMOptions(1.5, 2))  # numba compile, FFT plans

        def solve() -> np.ndarray:
            return conv_bpdn(filter_spectra(filters, SHAPE), signal, 0.01, OPTIONS)
    else:
        def solve() -> np.ndarray:
            return sporco_bpdn(filters, signal, 0.01, OPTIONS)
    benchmark.group = f"conv BPDN, 32 filters, {SHAPE[0]}x{SHAPE[1]}, 30 iterations"
    maps = benchmark.pedantic(solve, rounds=3, iterations=1, warmup_rounds=1)
    assert maps.shape == (32, *SHAPE)
