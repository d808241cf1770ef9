"""Reading and writing images with stated conversion rules.

Rules for inputs that are not plain 8-bit gray or RGB (each recorded as a note):

- 16-bit integer images are mapped to 8 bit by ``round(v / 257)`` (65535 -> 255).
- Float images with values in [0, 1] are scaled by 255; other float ranges are min-max
  scaled to 0..255. Non-finite float pixels are an error.
- RGBA / LA images drop their alpha channel; palette images are expanded to RGB.
- An RGB image whose three channels are equal is read as gray.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .fsutil import atomic_write_bytes


class ImageError(ValueError):
    """An input image that cannot be used; the message names the file and the fix."""


MAX_PIXELS_ENV = "MMIF_BENCH_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 4096 * 4096
"""Images with more pixels are refused before they are decoded: 4096² (16.8 M pixels) is
16x the largest image of the field's datasets (Harvard: 256², other sets up to 1024²), and
the fuse+score path's peak at that size stays within a few GB of this 24 GiB machine.
``$MMIF_BENCH_MAX_PIXELS`` raises or lowers it."""


def max_pixels() -> int:
    """The pixel limit: ``$MMIF_BENCH_MAX_PIXELS`` or :data:`DEFAULT_MAX_PIXELS`."""
    value = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not value:
        return DEFAULT_MAX_PIXELS
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ValueError(f"${MAX_PIXELS_ENV}={value!r} must be a positive whole number of "
                         f"pixels (default {DEFAULT_MAX_PIXELS})")
    return limit


def not_regular(path: Path) -> str | None:
    """Why ``path`` is not a regular file that can be read (a FIFO, a device, a socket, a
    folder, a broken symlink), or None when it is one. Checked with ``stat``; never opened."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a broken symbolic link" if path.is_symlink() else "file not found"
    except OSError as error:
        return f"cannot be examined ({error.strerror})"
    if stat.S_ISREG(mode):
        return None
    kinds = [(stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISDIR, "a folder")]
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"{kind}{' (through a symbolic link)' if path.is_symlink() else ''}, not an image file"


@dataclass
class LoadedImage:
    """A decoded image: ``pixels`` is uint8, H x W (gray) or H x W x 3 (RGB)."""

    pixels: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def is_colour(self) -> bool:
        return self.pixels.ndim == 3


def _to_uint8(array: np.ndarray, path: Path, notes: list[str]) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        notes.append(f"{path.name}: 1-bit image mapped to 0/255")
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.integer):
        if array.min() < 0 or array.max() > 65535:
            raise ImageError(f"{path}: integer pixel values outside 0..65535; save it as an 8- or 16-bit PNG")
        notes.append(f"{path.name}: 16-bit image mapped to 8 bit by round(v / 257)")
        return np.round(array.astype(np.float64) / 257.0).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageError(f"{path}: float image holds NaN or Inf pixels; replace them before benchmarking")
        lo, hi = float(array.min()), float(array.max())
        if lo >= 0.0 and hi <= 1.0:
            notes.append(f"{path.name}: float image in [0, 1] scaled by 255")
            return np.round(array * 255.0).astype(np.uint8)
        notes.append(f"{path.name}: float image in [{lo:g}, {hi:g}] min-max scaled to 0..255")
        span = hi - lo if hi > lo else 1.0
        return np.round((array - lo) / span * 255.0).astype(np.uint8)
    raise ImageError(f"{path}: unsupported pixel type {array.dtype}; save it as an 8-bit PNG")


def read_image(path: str | Path) -> LoadedImage:
    """Read an image file into uint8 gray or RGB, applying the module's rules.

    Raises :class:`ImageError` naming the file for missing, empty, truncated or
    non-image files.
    """
    path = Path(path)
    reason = not_regular(path)
    if reason:
        raise ImageError(f"{path}: {reason}; check the folder" if reason == "file not found"
                         else f"{path}: {reason}; not read: replace it with the image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: zero-byte file; replace it with the real image or remove the pair")
    notes: list[str] = []
    limit = max_pixels()
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > limit:
                raise ImageError(
                    f"{path}: {width}x{height} is {width * height} pixels, above the limit of "
                    f"{limit} (checked before decoding); downsample it or raise "
                    f"${MAX_PIXELS_ENV}")
            image.load()
            mode = image.mode
            if mode == "P":
                image = image.convert("RGBA" if "transparency" in image.info else "RGB")
                notes.append(f"{path.name}: palette image expanded to RGB")
                mode = image.mode
            if mode in {"RGBA", "LA"}:
                alpha = np.asarray(image.getchannel("A"))
                image = image.convert("RGB" if mode == "RGBA" else "L")
                opaque = "" if alpha.min() == 255 else " (it was not fully opaque)"
                notes.append(f"{path.name}: alpha channel dropped{opaque}")
                mode = image.mode
            if mode == "CMYK" or mode == "YCbCr":
                image = image.convert("RGB")
            array = np.asarray(image)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ImageError(
            f"{path}: not a readable image ({error}); replace it or remove the pair"
        ) from None
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise ImageError(f"{path}: unsupported image shape {array.shape}; use gray or RGB")
    pixels = _to_uint8(np.ascontiguousarray(array), path, notes)
    if pixels.ndim == 3 and np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(
        pixels[..., 0], pixels[..., 2]
    ):
        pixels = np.ascontiguousarray(pixels[..., 0])
    return LoadedImage(pixels=pixels, notes=notes)


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """uint8 luma 0.299 R + 0.587 G + 0.114 B, rounded as OpenCV does."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def gray_of(pixels: np.ndarray) -> np.ndarray:
    """uint8 gray of a gray or RGB uint8 image (metrics score the luma)."""
    return rgb_to_gray(pixels) if pixels.ndim == 3 else pixels


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of a uint8 gray or RGB image (deterministic encoder settings)."""
    if pixels.dtype != np.uint8:
        raise TypeError("encode_png expects uint8 pixels")
    bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if pixels.ndim == 3 else pixels
    ok, buffer = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise OSError("PNG encoding failed")
    return buffer.tobytes()


def decode_png(data: bytes) -> np.ndarray:
    """uint8 gray or RGB pixels from PNG bytes written by :func:`encode_png`."""
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ImageError("cached PNG could not be decoded")
    return cv2.cvtColor(array, cv2.COLOR_BGR2RGB) if array.ndim == 3 else array


def write_png(path: str | Path, pixels: np.ndarray) -> None:
    """Atomically write a uint8 gray or RGB image as PNG."""
    atomic_write_bytes(path, encode_png(pixels))
