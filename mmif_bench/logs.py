"""The ``mmif_bench`` logger: every module logs to a child of it (``logging.getLogger(
__name__)``); the command line sets its level (``-v``/``-q``), library users configure
:mod:`logging` as they like.

Notes, progress and the run summary are INFO; what was left out (a skipped pair, a method
not run, a failure) is WARNING; details for debugging are DEBUG.
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

LOGGER = "mmif_bench"
PROGRESS_INTERVAL = 30.0
"""Seconds between two progress lines when stderr is not a terminal."""


class _StderrHandler(logging.StreamHandler):
    """Writes to the ``sys.stderr`` of the moment (as :data:`logging.lastResort` does), so
    a redirected stderr gets the messages."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass


def configure(verbosity: int = 0) -> None:
    """Log ``mmif_bench`` messages to stderr, bare: WARNING and up at ``verbosity`` -1
    (``-q``), INFO at 0, DEBUG at 1 (``-v``)."""
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        if isinstance(handler, _StderrHandler):
            logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel({-1: logging.WARNING, 0: logging.INFO}.get(max(-1, min(verbosity, 1)),
                                                              logging.DEBUG))


def configure_unless_configured() -> None:
    """:func:`configure` at INFO when nothing has configured logging (a script calling
    :func:`mmif_bench.run`), so that its notes reach stderr as the command line's do."""
    if not logging.getLogger().handlers and not logging.getLogger(LOGGER).handlers:
        configure(0)


class _ProgressLines:
    """Progress as plain log lines (stderr is not a terminal): at most one line every
    :data:`PROGRESS_INTERVAL` seconds, and one at the end."""

    def __init__(self, total: int, desc: str, unit: str) -> None:
        self.total, self.desc, self.unit, self.done = total, desc, unit, 0
        self.started = self.last = time.monotonic()

    def set_description(self, desc: str) -> None:
        self.desc = desc

    def update(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL or self.done >= self.total:
            self.last = now
            elapsed = now - self.started
            left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
            logging.getLogger(LOGGER).info(
                "%s: %d/%d %ss (%d%%), %s elapsed, about %s left", self.desc, self.done,
                self.total, self.unit, 100 * self.done // max(self.total, 1),
                tqdm.format_interval(elapsed), tqdm.format_interval(left))


@contextmanager
def progress(total: int, desc: str, unit: str = "pair") -> Iterator[Any]:
    """Something to ``update(n)`` as work is done: a tqdm bar with its ETA on a terminal
    (stderr), plain periodic log lines otherwise, nothing when INFO is not logged
    (``-q``) or there is nothing to do."""
    if total <= 0 or not logging.getLogger(LOGGER).isEnabledFor(logging.INFO):
        yield tqdm(disable=True)
    elif sys.stderr.isatty():
        with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
                  leave=False) as bar:
            yield bar
    else:
        yield _ProgressLines(total, desc, unit)
