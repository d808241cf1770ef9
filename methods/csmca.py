"""CSMCA: medical image fusion via convolutional sparsity based morphological component
analysis (Liu et al., IEEE SPL 2019)."""
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

_REPOSITORY = {"repository": "yuliu316316/CSMCA-Fusion",
               "commit": "6f6c3e79fb72a7ef6f7cd2336092bf985e6a08ad",
               "licence": "none stated: the README allows research use, cite the paper"}
CARTOON_FILE = WeightFile(
    "CSMCA-Dc_8_8_32.mat", path="dictionary/Dc_8_8_32.mat", size=15918,
    sha256="7dda5cc96cb71041d24b0006c3d9eb2daea7403bea0ba8d2b30055dab52754c6",
    git_blob="28ff91679b7d85ab47c92a25716a2408bdc8098b", **_REPOSITORY)
TEXTURE_FILE = WeightFile(
    "CSMCA-Dt_8_8_32.mat", path="dictionary/Dt_8_8_32.mat", size=15943,
    sha256="8ff8902bb05d92f2329ff65ac80434e3924ce6beb06f6b4a3010ffeca28a5190",
    git_blob="0174d0910e38baec6f14f7e83487fbb8286bb5ef", **_REPOSITORY)
ROUNDS = 6
SOLVER_ITERATIONS = 30


def mca_lambda(round_index: int) -> float:
    """The BPDN weight of MCA round k = 1..6: max(0.6 - 0.1 k, 0.005) in double, as the
    authors compute it (0.5, 0.4, 0.3, 0.2, 0.1, then the 0.005 floor)."""
    return max(0.6 - 0.1 * round_index, 0.005)


def csmca_decompose(detail: np.ndarray, cartoon: np.ndarray, texture: np.ndarray,
                    rho_guard: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Cartoon and texture coefficient maps (M x H x W float32 each) of a detail layer
    (the authors' ``CSMCA.m``): six rounds, each re-coding the cartoon part, then the
    texture part, of what the other leaves; every solve starts from zero and stops after
    30 ADMM iterations at most. ``cartoon``/``texture``: :func:`filter_spectra` of Dc, Dt."""
    part_c = np.zeros(detail.shape, dtype=np.float32)
    part_t = np.zeros(detail.shape, dtype=np.float32)
    maps = {}
    for step in range(1, 2 * ROUNDS + 1):
        lmbda = mca_lambda((step + 1) // 2)  # MATLAB round(step / 2)
        residue = detail - part_t - part_c
        if step % 2:
            opt = ADMMOptions(rho=50 * lmbda + 1, max_iter=SOLVER_ITERATIONS, rho_guard=rho_guard)
            maps["cartoon"] = conv_bpdn(cartoon, part_c + residue, lmbda, opt)
            part_c = synthesize(cartoon, maps["cartoon"])
        else:
            opt = ADMMOptions(rho=1.0, max_iter=SOLVER_ITERATIONS, rho_guard=rho_guard)
            maps["texture"] = conv_bpdn(texture, part_t + residue, lmbda, opt)
            part_t = synthesize(texture, maps["texture"])
    return maps["cartoon"], maps["texture"]


class CSMCAFusion(Method):
    """Medical image fusion via convolutional sparsity based morphological component
    analysis (CSMCA).

    Each source (single precision, [0, 1]) is split by a Tikhonov lowpass (lambda 60) into
    base and detail; the detail is decomposed into cartoon and texture coefficient maps
    over the authors' two learned dictionaries of 32 8 x 8 filters (see
    :func:`csmca_decompose`). Cartoon and texture are fused separately: at each pixel the
    coefficient vector of the source with the larger mean l1 activity over an 11 x 11
    (cartoon) or 5 x 5 (texture) window is kept (ties: the second source). The fused image
    is the mean base plus both synthesised details, quantised to 8 bits as the authors'
    code does. Sources go in the reference order: CT first for MRI-CT, else the MRI first.

    Parameters
    ----------
    cartoon_dictionary, texture_dictionary : path
        The authors' ``Dc_8_8_32.mat`` and ``Dt_8_8_32.mat`` (store names
        ``CSMCA-Dc_8_8_32.mat``, ``CSMCA-Dt_8_8_32.mat``); default: those files in
        ``$MMIF_BENCH_WEIGHTS`` or the fetched store (``mmif-bench fetch weights csmca``).
    rho_guard : bool
        True (default): an automatic rho update that would take the ADMM penalty past the
        float32 range is skipped. False: the authors' code exactly, whose rho grows x100 per
        iteration while a texture solve's coefficients stay all zero and overflows to
        NaN, which makes the fused image all black (most MRI-SPECT pairs). The guard
        changes nothing where the authors' code stays finite.

    References
    ----------
    Y. Liu, X. Chen, R. K. Ward and Z. J. Wang, "Medical image fusion via convolutional
    sparsity based morphological component analysis", IEEE Signal Processing Letters 26(3),
    485-489, 2019.
    """

    name = "csmca"
    display_name = "CSMCA"
    bibtex = """@article{liu2019csmca,
  author  = {Liu, Yu and Chen, Xun and Ward, Rabab K. and Wang, Z. Jane},
  title   = {Medical image fusion via convolutional sparsity based morphological component analysis},
  journal = {IEEE Signal Processing Letters},
  volume  = {26},
  number  = {3},
  pages   = {485--489},
  year    = {2019},
  doi     = {10.1109/LSP.2019.2895749}
}"""
    weight_files = {"cartoon_dictionary": CARTOON_FILE, "texture_dictionary": TEXTURE_FILE}
    options = {
        "cartoon_dictionary": Option("", f"the authors' Dc_8_8_32.mat; default "
                                         f"${WEIGHTS_ENV}/{CARTOON_FILE.name}", "path"),
        "texture_dictionary": Option("", f"the authors' Dt_8_8_32.mat; default "
                                         f"${WEIGHTS_ENV}/{TEXTURE_FILE.name}", "path"),
        "rho_guard": Option(True, "skip rho updates that would overflow float32 (false: the "
                                  "authors' NaN, black images on most MRI-SPECT pairs)", "bool"),
    }

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.cartoon = load_dictionary(self.weight_path("cartoon_dictionary"), "Dc")
        self.texture = load_dictionary(self.weight_path("texture_dictionary"), "Dt")

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        cartoon = filter_spectra(self.cartoon, a.shape)
        texture = filter_spectra(self.texture, a.shape)
        bases, coded = [], []
        for source in authors_order(a, b, modality):
            base, detail = tikhonov_split(source.astype(np.float32), 60.0)
            bases.append(base)
            coded.append(csmca_decompose(detail, cartoon, texture, bool(self.config["rho_guard"])))
        fused_c = choose_by_activity(coded[0][0], coded[1][0], radius=5)
        fused_t = choose_by_activity(coded[0][1], coded[1][1], radius=2)
        return as_8bit((bases[0] + bases[1]) / 2 + synthesize(cartoon, fused_c)
                       + synthesize(texture, fused_t))
