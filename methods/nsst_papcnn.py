"""NSST-PAPCNN: medical image fusion with a parameter-adaptive pulse coupled neural network
in the non-subsampled shearlet transform domain (Yin, Liu, Liu, Chen, IEEE TIM 2019)."""
from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from scipy import ndimage

from mmif_bench.method import Method, Option

from .nsst import NSSTCoefficients, nsst_decompose, nsst_reconstruct
from .rules import to_unit

SMOOTHING = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
"""The 3 x 3 weights of the lowpass rule's local energy and of its WSEML smoothing."""
MIN_SIZE = 16
"""Smallest image side: the finest shearing filters' 16 x 16 support."""


def weighted_local_energy(bands: np.ndarray) -> np.ndarray:
    """WLE of ``... x H x W`` bands: the :data:`SMOOTHING`-weighted 3 x 3 sum of squared
    coefficients over a whole-sample mirror whose four corner cells are zero (the
    authors' ``es2`` extension fills only the sides)."""
    padded = np.pad(bands * bands, [(0, 0)] * (bands.ndim - 2) + [(1, 1), (1, 1)],
                    mode="reflect")
    padded[..., [0, 0, -1, -1], [0, -1, 0, -1]] = 0.0
    height, width = bands.shape[-2:]
    return sum(SMOOTHING[i, j] * padded[..., i:i + height, j:j + width]
               for i in range(3) for j in range(3))


def weighted_eml(bands: np.ndarray) -> np.ndarray:
    """WSEML of ``... x H x W`` bands: per pixel the eight-neighbour modified Laplacian
    (``sum |x - n|`` over the axial neighbours plus ``1/sqrt(2)`` times each diagonal one),
    the square root of its 3 x 3 mean, then :data:`SMOOTHING`; every border is the
    half-sample mirror (edge repeated)."""
    height, width = bands.shape[-2:]
    spatial = [(0, 0)] * (bands.ndim - 2) + [(1, 1), (1, 1)]
    padded = np.pad(bands, spatial, mode="symmetric")

    def at(di: int, dj: int) -> np.ndarray:
        return padded[..., 1 + di:1 + di + height, 1 + dj:1 + dj + width]

    centre, diagonal = at(0, 0), 1 / math.sqrt(2)
    eml = (np.abs(centre - at(-1, 0)) + np.abs(centre - at(1, 0))
           + np.abs(centre - at(0, -1)) + np.abs(centre - at(0, 1))
           + diagonal * np.abs(centre - at(-1, -1)) + diagonal * np.abs(centre - at(1, 1))
           + diagonal * np.abs(centre - at(1, -1)) + diagonal * np.abs(centre - at(-1, 1)))
    eml = np.pad(eml, spatial, mode="symmetric")
    window_sum = sum(eml[..., i:i + height, j:j + width] for j in range(3) for i in range(3))
    measure = np.sqrt(window_sum / 9)
    kernel = SMOOTHING.reshape((1,) * (bands.ndim - 2) + (3, 3))
    return ndimage.correlate(measure, kernel, mode="reflect")


def fuse_lowpass(lowpass: np.ndarray) -> np.ndarray:
    """Fused lowpass of a ``2 x H x W`` stack: per pixel the source of larger WLE x WSEML
    activity (the first on ties)."""
    activity = weighted_local_energy(lowpass) * weighted_eml(lowpass)
    return np.where(activity[0] >= activity[1], lowpass[0], lowpass[1])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def otsu_level(magnitude: np.ndarray) -> float:
    """Otsu threshold of a 2-D array of values >= 0 as MATLAB/Octave ``graythresh``
    computes it: values to 8 bits as ``im2uint8`` (clip at 1, x 255, round half away),
    256-bin histogram, the between-class variance of Octave 7's image package, the mean
    of all arg-max bins when several tie, over 255."""
    counts = np.zeros(256)
    for value in magnitude.ravel():
        scaled = min(value, 1.0) * 255.0
        level = math.floor(scaled)
        counts[int(level) + (scaled - level >= 0.5)] += 1.0
    total = counts.sum()
    below = np.zeros(256)  # pixels and level sums in the bins under each threshold
    below_sum = np.zeros(256)
    for k in range(1, 256):
        below[k] = below[k - 1] + counts[k - 1]
        below_sum[k] = below_sum[k - 1] + (k - 1) * counts[k - 1]
    above_sum = np.zeros(256)
    above_sum[255] = 255.0 * counts[255]
    for k in range(254, -1, -1):
        above_sum[k] = above_sum[k + 1] + k * counts[k]
    variance = np.empty(256)
    for k in range(256):
        above = total - below[k]
        difference = below_sum[k] / below[k] - above_sum[k] / above
        variance[k] = (below[k] / total) * (above / total) * difference**2
    best = -np.inf
    found = False
    for k in range(256):
        if variance[k] == variance[k]:  # not NaN
            best = max(best, variance[k])
            found = True
    if not found:
        return 0.0
    positions, ties = 0.0, 0.0
    for k in range(256):
        if variance[k] == best:
            positions += k + 1
            ties += 1
    return (positions / ties - 2) / 255


