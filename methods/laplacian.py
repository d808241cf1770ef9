"""Laplacian pyramid fusion (OpenCV pyrDown / pyrUp)."""
from __future__ import annotations

import cv2
import numpy as np

from mmif_bench.method import Method, Option

from .rules import max_abs, to_unit


def laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """``levels`` band-pass layers, finest first, then the low-pass base.

    ``image`` is H x W or H x W x C (channels are filtered independently). Sizes
    halve rounding up, and ``pyrUp`` gets the explicit size of the finer level, so
    odd sizes reconstruct exactly. Stops early when a side would drop below 2.
    """
    pyramid = []
    current = image
    for _ in range(levels):
        height, width = current.shape[:2]
        if min(height, width) < 2:
            break
        smaller = cv2.pyrDown(current, dstsize=((width + 1) // 2, (height + 1) // 2))
        expanded = cv2.pyrUp(smaller, dstsize=(width, height))
        pyramid.append(current - expanded.reshape(current.shape))
        current = smaller.reshape(smaller.shape[:2] + current.shape[2:])
    pyramid.append(current)
    return pyramid


def collapse(pyramid: list[np.ndarray]) -> np.ndarray:
    """Invert :func:`laplacian_pyramid`."""
    image = pyramid[-1]
    for layer in reversed(pyramid[:-1]):
        height, width = layer.shape[:2]
        image = cv2.pyrUp(image, dstsize=(width, height)).reshape(layer.shape) + layer
    return image


class LaplacianFusion(Method):
    """Laplacian pyramid fusion: average the base, keep the larger-magnitude detail.

    Each source is decomposed into ``levels`` band-pass layers and a low-pass
    base (Burt-Adelson 5-tap Gaussian, OpenCV ``pyrDown``/``pyrUp``). The bases
    are averaged; at every band-pass coefficient the source with the larger
    absolute value is kept (the choose-max rule on single coefficients, not the
    paper's window-energy match measure); collapsing the pyramid gives the result.

    Parameters
    ----------
    levels : int
        Band-pass levels, default 4; fewer when the image is too small.

    References
    ----------
    P. J. Burt and E. H. Adelson, "The Laplacian pyramid as a compact image code",
    IEEE Trans. Communications 31(4), 532-540, 1983.
    P. J. Burt and R. J. Kolczynski, "Enhanced image capture through fusion",
    Proc. ICCV, 173-182, 1993.
    """

    name = "laplacian"
    display_name = "LP"
    bibtex = """@article{burt1983laplacian,
  author  = {Burt, Peter J. and Adelson, Edward H.},
  title   = {The {Laplacian} pyramid as a compact image code},
  journal = {IEEE Transactions on Communications},
  volume  = {31},
  number  = {4},
  pages   = {532--540},
  year    = {1983},
  doi     = {10.1109/TCOM.1983.1095851}
}

@inproceedings{burt1993enhanced,
  author    = {Burt, Peter J. and Kolczynski, Raymond J.},
  title     = {Enhanced image capture through fusion},
  booktitle = {Proceedings of the Fourth International Conference on Computer Vision (ICCV)},
  pages     = {173--182},
  year      = {1993},
  doi       = {10.1109/ICCV.1993.378222}
}"""
    options = {"levels": Option(4, "number of band-pass pyramid levels", "int")}

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        both = np.dstack([a, b]).astype(np.float32)
        pyramid = laplacian_pyramid(both, int(self.config["levels"]))
        fused = [max_abs(layer[..., 0], layer[..., 1]) for layer in pyramid[:-1]]
        fused.append(pyramid[-1].mean(axis=2))
        return to_unit(collapse(fused))
