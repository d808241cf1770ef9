"""Test-only method plugins that a per-pair SIGALRM or an in-process run cannot survive."""
from __future__ import annotations

import ctypes
import os
import signal
import time

from mmif_bench import Method


class SwallowsErrors(Method):
    """Catches every Exception in a loop (the in-process timeout's too)."""

    name = "swallows_errors"

    def fuse(self, a, b):
        while True:
            try:
                time.sleep(0.05)
            except Exception:
                pass


class LoopsInC(Method):
    """Stays inside C with the timer's signal blocked, as C libraries with threads do."""

    name = "loops_in_c"

    def fuse(self, a, b):
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
        ctypes.CDLL(None).sleep(60)
        return a


class ExitsProcess(Method):
    name = "exits_process"

    def fuse(self, a, b):
        os._exit(7)


class Segfaults(Method):
    name = "segfaults"

    def fuse(self, a, b):
        return ctypes.string_at(0)


class RaisesKeyboardInterrupt(Method):
    name = "raises_keyboard_interrupt"

    def fuse(self, a, b):
        raise KeyboardInterrupt("a plugin's own")


class RaisesSystemExit(Method):
    name = "raises_system_exit"

    def fuse(self, a, b):
        raise SystemExit(4)


class Sleeps(Method):
    """The mean of the sources after 5 s: gives Ctrl-C a running run (6 phantom pairs of two
    such methods on two workers: 30 s)."""

    name = "sleeps"

    def fuse(self, a, b):
        time.sleep(5.0)
        return (a + b) / 2


class SleepsToo(Sleeps):
    name = "sleeps_too"


HOSTILE = [SwallowsErrors, LoopsInC, ExitsProcess, Segfaults]
RAISING = [RaisesKeyboardInterrupt, RaisesSystemExit]
SLEEPING = [Sleeps, SleepsToo]
