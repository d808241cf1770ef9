"""CSR: image fusion with convolutional sparse representation (Liu et al., IEEE SPL 2016)."""
from __future__ import annotations

from typing import Any

import numpy as np

from mmif_bench.method import Method, Option
from mmif_bench.weights import WEIGHTS_ENV, WeightFile

from .convsparse import (
    ADMMOptions,
    as_8bit,
    authors_order,
    choose_by_activity,
    conv_bpdn,
    filter_spectra,
    load_dictionary,
    synthesize,
    tikhonov_split,
)

DICTIONARY_FILE = WeightFile(
    "CSR-dict.mat", repository="yuliu316316/CSR-Fusion",
    commit="48aff426b684d50178ce75eec150f02b1b13bb68", path="dict.mat", size=7846,
    sha256="2cf35f24bc7270995db519f28a2ffdd310f9188e5efe7c7dc2f9f7107c3cdba7",
    git_blob="f372496132c492bc2e449d33f34e999f94c421cc",
    licence="none stated: the README allows research use, cite the paper")


class CSRFusion(Method):
    """Image fusion with convolutional sparse representation (CSR), multi-modal rules.

    Each source (double, [0, 1]) is split by a Tikhonov lowpass (lambda 5) into base and
    detail; each detail layer is coded over the authors' 32 learned 8 x 8 filters by
    convolutional BPDN (lambda 0.01; ADMM, rho 1.5, at most 500 iterations, relative
    tolerance 1e-3; single precision as the float32 dictionary makes it in MATLAB). At each
    pixel the whole coefficient vector of the source with the larger 7 x 7 mean l1 activity
    is kept (ties: the second source); the fused image is the mean base plus the detail
    synthesised from the kept coefficients, quantised to 8 bits as the authors' code does.
    Sources go in the reference order: CT first for MRI-CT, else the MRI first.

    Parameters
    ----------
    dictionary : path
        The authors' ``dict.mat`` (store name ``CSR-dict.mat``); default: that file in
        ``$MMIF_BENCH_WEIGHTS`` or the fetched store (``mmif-bench fetch weights csr``).
    lmbda : float
        Sparsity weight of the BPDN, 0.01 (the authors' ``Script.m``).

    References
    ----------
    Y. Liu, X. Chen, R. K. Ward and Z. J. Wang, "Image fusion with convolutional sparse
    representation", IEEE Signal Processing Letters 23(12), 1882-1886, 2016.
    """

    name = "csr"
    display_name = "CSR"
    bibtex = """@article{liu2016csr,
  author  = {Liu, Yu and Chen, Xun and Ward, Rabab K. and Wang, Z. Jane},
  title   = {Image fusion with convolutional sparse representation},
  journal = {IEEE Signal Processing Letters},
  volume  = {23},
  number  = {12},
  pages   = {1882--1886},
  year    = {2016},
  doi     = {10.1109/LSP.2016.2618776}
}"""
    weight_files = {"dictionary": DICTIONARY_FILE}
    options = {
        "dictionary": Option("", f"the authors' dict.mat; default ${WEIGHTS_ENV}/{DICTIONARY_FILE.name}",
                             "path"),
        "lmbda": Option(0.01, "sparsity weight of the convolutional BPDN", "float"),
    }

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.filters = load_dictionary(self.weight_path("dictionary"), "D")

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        lmbda = float(self.config["lmbda"])
        solver = ADMMOptions(rho=100 * lmbda + 0.5, max_iter=500)
        spectra = filter_spectra(self.filters, a.shape)
        bases, maps = [], []
        for source in authors_order(a, b, modality):
            base, detail = tikhonov_split(source.astype(np.float64), 5.0)
            bases.append(base)
            maps.append(conv_bpdn(spectra, detail, lmbda, solver))
        detail = synthesize(spectra, choose_by_activity(maps[0], maps[1], radius=3))
        return as_8bit(((bases[0] + bases[1]) / 2).astype(np.float32) + detail)
