"""The non-subsampled shearlet transform (NSST) as the NSST toolbox of Easley, Labate and
Lim computes it (``nsst_dec2`` / ``nsst_rec2``, 'maxflat' pyramid filters).

Two stages, nothing decimated. A non-subsampled Laplacian (a-trous) pyramid splits an
image into one lowpass band and ``len(directions)`` highpass bands with the 'maxflat'
filters of da Cunha, Zhou and Do, dilated by 1, 2, 4, ... (zeros between the taps), each
level a centred convolution over the half-sample symmetric extension (edge repeated).
Each highpass band is then split into ``2**k`` directional subbands by circular (FFT)
convolution with shearing filters: Meyer windows on a pseudo-polar grid, brought to an
``n x n`` spatial filter anchored at the array origin and normalised per frequency so that
the directions form a Parseval frame. The pyramid runs in the frequency domain of the
``2H x 2W`` symmetric extension, where a symmetric filter's centred convolution with
symmetric borders is an exact product; it agrees with the toolbox's level-by-level
convolutions to rounding (about 1e-15).

References
----------
G. Easley, D. Labate and W.-Q. Lim, "Sparse directional image representations using the
discrete shearlet transform", Applied and Computational Harmonic Analysis 25(1), 25-46, 2008.
A. L. da Cunha, J. Zhou and M. N. Do, "The nonsubsampled contourlet transform: theory,
design, and applications", IEEE Trans. Image Processing 15(10), 3089-3101, 2006.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft

# The 'maxflat' a-trous filters of da Cunha, Zhou and Do (quasi-tight frame, bounds 0.97
# and 1; 4 vanishing moments): the top-left quadrant of each symmetric filter, centre tap
# last, mirrored by maxflat_filters(). Numbers as published in the nsct_toolbox's
# atrousfilters.m (A. L. da Cunha, MathWorks File Exchange 10049), the copy bundled with
# yuliu316316/NSST-PAPCNN-Fusion at commit 04454e9c53feba912efe17410934651c1398698b
# (shearlet/atrousfilters.m, git blob b7701a5590e9dc9e7dfcff990313ee33038bcce8).
# h0/h1: analysis lowpass/highpass (13 x 13, 19 x 19); g0/g1: synthesis (19 x 19, 13 x 13).
MAXFLAT_QUADRANTS: dict[str, tuple[tuple[float, ...], ...]] = {
    "h0": (
        (-7.900496718847182e-07, 0.0, 1.4220894093924927e-05, 2.5281589500310983e-05,
         -4.9773129328737247e-05, -0.00022753430550279883, -0.00033182086219158167),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (1.4220894093924927e-05, 0.0, -0.0002559760936906487, -0.00045506861100559767,
         0.0008959163279172705, 0.004095617499050379, 0.00597277551944847),
        (2.5281589500310983e-05, 0.0, -0.00045506861100559767, 0.0009765625, 0.0015927401385195919,
         -0.0087890625, -0.01795090623402861),
        (-4.9773129328737247e-05, 0.0, 0.0008959163279172705, 0.0015927401385195919,
         -0.0031357071477104465, -0.014334661246676327, -0.020904714318069645),
        (-0.00022753430550279883, 0.0, 0.004095617499050379, -0.0087890625, -0.014334661246676327,
         0.0791015625, 0.16155815610625748),
        (-0.00033182086219158167, 0.0, 0.00597277551944847, -0.01795090623402861,
         -0.020904714318069645, 0.16155815610625748, 0.3177420190660832),
    ),
    "h1": (
        (6.391587676622346e-10, 0.0, -1.7257286726880333e-08, -3.067962084778726e-08,
         1.3805829381504267e-07, 5.522331752601707e-07, 3.3747582932565985e-07,
         -1.9328161134105974e-06, -5.6949046198705095e-06, -7.649452131381623e-06),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (-1.7257286726880333e-08, 0.0, 4.65946741625769e-07, 8.283497628902559e-07,
         -3.727573933006152e-06, -1.4910295732024608e-05, -9.111847391792816e-06,
         5.2186035062086126e-05, 0.00015376242473650378, 0.00020653520754730382),
        (-3.067962084778726e-08, 0.0, 8.283497628902559e-07, -2.9917573832012203e-07,
         -6.6267981031220475e-06, 5.3851632897621965e-06, 4.049868144081346e-05,
         -1.884807151416769e-05, -0.00023692226948222173, -0.0003769812640795245),
        (1.3805829381504267e-07, 0.0, -3.727573933006152e-06, -6.6267981031220475e-06,
         2.9820591464049215e-05, 0.00011928236585619686, 7.289477913434253e-05,
         -0.000417488280496689, -0.0012300993978920302, -0.0016522816603784306),
        (5.522331752601707e-07, 0.0, -1.4910295732024608e-05, 5.3851632897621965e-06,
         0.00011928236585619686, -9.693293921571956e-05, -0.0007289762659346422,
         0.00033926528725501844, 0.004264600850679991, 0.006785662753431441),
        (3.3747582932565985e-07, 0.0, -9.111847391792816e-06, 4.049868144081346e-05,
         7.289477913434253e-05, -0.0007289762659346422, -0.001468581806076247,
         0.002551416930771248, 0.01181401175635013, 0.017093222023136675),
        (-1.9328161134105974e-06, 0.0, 5.2186035062086126e-05, -1.884807151416769e-05,
         -0.000417488280496689, 0.00033926528725501844, 0.002551416930771248,
         -0.0011874285053925643, -0.01492610297737997, -0.023749819637010044),
        (-5.6949046198705095e-06, 0.0, 0.00015376242473650378, -0.00023692226948222173,
         -0.0012300993978920302, 0.004264600850679991, 0.01181401175635013, -0.01492610297737997,
         -0.0826466923977296, -0.12203257624594532),
        (-7.649452131381623e-06, 0.0, 0.00020653520754730382, -0.0003769812640795245,
         -0.0016522816603784306, 0.006785662753431441, 0.017093222023136675, -0.023749819637010044,
         -0.12203257624594532, 0.821896776039774),
    ),
    "g0": (
        (-6.391587676622346e-10, 0.0, 1.7257286726880333e-08, 3.067962084778726e-08,
         -1.3805829381504267e-07, -5.522331752601707e-07, -3.3747582932565985e-07,
         1.9328161134105974e-06, 5.6949046198705095e-06, 7.649452131381623e-06),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (1.7257286726880333e-08, 0.0, -4.65946741625769e-07, -8.283497628902559e-07,
         3.727573933006152e-06, 1.4910295732024608e-05, 9.111847391792816e-06,
         -5.2186035062086126e-05, -0.00015376242473650378, -0.00020653520754730382),
        (3.067962084778726e-08, 0.0, -8.283497628902559e-07, -1.2809236054493144e-06,
         6.6267981031220475e-06, 2.305662489808766e-05, 1.0064497559808503e-05,
         -8.06981871433068e-05, -0.00021814634152337594, -0.00028666046030363884),
        (-1.3805829381504267e-07, 0.0, 3.727573933006152e-06, 6.6267981031220475e-06,
         -2.9820591464049215e-05, -0.00011928236585619686, -7.289477913434253e-05,
         0.000417488280496689, 0.0012300993978920302, 0.0016522816603784306),
        (-5.522331752601707e-07, 0.0, 1.4910295732024608e-05, 2.305662489808766e-05,
         -0.00011928236585619686, -0.00041501924816557786, -0.00018116095607655303,
         0.0014525673685795225, 0.0039266341474207675, 0.005159888285465499),
        (-3.3747582932565985e-07, 0.0, 9.111847391792816e-06, 1.0064497559808503e-05,
         -7.289477913434253e-05, -0.00018116095607655303, 0.001468581806076247,
         0.0006340633462679356, -0.01181401175635013, -0.021745034491193898),
        (1.9328161134105974e-06, 0.0, -5.2186035062086126e-05, -8.06981871433068e-05,
         0.000417488280496689, 0.0014525673685795225, 0.0006340633462679356, -0.005083985790028328,
         -0.013743219515972684, -0.018059608999129246),
        (5.6949046198705095e-06, 0.0, -0.00015376242473650378, -0.00021814634152337594,
         0.0012300993978920302, 0.0039266341474207675, -0.01181401175635013, -0.013743219515972684,
         0.0826466923977296, 0.1638988884584603),
        (7.649452131381623e-06, 0.0, -0.00020653520754730382, -0.00028666046030363884,
         0.0016522816603784306, 0.005159888285465499, -0.021745034491193898, -0.018059608999129246,
         0.1638988884584603, 0.31358726209239235),
    ),
    "g1": (
        (-7.900496718847182e-07, 0.0, 1.4220894093924927e-05, 2.5281589500310983e-05,
         -4.9773129328737247e-05, -0.00022753430550279883, -0.00033182086219158167),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (1.4220894093924927e-05, 0.0, -0.0002559760936906487, -0.00045506861100559767,
         0.0008959163279172705, 0.004095617499050379, 0.00597277551944847),
        (2.5281589500310983e-05, 0.0, -0.00045506861100559767, -0.0009765625,
         0.0015927401385195919, 0.0087890625, 0.01329909376597139),
        (-4.9773129328737247e-05, 0.0, 0.0008959163279172705, 0.0015927401385195919,
         -0.0031357071477104465, -0.014334661246676327, -0.020904714318069645),
        (-0.00022753430550279883, 0.0, 0.004095617499050379, 0.0087890625, -0.014334661246676327,
         -0.0791015625, -0.1196918438937425),
        (-0.00033182086219158167, 0.0, 0.00597277551944847, 0.01329909376597139,
         -0.020904714318069645, -0.1196918438937425, 0.8177420190660831),
    ),
}


def maxflat_filters() -> dict[str, np.ndarray]:
    """The four 'maxflat' pyramid filters ``h0, h1, g0, g1``, each mirrored from its
    quadrant into the full symmetric filter (odd size, centre tap in the middle)."""
    filters = {}
    for name, rows in MAXFLAT_QUADRANTS.items():
        quadrant = np.array(rows, dtype=np.float64)
        half = np.concatenate([quadrant, quadrant[:, -2::-1]], axis=1)
        filters[name] = np.concatenate([half, half[-2::-1]], axis=0)
    return filters


def _frozen(array: np.ndarray) -> np.ndarray:
    """``array`` made read-only: cached filters are shared by every caller."""
    array.flags.writeable = False
    return array


def symmetric_spectrum(images: np.ndarray) -> np.ndarray:
    """``rfft2`` of the ``2H x 2W`` half-sample symmetric extension of ``... x H x W``
    images: the period over which a-trous filtering with mirrored borders is circular."""
    rows = np.concatenate([images, images[..., ::-1, :]], axis=-2)
    return fft.rfft2(np.concatenate([rows, rows[..., ::-1]], axis=-1))


@lru_cache(maxsize=16)
def atrous_responses(shape: tuple[int, int], levels: int) -> dict[str, tuple[np.ndarray, ...]]:
    """Frequency responses on the ``2H x 2W`` grid of the maxflat filters dilated by
    ``2**level`` (level 0 finest), centred at the origin; per filter name, one per level."""
    height, width = 2 * shape[0], 2 * shape[1]
    responses: dict[str, tuple[np.ndarray, ...]] = {}
    for name, taps in maxflat_filters().items():
        per_level = []
        for level in range(levels):
            step, centre = 2**level, taps.shape[0] // 2
            offsets = (np.arange(taps.shape[0]) - centre) * step
            kernel = np.zeros((height, width))
            np.add.at(kernel, np.ix_(offsets % height, offsets % width), taps)
            per_level.append(_frozen(fft.rfft2(kernel).real))  # symmetric: real response
        responses[name] = tuple(per_level)
    return responses


def atrous_decompose(images: np.ndarray, levels: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The non-subsampled Laplacian pyramid of ``... x H x W`` images: the lowpass band and
    ``levels`` highpass bands, coarse to fine (the toolbox's ``atrousdec``)."""
    height, width = images.shape[-2:]
    responses = atrous_responses((height, width), levels)
    spectrum = symmetric_spectrum(images)
    bands = []
    for level in range(levels):
        highpass = fft.irfft2(spectrum * responses["h1"][level], s=(2 * height, 2 * width))
        bands.append(highpass[..., :height, :width])
        spectrum = spectrum * responses["h0"][level]
    lowpass = fft.irfft2(spectrum, s=(2 * height, 2 * width))[..., :height, :width]
    return lowpass, bands[::-1]


