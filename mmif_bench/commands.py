"""Sub-commands that plugins add to ``mmif-bench`` (as pytest plugins add options).

A distribution declares an entry point in the ``mmif_bench.commands`` group whose object
is a :class:`Command`. Its name is the command (``report-extra``: ``mmif-bench
report-extra ...``) or ``COMMAND.METHOD`` for a command that several plugins serve, one
method each (``train.dmfnet``: ``mmif-bench train dmfnet ...``). A plugin is imported only
when its command runs.
"""
from __future__ import annotations

import argparse
from typing import Protocol

from .registry import get, specs


class Command(Protocol):
    """What a ``mmif_bench.commands`` entry point provides."""

    help: str
    """One line for ``mmif-bench --help`` (or ``mmif-bench COMMAND --help``)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's options on its own parser."""

    def run(self, args: argparse.Namespace) -> int:
        """Run with the parsed options; returns the exit status."""


def _attach(parser: argparse.ArgumentParser, name: str) -> None:
    command: Command = get("commands", name)
    parser.description = command.help
    command.add_arguments(parser)
    parser.set_defaults(func=command.run)


def add_plugin_commands(sub: argparse._SubParsersAction, argv: list[str]) -> None:
    """Add every plugin command to the ``mmif-bench`` sub-parsers; only the one that
    ``argv`` runs is imported (and gets its options)."""
    served: dict[str, list[str]] = {}
    for name in specs("commands"):
        command, _, method = name.partition(".")
        served.setdefault(command, []).append(method)
    for command, methods in served.items():
        named = [m for m in methods if m]
        help_text = f"{command} a method that supports it ({', '.join(named)})" if named else \
            f"a command of plugin {specs('commands')[command].distribution or 'runtime'}"
        parser = sub.add_parser(command, help=help_text, description=help_text)
        if argv[:1] != [command]:
            continue
        if not named:
            _attach(parser, command)
            continue
        parser.usage = f"mmif-bench {command} METHOD [options]"
        methods_parsers = parser.add_subparsers(dest="method", required=True, metavar="METHOD",
                                                title=f"methods that {command}")
        for method in named:
            _attach(methods_parsers.add_parser(method, help=f"{command} {method}",
                                               prog=f"mmif-bench {command} {method}"),
                    f"{command}.{method}")
