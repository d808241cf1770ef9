"""The ``mmif_bench`` logger: every module logs to a child of it (``logging.getLogger(
__name__)``); the command line sets its level (``-v``/``-q``), library users configure
:mod:`logging` as they like.

Notes, progress and the run summary are INFO; what was left out (a skipped pair, a method
not run, a failure) is WARNING; details for debugging are DEBUG.
"""
from __future__ import annotations

import logging
import sys

LOGGER = "mmif_bench"


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