def atrous_reconstruct(lowpass: np.ndarray, bands: list[np.ndarray]) -> np.ndarray:
    """Invert :func:`atrous_decompose` with the synthesis filters ``g0``, ``g1``
    (``atrousrec``): coarse to fine, ``g0 * previous + g1 * band`` at each level."""
    height, width = lowpass.shape[-2:]
    levels = len(bands)
    responses = atrous_responses((height, width), levels)
    spectrum = symmetric_spectrum(lowpass)
    for level, band in zip(range(levels - 1, -1, -1), bands):
        spectrum = (spectrum * responses["g0"][level]
                    + symmetric_spectrum(band) * responses["g1"][level])
    return fft.irfft2(spectrum, s=(2 * height, 2 * width))[..., :height, :width]


def meyer_window(x: float) -> float:
    """The toolbox's Meyer window: 1 on (1/6, 5/6), ``cos^2(pi z / 2)`` with
    ``w = 3|x - 1/2| - 1``, ``z = w^4 (35 - 84 w + 70 w^2 - 20 w^3)`` on [-1/6, 7/6] elsewhere,
    0 outside."""
    if -1 / 3 + 1 / 2 < x < 1 / 3 + 1 / 2:
        return 1.0
    if 1 / 3 + 1 / 2 <= x <= 2 / 3 + 1 / 2 or -2 / 3 + 1 / 2 <= x <= 1 / 3 + 1 / 2:
        w = 3 * abs(x - 1 / 2) - 1
        z = w**4 * (35 - 84 * w + 70 * w**2 - 20 * w**3)
        return math.cos(math.pi / 2 * z) ** 2
    return 0.0