@numba.njit(cache=True, nogil=True, error_model="numpy")
def pcnn_parameters(magnitude: np.ndarray) -> tuple[float, float, float, float]:
    """PA-PCNN parameters ``(alpha_f, lambda, V_E, alpha_E)`` of a subband's ``|C|``
    (the paper's adaptive rules as the authors' code evaluates them; ``lambda`` is the
    paper's beta): from its standard deviation (N - 1), maximum ``Smax`` and Otsu
    threshold ``So``. A threshold of 0 gives IEEE Inf/NaN parameters, as in the authors'
    code (the source then never fires)."""
    values = magnitude.T.ravel()  # column-major sums, as Octave's sum/std
    total = 0.0
    for value in values:
        total += value
    mean = total / values.size
    squares = 0.0
    for value in values:
        squares += (value - mean) ** 2
    sigma = math.sqrt(squares / (values.size - 1))
    peak = values.max()
    threshold = otsu_level(magnitude)
    alpha_f = math.log10(1.0 / sigma)
    lam = (peak / threshold - 1.0) / 6
    v_e = math.exp(-alpha_f) + peak / threshold
    m = ((1 - math.exp(-3 * alpha_f)) / (1 - math.exp(-alpha_f))
         + (peak / threshold - 1) * math.exp(-alpha_f))
    alpha_e = math.log(v_e / (threshold * m))
    return alpha_f, lam, v_e, alpha_e


@numba.njit(cache=True, nogil=True)
def firing_times(magnitude: np.ndarray, alpha_f: float, lam: float, v_e: float,
                 alpha_e: float, iterations: int) -> np.ndarray:
    """Firing counts of the simplified PCNN fed by ``magnitude`` (the paper's PA-PCNN):
    ``U = e^-alpha_f U + |C| (1 + lambda K)``, ``Y = U > E``, ``E = e^-alpha_E E + V_E Y``,
    ``K`` the previous ``Y`` linked through [0.5 1 0.5; 1 0 1; 0.5 1 0.5] with zeros
    outside the image; ``U = Y = T = 0``, ``E = 1`` at the start, ``iterations`` steps."""
    height, width = magnitude.shape
    times = np.zeros((height, width), dtype=np.int32)
    if not math.isfinite(lam):
        # lambda K = Inf x 0 = NaN at the first step: U is NaN everywhere from then on
        # and U > E never holds, as when the loop runs.
        return times
    decay_f, decay_e = math.exp(-alpha_f), math.exp(-alpha_e)
    feed = np.zeros((height, width))
    threshold = np.ones((height, width))
    fired = np.zeros((height + 2, width + 2))  # Y with a zero frame
    previous = np.zeros((height + 2, width + 2))
    for _ in range(iterations):
        fired, previous = previous, fired
        for i in range(height):
            up, middle, down = previous[i], previous[i + 1], previous[i + 2]
            feed_row, threshold_row, times_row = feed[i], threshold[i], times[i]
            stimulus_row, fired_row = magnitude[i], fired[i + 1]
            for j in range(width):
                link = (0.5 * (up[j] + up[j + 2] + down[j] + down[j + 2])
                        + (up[j + 1] + middle[j] + middle[j + 2] + down[j + 1]))
                u = decay_f * feed_row[j] + stimulus_row[j] * (1.0 + lam * link)
                feed_row[j] = u
                y = np.float64(u > threshold_row[j])
                threshold_row[j] = decay_e * threshold_row[j] + v_e * y
                fired_row[j + 1] = y
                times_row[j] += np.int32(y)
    return times


