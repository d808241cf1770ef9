"""Test-only method plugins, one per failure mode a research plugin can show."""
from __future__ import annotations

import time

import numpy as np

from mmif_bench import Method, Option


class Raises(Method):
    name = "raises"

    def fuse(self, a, b):
        raise RuntimeError("deliberate failure")


class ReturnsNaN(Method):
    name = "returns_nan"

    def fuse(self, a, b):
        out = a.copy()
        out[0, 0] = np.nan
        return out


class WrongShape(Method):
    name = "wrong_shape"

    def fuse(self, a, b):
        return a[:-1]


class WrongDtype(Method):
    name = "wrong_dtype"

    def fuse(self, a, b):
        return (a * 255).astype(np.uint8)


class OutOfRange(Method):
    name = "out_of_range"

    def fuse(self, a, b):
        return a + 1.5


class Hangs(Method):
    name = "hangs"

    def fuse(self, a, b):
        time.sleep(60)
        return a


class Slow(Method):
    """The mean of the sources, slowly: gives a kill test time to strike mid-run."""

    name = "slow"
    options = {"delay": Option(0.3, "seconds per pair", "float")}

    def fuse(self, a, b):
        time.sleep(float(self.config["delay"]))
        return (a + b) / 2


FAILING = (Raises, ReturnsNaN, WrongShape, WrongDtype, OutOfRange, Hangs)
