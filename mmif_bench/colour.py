"""Colour handling shared by every method: fuse the luma, keep the chroma.

PET and SPECT images are pseudo-colour. The field's convention (DM-FNet, CDDFuse, EMMA):
convert to YCbCr (ITU-R BT.601, full range, as OpenCV's RGB->YCrCb), give the method the Y
channel, then stack the fused Y with the functional image's own Cb/Cr and convert back.
All conversions here work on floats in [0, 1]; rounding happens once, when saving.
"""
from __future__ import annotations

import numpy as np

# BT.601 full-range coefficients (JPEG / OpenCV YCrCb, delta = 0.5 on the [0, 1] scale).
_KR, _KG, _KB = 0.299, 0.587, 0.114
# Chroma scales as OpenCV rounds them (0.5 / (1 - 0.114) and 0.5 / (1 - 0.299) to 3 digits).
_CB_SCALE = 0.564
_CR_SCALE = 0.713


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """H x W x 3 float RGB in [0, 1] to float64 Y, Cb, Cr (Cb/Cr centred on 0.5)."""
    rgb = np.asarray(rgb, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = _KR * r + _KG * g + _KB * b
    cb = (b - y) * _CB_SCALE + 0.5
    cr = (r - y) * _CR_SCALE + 0.5
    return np.stack([y, cb, cr], axis=-1)


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr` (no clipping)."""
    ycbcr = np.asarray(ycbcr, dtype=np.float64)
    y, cb, cr = ycbcr[..., 0], ycbcr[..., 1] - 0.5, ycbcr[..., 2] - 0.5
    r = y + cr / _CR_SCALE
    b = y + cb / _CB_SCALE
    g = (y - _KR * r - _KB * b) / _KG
    return np.stack([r, g, b], axis=-1)


def split_source(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """uint8 gray or RGB source to (float32 Y in [0, 1], float64 CbCr or None)."""
    scaled = pixels.astype(np.float64)
    scaled /= 255.0  # in place: one float64 plane per channel, not two
    if pixels.ndim == 2:
        return scaled.astype(np.float32), None
    ycbcr = rgb_to_ycbcr(scaled)
    return ycbcr[..., 0].astype(np.float32), ycbcr[..., 1:]


def merge_fused(fused_y: np.ndarray, cbcr: np.ndarray | None) -> np.ndarray:
    """Fused Y in [0, 1] (+ the functional image's CbCr) to a uint8 gray or RGB image."""
    y = np.array(fused_y, dtype=np.float64)  # a copy, then in place: one float64 plane
    np.clip(y, 0.0, 1.0, out=y)
    if cbcr is None:
        y *= 255.0
        return np.round(y, out=y).astype(np.uint8)
    rgb = ycbcr_to_rgb(np.concatenate([y[..., None], cbcr], axis=-1))
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)