def band_windows(length: int, bands: int) -> np.ndarray:
    """``length x bands`` Meyer band windows of a circular axis (the toolbox's
    ``windowing``): band ``j`` is the window of period ``T = length / bands`` sampled at
    ``-T/2 .. 3T/2 - 1``, shifted by ``j T`` modulo ``length``."""
    period = length // bands
    taps = np.arange(-period // 2, 3 * period // 2)
    window = np.array([meyer_window(k / period) for k in taps])
    out = np.zeros((length, bands))
    for band in range(bands):
        out[(taps + band * period) % length, band] = window
    return out


def _round_half_up(values: np.ndarray) -> np.ndarray:
    """MATLAB ``round`` for non-negative values (half away from zero)."""
    return np.floor(values + 0.5).astype(np.intp)


def pseudo_polar_grid(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cartesian cells of the pseudo-polar grid of an ``size x size`` block (the toolbox's
    ``gen_x_y_cordinates``), 0-based.

    Returns ``rows, cols`` of shape ``2 size x size`` (radial line ``i`` of the first
    family, then of the second, sample ``j`` along it) and the number of grid points that
    fall on each cell.
    """
    n = size + 1
    start = np.arange(1, n + 1, dtype=np.float64)[:, None]  # x0 of line i (1-based)
    end = n - start + 1
    steps = np.arange(n, dtype=np.float64)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        along = start + steps * (end - start) / (n - 1)  # linspace(x0, x_n, n)
        y_line = _round_half_up((n - 1) / (end - start) * (along - start) + 1)
    x_line = _round_half_up(along)
    vertical = (end == start)[:, 0]  # the line through the centre, x constant
    x_line[vertical] = (n - 1) // 2 + 1
    y_line[vertical] = np.arange(1, n + 1)
    x1, y1 = x_line[:size, :size][::-1], y_line[:size, :size]
    x2, y2 = y_line[1:, :size].copy(), x_line[1:, :size].copy()
    y2[size - 1, 0] = size
    rows = np.concatenate([y1, y2]) - 1
    cols = np.concatenate([x1, x2]) - 1
    counts = np.zeros((size, size))
    np.add.at(counts, (rows, cols), 1)
    return rows, cols, counts


@lru_cache(maxsize=8)
def shearing_filters(size: int, directions_log2: int) -> np.ndarray:
    """The ``2**k x size x size`` spatial shearing filters (the toolbox's
    ``shearing_filters_Myer``): each direction's Meyer band window on the pseudo-polar
    grid, averaged where grid points coincide, then a centred inverse FFT over
    ``sqrt(size)``."""
    rows, cols, counts = pseudo_polar_grid(size)
    windows = band_windows(2 * size, 2**directions_log2)
    # accumulate in the toolbox's order: line i, sample j, first family then second
    order_rows = np.stack([rows[:size], rows[size:]], axis=-1).ravel()
    order_cols = np.stack([cols[:size], cols[size:]], axis=-1).ravel()
    filters = []
    for window in windows.T:
        values = np.stack([np.repeat(window[:size, None], size, axis=1),
                           np.repeat(window[size:, None], size, axis=1)], axis=-1).ravel()
        block = np.zeros((size, size))
        np.add.at(block, (order_rows, order_cols), values)
        block /= counts
        spatial = fft.fftshift(fft.ifft2(fft.fftshift(block))).real
        filters.append(spatial / math.sqrt(size))
    return _frozen(np.stack(filters))


@lru_cache(maxsize=16)
def directional_responses(shape: tuple[int, int], size: int,
                          directions_log2: int) -> np.ndarray:
    """Half-spectrum (``rfft2``) responses on the image grid of the shearing filters,
    zero-padded at the array origin and divided by their root-sum-square over the
    directions at each frequency (a Parseval frame)."""
    responses = fft.rfft2(shearing_filters(size, directions_log2), s=shape)
    norm = np.sqrt((responses * responses.conj()).real.sum(axis=0))
    return _frozen(responses / norm)


@dataclass
class NSSTCoefficients:
    """The NSST of ``... x H x W`` images: ``lowpass`` (``... x H x W``) and one
    ``... x 2**k x H x W`` array of directional subbands per scale, coarse to fine."""

    lowpass: np.ndarray
    subbands: list[np.ndarray]


def nsst_decompose(images: np.ndarray, directions: tuple[int, ...] = (3, 3, 4, 4),
                   sizes: tuple[int, ...] = (8, 8, 16, 16)) -> NSSTCoefficients:
    """NSST of ``... x H x W`` images (``nsst_dec2``): an a-trous pyramid of
    ``len(directions)`` levels; scale ``i`` (coarse to fine) is split into ``2**directions[i]``
    subbands by shearing filters of support ``sizes[i]``."""
    shape = images.shape[-2:]
    lowpass, bands = atrous_decompose(np.asarray(images, dtype=np.float64), len(directions))
    subbands = []
    for band, k, size in zip(bands, directions, sizes):
        spectrum = fft.rfft2(band)[..., None, :, :]
        subbands.append(fft.irfft2(spectrum * directional_responses(shape, size, k), s=shape))
    return NSSTCoefficients(lowpass, subbands)


def nsst_reconstruct(coefficients: NSSTCoefficients, sizes: tuple[int, ...] = (8, 8, 16, 16)
                     ) -> np.ndarray:
    """Invert :func:`nsst_decompose` (``nsst_rec2``): each subband circularly convolved
    with its filter's conjugate, summed over directions, then the inverse pyramid."""
    shape = coefficients.lowpass.shape[-2:]
    bands = []
    for subbands, size in zip(coefficients.subbands, sizes):
        k = int(math.log2(subbands.shape[-3]))
        responses = directional_responses(shape, size, k)
        spectrum = (fft.rfft2(subbands) * responses.conj()).sum(axis=-3)
        bands.append(fft.irfft2(spectrum, s=shape))
    return atrous_reconstruct(coefficients.lowpass, bands)
