"""Discrete wavelet transform fusion (PyWavelets)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pywt

from mmif_bench.method import Method, Option

from .rules import max_abs, to_unit


class DWTFusion(Method):
    """Wavelet fusion: average the approximation band, keep the larger-magnitude detail.

    Both sources are decomposed with a ``levels``-level 2-D DWT; the coarsest
    approximation coefficients are averaged, every detail coefficient is taken
    from the source with the larger absolute value, and the inverse DWT gives
    the fused image.

    Parameters
    ----------
    wavelet : str
        PyWavelets wavelet name, default ``"db2"``.
    levels : int
        Decomposition levels, default 3; lowered to the most the image size allows.
    mode : str
        Signal extension mode, default ``"symmetric"`` (as MATLAB's ``wavedec2``).

    Notes
    -----
    Any size works: the reconstruction is cropped back to the input shape (the
    symmetric extension adds a row/column for odd sizes).

    References
    ----------
    H. Li, B. S. Manjunath and S. K. Mitra, "Multisensor image fusion using the
    wavelet transform", Graphical Models and Image Processing 57(3), 235-245, 1995.
    """

    name = "dwt"
    display_name = "DWT"
    bibtex = """@article{li1995wavelet,
  author  = {Li, Hui and Manjunath, B. S. and Mitra, Sanjit K.},
  title   = {Multisensor image fusion using the wavelet transform},
  journal = {Graphical Models and Image Processing},
  volume  = {57},
  number  = {3},
  pages   = {235--245},
  year    = {1995},
  doi     = {10.1006/gmip.1995.1022}
}"""
    options = {
        "wavelet": Option("db2", "PyWavelets wavelet name", "str"),
        "levels": Option(3, "decomposition levels", "int"),
        "mode": Option("symmetric", "PyWavelets signal extension mode", "str"),
    }

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.wavelet = pywt.Wavelet(self.config["wavelet"])  # unknown names fail here
        pywt.Modes.from_object(self.config["mode"])

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        return self.fuse_batch(a[None], b[None])[0]

    def fuse_batch(self, a: np.ndarray, b: np.ndarray, *,
                   modality: str | None = None) -> np.ndarray:
        wavelet = self.wavelet
        height, width = a.shape[-2:]
        max_levels = pywt.dwt_max_level(min(height, width), wavelet.dec_len)
        levels = min(int(self.config["levels"]), max_levels)
        mode = self.config["mode"]
        ca = pywt.wavedec2(a.astype(np.float32), wavelet, mode, levels, axes=(-2, -1))
        cb = pywt.wavedec2(b.astype(np.float32), wavelet, mode, levels, axes=(-2, -1))
        fused = [(ca[0] + cb[0]) / 2.0]
        for bands_a, bands_b in zip(ca[1:], cb[1:]):
            fused.append(tuple(max_abs(x, y) for x, y in zip(bands_a, bands_b)))
        out = pywt.waverec2(fused, wavelet, mode, axes=(-2, -1))
        return to_unit(out[..., :height, :width])
