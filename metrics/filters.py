"""Batched linear filters shared by the metric modules (all profiles).

Every function takes an N x H x W float64 stack and filters each image on its own.
Filters are correlations (no kernel flip); the symmetric windows used by the metrics
make correlation and convolution coincide, and the Sobel helpers state their sign.

Public, stable names: :func:`filter3x3`, :func:`sobel`, :func:`gaussian_taps`, :func:`filter_valid`,
:func:`box_valid`, :func:`valid_region`, :func:`window_means`, :class:`WindowMeans`,
:func:`halve`.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_BORDERS = {"constant": cv2.BORDER_CONSTANT, "reflect101": cv2.BORDER_REFLECT_101,
            "replicate": cv2.BORDER_REPLICATE}


SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
SOBEL_Y = SOBEL_X.T.copy()


def filter3x3(x: np.ndarray, kernel: np.ndarray, border: str = "constant",
              convolve: bool = False) -> np.ndarray:
    """Correlate (or convolve) each image with a 3x3 kernel; output the same size.

    OpenCV's ``filter2D`` adds the nonzero products to +0 in row-major kernel order, the
    order of ``scipy.signal.correlate2d``, so the results are bitwise equal to scipy's
    ``mode='same'`` with zero fill for ``border="constant"``. A convolution is the
    correlation of the image rotated by 180 degrees, rotated back: that keeps scipy's
    ``convolve2d`` order (flipping the kernel instead would reverse it). Edge measures
    compare responses for equality and take ``arctan`` of their ratios; matching the
    summation order keeps those decisions identical to the reference code on non-integer
    input too.

    Parameters
    ----------
    x : ndarray, N x H x W
    kernel : ndarray, 3 x 3
    border : {"constant", "reflect101", "replicate"}
        Extension outside the image: zeros, mirror without repeating the edge
        (``dcb|abcd``, OpenCV's BORDER_REFLECT_101, numpy's 'reflect'), or edge copies.
    convolve : bool
        Flip the kernel (true convolution) instead of correlating.
    """
    if border not in _BORDERS:
        raise ValueError(f"unknown border {border!r}; use one of {', '.join(_BORDERS)}")
    x = np.ascontiguousarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    out = np.empty(x.shape)
    for image, result in zip(x, out):
        if convolve:
            rotated = cv2.filter2D(cv2.flip(image, -1), cv2.CV_64F, kernel,
                                   borderType=_BORDERS[border])
            cv2.flip(rotated, -1, dst=result)
        else:
            cv2.filter2D(image, cv2.CV_64F, kernel, dst=result, borderType=_BORDERS[border])
    return out


def sobel(x: np.ndarray, border: str = "constant") -> tuple[np.ndarray, np.ndarray]:
    """Sobel responses of each image, same size as the input.

    Returns ``gx`` = correlation with ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` (positive
    where values grow to the right) and ``gy`` = correlation with its transpose (positive
    where values grow downward), computed by :func:`filter3x3` (``border`` as there).
    Unnormalised: a unit step gives 4. Exact on integer-valued input.
    """
    return filter3x3(x, SOBEL_X, border), filter3x3(x, SOBEL_Y, border)


def gaussian_taps(size: int, sigma: float) -> np.ndarray:
    """1-D taps whose outer product is MATLAB's ``fspecial('gaussian', size, sigma)``.

    The 2-D window ``exp(-(x^2 + y^2) / (2 sigma^2))`` normalised to sum 1 equals
    ``outer(t, t)`` for these taps. ``fspecial`` zeroes coefficients below
    ``eps * max``; that would break separability, so such windows are refused.
    """
    half = (size - 1) / 2.0
    taps = np.exp(-np.arange(-half, half + 1) ** 2 / (2.0 * sigma * sigma))
    if taps[0] ** 2 < np.finfo(np.float64).eps * taps.max() ** 2:
        raise ValueError(f"a {size}x{size} Gaussian with sigma {sigma} is truncated by fspecial; "
                         "it is not separable")
    return taps / taps.sum()


def _filter_tall(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Correlate every image of a stack with ``outer(taps, taps)`` in one OpenCV call.

    The stack is laid out as one tall (N*H) x W image; the result is N x H x W, but only
    each image's 'valid' region (:func:`valid_region`) is its filtered image: the other
    rows and columns mix in the neighbouring image or a mirrored border. Uniform taps use
    OpenCV's running-sum box filter (the same means up to rounding, about 1e-13
    relative on 0..255 data).
    """
    n, h, w = x.shape
    k = len(taps)
    if k % 2 != 1:
        raise ValueError("the window needs an odd number of taps")
    if h < k or w < k:
        raise ValueError(f"{h}x{w} images are smaller than the {k}x{k} window")
    tall = np.ascontiguousarray(x, dtype=np.float64).reshape(n * h, w)
    taps = np.asarray(taps, dtype=np.float64)
    if np.all(taps == taps[0]):
        out = cv2.boxFilter(tall, cv2.CV_64F, (k, k), normalize=True,
                            borderType=cv2.BORDER_REFLECT_101)
    else:
        out = cv2.sepFilter2D(tall, cv2.CV_64F, taps, taps, borderType=cv2.BORDER_REFLECT_101)
    return out.reshape(n, h, w)


def valid_region(height: int, width: int, size: int) -> tuple:
    """Index of the pixels at least ``size // 2`` from the border (the 'valid' region of a
    ``size x size`` window), for arrays ``... x height x width``."""
    r = size // 2
    return (..., slice(r, height - r), slice(r, width - r))


def filter_valid(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Correlate each image with ``outer(taps, taps)``, keeping the 'valid' region.

    Equal to ``scipy.signal.correlate2d(image, outer(taps, taps), mode='valid')`` per
    image; output N x (H-k+1) x (W-k+1) for k taps (k odd).
    """
    return _filter_tall(x, taps)[valid_region(x.shape[1], x.shape[2], len(taps))]


def box_valid(x: np.ndarray, size: int) -> np.ndarray:
    """Local means over ``size x size`` windows, 'valid' region (size odd).

    OpenCV's running-sum box filter: the same means as :func:`filter_valid` with
    uniform taps up to rounding (about 1e-13 relative on 0..255 data).
    """
    return filter_valid(x, np.full(size, 1.0 / size))


@dataclass(frozen=True)
class WindowMeans:
    """Windowed means of x, y, x^2, y^2 and xy over a window (raw, not central).

    Arrays K x N x H x W: the stack given once (``x``) has K = 1, the other K planes
    per image (see :func:`window_means`). They span the whole image so that per-pixel
    arithmetic runs on contiguous memory; only ``array[valid]``, the 'valid' region,
    holds window means, the border is finite but meaningless. Fresh arrays: callers may
    overwrite them (the metrics reuse them as scratch space, one source plane at a time,
    which keeps the working set of one 256 x 256 image in the L2 cache).
    """

    x: np.ndarray
    y: np.ndarray
    xx: np.ndarray
    yy: np.ndarray
    xy: np.ndarray
    valid: tuple


def window_means(x: np.ndarray, y: np.ndarray, taps: np.ndarray) -> WindowMeans:
    """Means of x, y, x^2, y^2 and xy over the window ``outer(taps, taps)``, one filter call.

    ``x`` holds N images, ``y`` K * N: image i of x pairs with images i, N + i, ... of y
    (one fused stack F against the sources [A, B]); x and x^2 are filtered once. All
    2 + 3K planes go through one OpenCV call (:func:`_filter_tall`).
    """
    n, (ky, rest) = len(x), divmod(len(y), len(x))
    if rest:
        raise ValueError(f"stack lengths {len(x)} and {len(y)}: the second must be a multiple")
    _, h, w = x.shape
    planes = np.empty((2 + 3 * ky, n, h, w))
    xs, ys = planes[:1], planes[1:1 + ky]
    xs[0] = x
    ys[...] = y.reshape(ky, n, h, w)
    np.multiply(xs, xs, out=planes[1 + ky:2 + ky])
    for k in range(ky):  # one image plane per operation: cache-sized
        np.multiply(ys[k], ys[k], out=planes[2 + ky + k])
        np.multiply(xs[0], ys[k], out=planes[2 + 2 * ky + k])
    filtered = _filter_tall(planes.reshape(-1, h, w), taps).reshape(planes.shape)
    return WindowMeans(filtered[:1], filtered[1:1 + ky], filtered[1 + ky:2 + ky],
                       filtered[2 + ky:2 + 2 * ky], filtered[2 + 2 * ky:],
                       valid_region(h, w, len(taps)))


def halve(x: np.ndarray) -> np.ndarray:
    """2x2 block means keeping every second row and column (MS-SSIM downsampling).

    Equals MATLAB's ``imfilter(x, ones(2)/4, 'symmetric', 'same')`` followed by
    ``x(1:2:end, 1:2:end)``: an odd last row or column is averaged with itself.
    """
    _, h, w = x.shape
    x = np.pad(x, ((0, 0), (0, h % 2), (0, w % 2)), mode="edge")
    return 0.25 * (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2])
