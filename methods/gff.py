"""Guided filtering based fusion (GFF)."""
from __future__ import annotations

import cv2
import numpy as np

from mmif_bench.method import Method, Option

from .rules import to_unit


def box_means(radius: int, *images: np.ndarray) -> list[np.ndarray]:
    """Means over the (2r+1)^2 window of H x W x C ``images``, counting only pixels
    inside the image (He et al.'s box filter); one OpenCV call for all of them."""
    size = (2 * radius + 1, 2 * radius + 1)
    stack = np.concatenate(images, axis=2)
    total = cv2.boxFilter(stack, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    ones = np.ones(stack.shape[:2], dtype=stack.dtype)
    count = cv2.boxFilter(ones, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    means = total.reshape(stack.shape) / count[..., None]
    return np.split(means, len(images), axis=2)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Gray-guide guided filter (He, Sun, Tang, TPAMI 2013) with box means.

    ``guide`` and ``src`` are H x W x C float64; each channel of ``src`` is filtered
    with the same channel of ``guide``.
    """
    mean_i, mean_p, corr_ip, corr_ii = box_means(radius, guide, src, guide * src, guide * guide)
    slope = (corr_ip - mean_i * mean_p) / (corr_ii - mean_i * mean_i + eps)
    offset = mean_p - slope * mean_i
    mean_slope, mean_offset = box_means(radius, slope, offset)
    return mean_slope * guide + mean_offset


def gff_weights(
    sources: np.ndarray,
    r1: int = 45,
    eps1: float = 0.3,
    r2: int = 7,
    eps2: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """Base and detail weight maps of GFF for H x W x N ``sources`` in [0, 1].

    Saliency is the 11 x 11 Gaussian (sigma 5) of the absolute 3 x 3 Laplacian;
    each pixel's binary map marks the most salient source (the first on ties);
    guided filtering by each source refines its map, ``(r1, eps1)`` for the
    base layer and ``(r2, eps2)`` for the detail layer. The refined maps are
    clipped to [0, 1] and normalised to sum 1 over the sources (equal weights
    where all are zero). Returns two float64 H x W x N arrays.
    """
    images = sources.astype(np.float64)
    laplace = np.abs(cv2.Laplacian(images, cv2.CV_64F, ksize=1, borderType=cv2.BORDER_REPLICATE))
    saliency = cv2.GaussianBlur(laplace, (11, 11), 5, borderType=cv2.BORDER_REPLICATE)
    saliency = saliency.reshape(images.shape)
    count = images.shape[2]
    binary = (np.argmax(saliency, axis=2)[..., None] == np.arange(count)).astype(np.float64)
    weights = []
    for radius, eps in ((r1, eps1), (r2, eps2)):
        refined = np.clip(guided_filter(images, binary, radius, eps), 0.0, 1.0)
        total = refined.sum(axis=2, keepdims=True)
        weights.append(np.where(total > 0, refined / np.where(total > 0, total, 1.0), 1.0 / count))
    return weights[0], weights[1]


class GFFFusion(Method):
    """Image fusion with guided filtering (GFF).

    Two-scale decomposition: base = 31 x 31 average filter of a source, detail
    = source - base. Weight maps from Laplacian saliency (see
    :func:`gff_weights`) are refined by guided filtering and the fused image is
    ``sum_n Wb_n B_n + sum_n Wd_n D_n``.

    Parameters
    ----------
    r1, eps1 : int, float
        Guided filter radius and regularisation for the base weights, 45 and 0.3.
    r2, eps2 : int, float
        Guided filter radius and regularisation for the detail weights, 7 and 1e-6.

    Notes
    -----
    Filters use replicated borders (as the authors' MATLAB ``imfilter(...,
    'replicate')``); the guided filter's box means count only pixels inside the
    image. Guided filtering may overshoot [0, 1] slightly: the refined weights are
    clipped to [0, 1] before normalisation (the paper does not say; MATLAB versions
    of the authors' code clip too).

    References
    ----------
    S. Li, X. Kang and J. Hu, "Image fusion with guided filtering", IEEE Trans.
    Image Processing 22(7), 2864-2875, 2013.
    """

    name = "gff"
    display_name = "GFF"
    bibtex = """@article{li2013gff,
  author  = {Li, Shutao and Kang, Xudong and Hu, Jianwen},
  title   = {Image fusion with guided filtering},
  journal = {IEEE Transactions on Image Processing},
  volume  = {22},
  number  = {7},
  pages   = {2864--2875},
  year    = {2013},
  doi     = {10.1109/TIP.2013.2244222}
}"""
    options = {
        "r1": Option(45, "guided filter radius, base weights", "int"),
        "eps1": Option(0.3, "guided filter regularisation, base weights", "float"),
        "r2": Option(7, "guided filter radius, detail weights", "int"),
        "eps2": Option(1e-6, "guided filter regularisation, detail weights", "float"),
    }

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        sources = np.dstack([a, b]).astype(np.float64)
        base = cv2.blur(sources, (31, 31), borderType=cv2.BORDER_REPLICATE).reshape(sources.shape)
        detail = sources - base
        c = self.config
        w_base, w_detail = gff_weights(sources, c["r1"], c["eps1"], c["r2"], c["eps2"])
        return to_unit((w_base * base + w_detail * detail).sum(axis=2))
