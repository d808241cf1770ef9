"""A plain implementation of NSST-PAPCNN, step by step as the authors' MATLAB is laid out:
the speed baseline of tests/test_nsst_papcnn.py and an independent check of the shortcuts
the method takes (the pyramid in the frequency domain, the compiled PCNN, the skipped
PCNN of degenerate subbands).

Each a-trous level is a spatial convolution of the symmetric-padded image with the dilated
filter; each directional subband its own complex FFT product; the PA-PCNN one numpy step
per iteration for each subband, the linking input by ``scipy.signal.convolve2d``.
"""
from __future__ import annotations

import numpy as np
from scipy import signal

from mmif_bench.methods.nsst import maxflat_filters, shearing_filters
from mmif_bench.methods.nsst_papcnn import fuse_lowpass

LINKING = np.array([[0.5, 1.0, 0.5], [1.0, 0.0, 1.0], [0.5, 1.0, 0.5]])


def dilate(taps: np.ndarray, step: int) -> np.ndarray:
    """The filter with ``step - 1`` zeros between its taps."""
    out = np.zeros(((taps.shape[0] - 1) * step + 1,) * 2)
    out[::step, ::step] = taps
    return out


def atrous_filter(image: np.ndarray, taps: np.ndarray, step: int) -> np.ndarray:
    """Centred 'same' convolution with the dilated filter over the symmetric-padded image."""
    kernel = dilate(taps, step)
    half = kernel.shape[0] // 2
    return signal.fftconvolve(np.pad(image, half, mode="symmetric"), kernel, mode="valid")


def nsst(image: np.ndarray, directions=(3, 3, 4, 4), sizes=(8, 8, 16, 16)):
    """Lowpass band and the list of ``2**k x H x W`` subbands, coarse to fine."""
    filters = maxflat_filters()
    bands, current = [], image
    for level in range(len(directions)):
        bands.append(atrous_filter(current, filters["h1"], 2**level))
        current = atrous_filter(current, filters["h0"], 2**level)
    bands.reverse()
    shape = image.shape
    subbands = []
    for band, k, size in zip(bands, directions, sizes):
        responses = np.fft.fft2(shearing_filters(size, k), s=shape)
        responses /= np.sqrt(np.sum(np.abs(responses) ** 2, axis=0))
        subbands.append(np.stack([np.real(np.fft.ifft2(r * np.fft.fft2(band)))
                                  for r in responses]))
    return current, subbands


def inverse_nsst(lowpass: np.ndarray, subbands: list[np.ndarray], sizes=(8, 8, 16, 16)):
    filters = maxflat_filters()
    shape = lowpass.shape
    bands = []
    for stack, size in zip(subbands, sizes):
        responses = np.fft.fft2(shearing_filters(size, int(np.log2(len(stack)))), s=shape)
        responses /= np.sqrt(np.sum(np.abs(responses) ** 2, axis=0))
        bands.append(sum(np.real(np.fft.ifft2(np.conj(r) * np.fft.fft2(s)))
                         for r, s in zip(responses, stack)))
    image = lowpass
    for level, band in zip(range(len(bands) - 1, -1, -1), bands):
        image = (atrous_filter(image, filters["g0"], 2**level)
                 + atrous_filter(band, filters["g1"], 2**level))
    return image


def graythresh(values: np.ndarray) -> float:
    """Octave's ``graythresh`` (image package 2.14, Otsu) of a float image."""
    quantised = np.floor(np.clip(values, 0, 1) * 255 + 0.5).astype(int)
    counts = np.bincount(quantised.ravel(), minlength=256).astype(float)
    bins = np.arange(256.0)
    total = counts.sum()
    below = np.concatenate([[0.0], np.cumsum(counts[:-1])])
    with np.errstate(divide="ignore", invalid="ignore"):
        below_mean = np.concatenate([[0.0], np.cumsum(bins[:-1] * counts[:-1])]) / below
        above = total - below
        above_mean = np.cumsum((bins * counts)[::-1])[::-1] / above
        variance = (below / total) * (above / total) * (below_mean - above_mean) ** 2
    if np.all(np.isnan(variance)):
        return 0.0
    best = np.nanmax(variance)
    return (np.mean(np.flatnonzero(variance == best) + 1) - 2) / 255


def firing_times(subband: np.ndarray, iterations: int = 110) -> np.ndarray:
    """PA-PCNN firing counts of one subband, parameters as ``highpass_fuse.m``."""
    magnitude = np.abs(subband)
    sigma, peak, level = np.std(magnitude, ddof=1), magnitude.max(), graythresh(magnitude)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        alpha_f = np.log10(1.0 / sigma)
        lam = (peak / level - 1.0) / 6
        v_e = np.exp(-alpha_f) + peak / level
        m = ((1 - np.exp(-3 * alpha_f)) / (1 - np.exp(-alpha_f))
             + (peak / level - 1) * np.exp(-alpha_f))
        alpha_e = np.log(v_e / (level * m))
        feed = np.zeros_like(magnitude)
        fired = np.zeros_like(magnitude)
        threshold = np.ones_like(magnitude)
        times = np.zeros_like(magnitude)
        for _ in range(iterations):
            link = signal.convolve2d(fired, LINKING, mode="same")
            feed = np.exp(-alpha_f) * feed + magnitude * (1 + lam * link)
            fired = (feed > threshold).astype(float)
            threshold = np.exp(-alpha_e) * threshold + v_e * fired
            times = times + fired
    return times


def nsst_papcnn(first: np.ndarray, second: np.ndarray, iterations: int = 110) -> np.ndarray:
    low_a, bands_a = nsst(first.astype(np.float64))
    low_b, bands_b = nsst(second.astype(np.float64))
    fused = []
    for stack_a, stack_b in zip(bands_a, bands_b):
        fused.append(np.stack([
            np.where(firing_times(a, iterations) >= firing_times(b, iterations), a, b)
            for a, b in zip(stack_a, stack_b)]))
    return inverse_nsst(fuse_lowpass(np.stack([low_a, low_b])), fused)