def fuse_highpass(subbands: np.ndarray, iterations: int = 110) -> np.ndarray:
    """Fused ``D x H x W`` subbands of a ``2 x D x H x W`` stack: per coefficient the
    source whose PA-PCNN (parameters from its own subband) fires at least as often
    (the first on ties)."""
    fused = np.empty(subbands.shape[1:])
    for d in range(subbands.shape[1]):
        counts = []
        for source in subbands[:, d]:
            magnitude = np.abs(source)
            counts.append(firing_times(magnitude, *pcnn_parameters(magnitude), iterations))
        fused[d] = np.where(counts[0] >= counts[1], subbands[0, d], subbands[1, d])
    return fused


def nsst_papcnn(first: np.ndarray, second: np.ndarray, iterations: int = 110) -> np.ndarray:
    """Fuse two H x W images in [0, 1] as ``fuse_NSST_PAPCNN(first, second)``: NSST with
    4 scales of 8, 8, 16, 16 directions ('maxflat' pyramid, shearing supports 8, 8, 16,
    16), WLE x WSEML choose-max on the lowpass, PA-PCNN on each of the 48 subbands, ties
    to ``first``. Returns the float64 reconstruction (may leave [0, 1] slightly)."""
    coefficients = nsst_decompose(np.stack([first, second]).astype(np.float64))
    fused = NSSTCoefficients(
        fuse_lowpass(coefficients.lowpass),
        [fuse_highpass(scale, iterations) for scale in coefficients.subbands])
    return nsst_reconstruct(fused)


class NSSTPAPCNNFusion(Method):
    """NSST-PAPCNN (Yin, Liu, Liu and Chen 2019), as the authors' MATLAB computes it.

    Both sources go through a non-subsampled shearlet transform (:mod:`.nsst`: 4 scales
    of 8, 8, 16, 16 directions). The lowpass bands are fused by choose-max on weighted
    local energy times the weighted sum of the eight-neighbour modified Laplacian; each
    of the 48 directional subbands by choose-max on the firing counts of a
    parameter-adaptive PCNN (110 iterations) run on each source's subband; the inverse
    transform gives the fused image.

    Parameters
    ----------
    iterations : int
        PCNN iterations, 110 (the authors' setting).

    Notes
    -----
    The authors' code takes square images; other shapes (at least 16 x 16) run the same
    steps on their own grid. Source order matters (ties go to the first source): as the authors' demos, the CT
    comes first for MRI-CT pairs and the MRI first for MRI-PET/SPECT (and when no
    modality is given). The authors fuse the Y row of the analog YUV matrix, which is
    the BT.601 luma the runner gives every method; their colour recombination (exact
    inverse of that matrix, chroma unchanged) adds the fused-minus-original Y to each of
    R, G and B, as the runner's YCbCr recombination does. Where a subband's 8-bit Otsu
    threshold is 0 (common on PET/SPECT luma) the PA-PCNN parameters are Inf/NaN and that
    source never fires, so the fused subband is the other source's: reproduced as is.

    References
    ----------
    M. Yin, X. Liu, Y. Liu and X. Chen, "Medical image fusion with parameter-adaptive
    pulse coupled neural network in nonsubsampled shearlet transform domain", IEEE Trans.
    Instrumentation and Measurement 68(1), 49-64, 2019.
    """

    name = "nsst_papcnn"
    display_name = "NSST-PAPCNN"
    bibtex = """@article{yin2019nsstpapcnn,
  author  = {Yin, Ming and Liu, Xiaoning and Liu, Yu and Chen, Xun},
  title   = {Medical image fusion with parameter-adaptive pulse coupled neural network
             in nonsubsampled shearlet transform domain},
  journal = {IEEE Transactions on Instrumentation and Measurement},
  volume  = {68},
  number  = {1},
  pages   = {49--64},
  year    = {2019},
  doi     = {10.1109/TIM.2018.2838778}
}"""
    options = {"iterations": Option(110, "PA-PCNN iterations per subband", "int")}

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        if int(self.config["iterations"]) < 1:
            raise ValueError(f"nsst_papcnn: iterations must be at least 1, got "
                             f"{self.config['iterations']}; the authors use 110")

    def fuse(self, a: np.ndarray, b: np.ndarray, *, modality: str | None = None) -> np.ndarray:
        if min(a.shape) < MIN_SIZE:
            raise ValueError(f"nsst_papcnn needs images of at least {MIN_SIZE} x {MIN_SIZE} "
                             f"pixels (its shearing filters' support), got {a.shape[0]} x "
                             f"{a.shape[1]}; use another method for such images")
        first, second = (b, a) if modality == "CT" else (a, b)
        return to_unit(nsst_papcnn(first, second, int(self.config["iterations"])))
