"""Batched linear filters shared by the metric modules (all profiles).

The stack functions take an N x H x W float64 stack and filter each image on its own;
the streamed moments (:func:`moment_block`, :func:`moment_means`) are compiled kernels
that the metrics' own kernels call row by row. Filters are correlations (no kernel
flip); the symmetric windows used by the metrics make correlation and convolution
coincide, and the Sobel helpers state their sign.

Public, stable names: :func:`filter3x3`, :func:`sobel`, :func:`gaussian_taps`,
:func:`filter_valid`, :func:`box_valid`, :func:`window_means`, :class:`WindowMeans`,
:func:`moment_scratch`, :func:`moment_block`, :func:`moment_means`, :func:`halve`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .jit import fma_kernel, kernel

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


@fma_kernel
def _vertical(image: np.ndarray, row: int, taps: np.ndarray, out: np.ndarray) -> None:
    """``out[c] = sum_j taps[j] image[row + j, c]``, four taps per pass over the row."""
    n, width = len(taps), image.shape[1]
    out[:] = 0.0
    j = 0
    while j + 4 <= n:
        r0, r1, r2, r3 = image[row + j], image[row + j + 1], image[row + j + 2], image[row + j + 3]
        t0, t1, t2, t3 = taps[j], taps[j + 1], taps[j + 2], taps[j + 3]
        for c in range(width):
            out[c] += t0 * r0[c] + t1 * r1[c] + t2 * r2[c] + t3 * r3[c]
        j += 4
    for k in range(j, n):
        r0, t0 = image[row + k], taps[k]
        for c in range(width):
            out[c] += t0 * r0[c]


@fma_kernel
def _vertical_pair(image: np.ndarray, row: int, taps: np.ndarray, out0: np.ndarray,
                   out1: np.ndarray) -> None:
    """:func:`_vertical` for rows ``row`` and ``row + 1`` at once: each image row is
    loaded once for both (four taps per pass)."""
    n, width = len(taps), image.shape[1]
    out0[:] = 0.0
    out1[:] = 0.0
    j = 0
    while j + 4 <= n:
        r0, r1, r2 = image[row + j], image[row + j + 1], image[row + j + 2]
        r3, r4 = image[row + j + 3], image[row + j + 4]
        t0, t1, t2, t3 = taps[j], taps[j + 1], taps[j + 2], taps[j + 3]
        for c in range(width):
            a1, a2, a3 = r1[c], r2[c], r3[c]
            out0[c] += t0 * r0[c] + t1 * a1 + t2 * a2 + t3 * a3
            out1[c] += t0 * a1 + t1 * a2 + t2 * a3 + t3 * r4[c]
        j += 4
    for k in range(j, n):
        r0, r1, t0 = image[row + k], image[row + k + 1], taps[k]
        for c in range(width):
            out0[c] += t0 * r0[c]
            out1[c] += t0 * r1[c]


@fma_kernel
def _horizontal(line: np.ndarray, taps: np.ndarray, out: np.ndarray) -> None:
    """``out[c] = sum_j taps[j] line[c + j]``, four taps per pass."""
    n = len(taps)
    out[:] = 0.0
    j = 0
    while j + 4 <= n:
        t0, t1, t2, t3 = taps[j], taps[j + 1], taps[j + 2], taps[j + 3]
        for c in range(len(out)):
            out[c] += t0 * line[c + j] + t1 * line[c + j + 1] + t2 * line[c + j + 2] \
                + t3 * line[c + j + 3]
        j += 4
    for k in range(j, n):
        t0 = taps[k]
        for c in range(len(out)):
            out[c] += t0 * line[c + k]


@fma_kernel
def _separable_valid(x: np.ndarray, taps: np.ndarray, step: int, out: np.ndarray) -> None:
    """Every ``step``-th row and column of each image's 'valid' correlation with
    ``outer(taps, taps)``: a vertical pass per output row into a scratch line (it stays
    in the L1 cache), then the horizontal pass from it (all columns: unit strides
    vectorise), keeping every ``step``-th."""
    width = x.shape[2] - len(taps) + 1
    line, filtered = np.empty(x.shape[2]), np.empty(width)
    for p in range(x.shape[0]):
        for r in range(out.shape[1]):
            _vertical(x[p], step * r, taps, line)
            if step == 1:
                _horizontal(line, taps, out[p, r])
            else:
                _horizontal(line, taps, filtered)
                out[p, r] = filtered[::step]


STREAM_BLOCK_ROWS = 48  # output rows whose moment planes are built at a time (about 1 MB)


@kernel
def moment_scratch(width: int, sources: int, taps: np.ndarray) -> tuple:
    """Scratch arrays of the streamed window moments of images ``width`` wide against
    ``sources`` partners: block planes (2 + 3K x STREAM_BLOCK_ROWS + k - 1 x W), two
    filter lines (2 x W) and two rows of means (2 x 2 + 3K x W - k + 1)."""
    planes = 2 + 3 * sources
    return (np.empty((planes, STREAM_BLOCK_ROWS + len(taps) - 1, width)),
            np.empty((2, width)), np.empty((2, planes, width - len(taps) + 1)))


@kernel
def moment_block(x: np.ndarray, y: tuple, taps: np.ndarray, top: int,
                 planes: np.ndarray) -> int:
    """The planes x, x^2 and per partner y, y^2, xy (in that order) of the image rows
    that 'valid' output rows ``top .. top + block - 1`` of a ``len(taps)`` window need,
    into ``planes`` (from :func:`moment_scratch`); returns ``block`` (at most
    ``STREAM_BLOCK_ROWS``). x is H x W, y a tuple of K such images."""
    block = min(STREAM_BLOCK_ROWS, x.shape[0] - len(taps) + 1 - top)
    for r in range(block + len(taps) - 1):
        xr, px, pxx = x[top + r], planes[0, r], planes[1, r]
        for c in range(xr.shape[0]):
            px[c] = xr[c]
            pxx[c] = xr[c] * xr[c]
        for k in range(len(y)):
            yr, py = y[k][top + r], planes[2 + 3 * k, r]
            pyy, pxy = planes[3 + 3 * k, r], planes[4 + 3 * k, r]
            for c in range(xr.shape[0]):
                py[c] = yr[c]
                pyy[c] = yr[c] * yr[c]
                pxy[c] = xr[c] * yr[c]
    return block


@fma_kernel
def moment_means(planes: np.ndarray, r: int, block: int, taps: np.ndarray,
                 lines: np.ndarray, means: np.ndarray) -> int:
    """Window means of output row r of a block (and of row r + 1 where it is in the
    block) for every plane, into ``means[0]`` (and ``means[1]``): the separable passes
    of :func:`filter_valid`, rows taken in pairs (:func:`_vertical_pair`). Returns the
    number of rows done (1 or 2).

    With :func:`moment_block` this streams the window moments of an image without
    materialising them: a block's planes stay in the L2 cache, and each row of means
    is used while it is in L1 (VIF, MS-SSIM).
    """
    count = 2 if r + 1 < block else 1
    for p in range(planes.shape[0]):
        if count == 2:
            _vertical_pair(planes[p], r, taps, lines[0], lines[1])
        else:
            _vertical(planes[p], r, taps, lines[0])
        for q in range(count):
            _horizontal(lines[q], taps, means[q, p])
    return count


def filter_valid(x: np.ndarray, taps: np.ndarray, step: int = 1) -> np.ndarray:
    """Correlate each image with ``outer(taps, taps)``, keeping the 'valid' region.

    Equal (to rounding, about 1e-15 relative) to
    ``scipy.signal.correlate2d(image, outer(taps, taps), mode='valid')[::step, ::step]``
    per image; output N x ceil((H-k+1)/step) x ceil((W-k+1)/step) for k taps (k odd).
    Separable passes in a compiled kernel (:mod:`metrics.jit`); with ``step`` > 1 only
    the kept rows and columns are computed.
    """
    n, h, w = x.shape
    k = len(taps)
    if k % 2 != 1:
        raise ValueError("the window needs an odd number of taps")
    if h < k or w < k:
        raise ValueError(f"{h}x{w} images are smaller than the {k}x{k} window")
    out = np.empty((n, -(-(h - k + 1) // step), -(-(w - k + 1) // step)))
    _separable_valid(np.ascontiguousarray(x, dtype=np.float64),
                     np.asarray(taps, dtype=np.float64), step, out)
    return out


def box_valid(x: np.ndarray, size: int) -> np.ndarray:
    """Local means over ``size x size`` windows, 'valid' region (size odd).

    :func:`filter_valid` with uniform taps.
    """
    return filter_valid(x, np.full(size, 1.0 / size))


@dataclass(frozen=True)
class WindowMeans:
    """Windowed means of x, y, x^2, y^2 and xy over a window (raw, not central).

    Arrays K x N x h x w over the 'valid' region (h = H - k + 1 for k taps): the stack
    given once (``x``) has K = 1, the others one plane per stack of ``y`` (see
    :func:`window_means`). Fresh arrays: callers may overwrite them (the metrics reuse
    them as scratch space).
    """

    x: np.ndarray
    y: np.ndarray
    xx: np.ndarray
    yy: np.ndarray
    xy: np.ndarray


@kernel
def _streamed_means(x: np.ndarray, y: tuple, taps: np.ndarray, out: np.ndarray) -> None:
    """Every row of window means of one image x and its partners y (the planes of
    :func:`moment_block`, in its order) into ``out`` (2 + 3K x h x w)."""
    planes, lines, means = moment_scratch(x.shape[1], len(y), taps)
    for top in range(0, out.shape[1], STREAM_BLOCK_ROWS):
        block = moment_block(x, y, taps, top, planes)
        for r in range(0, block, 2):
            for q in range(moment_means(planes, r, block, taps, lines, means)):
                out[:, top + r + q] = means[q]


def window_means(x: np.ndarray, y: Sequence[np.ndarray], taps: np.ndarray) -> WindowMeans:
    """Means of x, y, x^2, y^2 and xy over the window ``outer(taps, taps)``.

    ``x`` holds N images, ``y`` is K stacks of N images each (one fused stack F against
    the sources A and B); x and x^2 are filtered once. The streamed moments of
    :func:`moment_block` and :func:`moment_means`, kept whole.
    """
    n, ky = len(x), len(y)
    if any(stack.shape != x.shape for stack in y):
        raise ValueError(f"stack shapes {x.shape} and {[stack.shape for stack in y]} differ")
    _, h, w = x.shape
    k = len(taps)
    if k % 2 != 1:
        raise ValueError("the window needs an odd number of taps")
    if h < k or w < k:
        raise ValueError(f"{h}x{w} images are smaller than the {k}x{k} window")
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = tuple(np.ascontiguousarray(stack, dtype=np.float64) for stack in y)
    taps = np.asarray(taps, dtype=np.float64)
    out = np.empty((2 + 3 * ky, n, h - k + 1, w - k + 1))
    for i in range(n):
        _streamed_means(x[i], tuple(stack[i] for stack in y), taps, out[:, i])
    return WindowMeans(out[0:1], out[2::3], out[1:2], out[3::3], out[4::3])


def halve(x: np.ndarray) -> np.ndarray:
    """2x2 block means keeping every second row and column (MS-SSIM downsampling).

    Equals MATLAB's ``imfilter(x, ones(2)/4, 'symmetric', 'same')`` followed by
    ``x(1:2:end, 1:2:end)``: an odd last row or column is averaged with itself.
    """
    _, h, w = x.shape
    x = np.pad(x, ((0, 0), (0, h % 2), (0, w % 2)), mode="edge")
    return 0.25 * (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2])
