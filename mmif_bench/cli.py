"""The ``mmif-bench`` command line (also ``python -m mmif_bench``)."""
from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

from . import logs
from ._version import __version__
from .commands import add_plugin_commands
from .fused_folder import parse_fused
from .registry import declared_weights, get, list_profiles, load_all, load_errors, missing_weights, specs
from .weights import fetch_command

logger = logging.getLogger(__name__)

EXIT_USAGE = 2
EXIT_FETCH = 5
EXIT_IO = 6
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


def parse_method_options(items: list[str], aliases: dict[str, str] | None = None
                         ) -> dict[str, dict[str, Any]]:
    """``["dwt:wavelet=db4", ...]`` to ``{"dwt": {"wavelet": "db4"}}``, typed by the method's
    declared options (an alias's by its method's: ``aliases`` is ``{name: method}``);
    errors name the method, the option, the value and the expected type."""
    parsed: dict[str, dict[str, Any]] = {}
    for item in items:
        method, sep, assignment = item.partition(":")
        key, eq, value = assignment.partition("=")
        if not (sep and eq and method and key):
            raise ValueError(f"option {item!r} must look like METHOD:KEY=VALUE")
        target = (aliases or {}).get(method, method)
        declared = getattr(get("methods", target), "options", {}) or {}
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise ValueError(f"method {method!r} has no option {key!r}; its options: {known}")
        option = declared[key]
        if not hasattr(option, "parse"):  # an option not declared with mmif_bench.Option
            parsed.setdefault(method, {})[key] = value
            continue
        try:
            parsed.setdefault(method, {})[key] = option.parse(value)
        except ValueError:
            raise ValueError(f"method {method!r} option {key!r}: {value!r} is not of type "
                             f"{option.kind} (e.g. -o {method}:{key}={option.default})"
                             ) from None
    return parsed


def _csv(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def cmd_list(args: argparse.Namespace) -> int:
    kinds = [args.kind] if args.kind else ["methods", "metrics", "datasets", "results"]
    for kind in kinds:
        if kind == "results":
            _list_published()
            continue
        print(f"{kind}:")
        loaded = load_all(kind)
        for name, spec in specs(kind).items():
            obj = loaded.get(name)
            if obj is None:
                continue
            doc = (getattr(obj, "description", "") or (obj.__doc__ or "")).strip().splitlines()
            extra = ""
            if kind == "metrics":
                extra = f" {obj.arrow} [{obj.profile}]"
            if kind == "methods" and missing_weights(name):
                extra = f" [weights missing: run '{fetch_command(name)}']"
            if kind == "datasets":
                roles = [role for role in ("default", "fallback") if getattr(obj, role, False)]
                roles += [f"mmif-bench fetch {name}"] if hasattr(obj, "fetch") else []
                extra = f" [{', '.join(roles)}]" if roles else ""
            origin = f" (from {spec.distribution})" if spec.distribution not in ("", "mmif-bench") else ""
            print(f"  {name}{extra}{origin}: {doc[0] if doc else ''}")
            if kind == "methods":
                _print_options(name, getattr(obj, "options", {}) or {})
        for name, error in load_errors(kind).items():
            print(f"  {name.split(':', 1)[1]}: FAILED TO IMPORT: {error}")
    return 0


def _print_options(method: str, options: dict[str, Any]) -> None:
    """A method's options as ``-o METHOD:KEY=DEFAULT  help`` lines."""
    for key, option in options.items():
        default = getattr(option, "default", option)
        print(f"      -o {method}:{key}={default}  {getattr(option, 'help', '')}".rstrip())


def _list_published() -> None:
    """The declared published result sets, each fetched or with its fetch command."""
    from .published import declared_sets, installed

    print("results (published fused images, scored with run --published NAME):")
    for name, entry in declared_sets().items():
        state = "" if installed(name) else f" [not fetched: run 'mmif-bench fetch results {name}']"
        print(f"  {name}{state}: {entry.label}, {len(entry.files)} images of {entry.source}")


def cmd_run(args: argparse.Namespace) -> int:
    from .reporting import note_earlier_report, write_report
    from .runner import RunConfig, method_aliases, run

    methods = _csv(args.methods)
    config = RunConfig(
        dataset=args.dataset, data_root=args.data_root, split=args.split, methods=methods,
        method_options=parse_method_options(args.option, method_aliases(methods or [])),
        metrics=_csv(args.metrics), profile=args.profile, out=Path(args.out), jobs=args.jobs,
        timeout=args.timeout, cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        executor=args.executor, scheduler=args.scheduler, report=False,
        refresh=True if args.refresh == "" else (_csv(args.refresh) or False),
        fused=parse_fused(args.fused), published=_csv(args.published))
    result = run(config)
    if args.no_report:
        note_earlier_report(result.out)
    else:
        write_report(result, order=args.order)
    return result.exit_code


def cmd_report(args: argparse.Namespace) -> int:
    from .reporting import write_report

    extra = {} if args.html_images is None else {"images_per_pair": args.html_images}
    source_root = Path(args.data_root) if args.data_root else None
    for path in write_report(Path(args.results), source_root=source_root, order=args.order,
                             **extra):
        print(path)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .reporting.check import check_results

    return check_results(Path(args.results), Path(args.baseline), args.tolerance, args.update,
                         _csv(args.methods))


def cmd_fetch(args: argparse.Namespace) -> int:
    """``fetch weights [NAME ...|all]`` or ``fetch DATASET``; a failed download or
    verification exits 5 with one line per failure (nothing unverified is installed)."""
    from .download import FetchError

    if args.what == "weights":
        from .weights import fetch

        errors = fetch(declared_weights(args.names), args.source)
        return EXIT_FETCH if errors else 0
    if args.what == "results":
        return _fetch_results(args.names, args.source)
    if args.what not in specs("datasets"):
        close = difflib.get_close_matches(args.what, ["weights", "results", *specs("datasets")],
                                          n=1)
        if close:
            raise ValueError(f"'fetch {args.what}': no such dataset; did you mean {close[0]}?")
    if args.names:
        raise ValueError(f"'fetch {args.what}' takes no names (got {' '.join(args.names)})")
    fetcher = getattr(get("datasets", args.what), "fetch", None)
    if fetcher is None:
        raise ValueError(f"dataset {args.what!r} cannot be fetched (it is built in or local)")
    try:
        fetcher(args.source, force=args.force)
    except FetchError as error:
        logger.error("mmif-bench: fetch failed: %s", error)
        return EXIT_FETCH
    return 0


def _fetch_results(names: list[str], source: str | None) -> int:
    """``fetch results NAME ...``: each published set verified and installed, or exit 5."""
    from .download import FetchError
    from .published import declared_sets, fetch_results

    if not names:
        raise ValueError(f"'fetch results' takes the names of published sets: "
                         f"{', '.join(declared_sets())}")
    if source is not None and len(names) > 1:
        raise ValueError("--from is one set's folder or mirror: fetch one set at a time")
    failed = 0
    for name in names:
        try:
            logger.info("%s", fetch_results(name, source))
        except FetchError as error:
            logger.error("mmif-bench: fetch failed: %s", error)
            failed += 1
    return EXIT_FETCH if failed else 0


class SuggestingParser(argparse.ArgumentParser):
    """An argument parser whose "invalid choice" error suggests the closest choice."""

    def error(self, message: str) -> Any:
        found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if found:
            choices = [c.strip().strip("'") for c in found[2].split(",")]
            close = difflib.get_close_matches(found[1], choices, n=1)
            message += f"; did you mean {close[0]}?" if close else ""
        super().error(message)


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    """The ``mmif-bench`` parser; ``argv`` says which plugin command (if any) to load."""
    parser = SuggestingParser(prog="mmif-bench", description=(
        "Benchmark multimodal medical image fusion methods under one set of metric conventions."))
    parser.add_argument("--version", action="version", version=f"mmif-bench {__version__}")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="store_true", help="log details too")
    loudness.add_argument("-q", "--quiet", action="store_true",
                          help="log only what went wrong or was left out")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered methods, metrics or datasets")
    p.add_argument("kind", nargs="?", choices=["methods", "metrics", "datasets", "results"])
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("run", help="fuse and score; writes scores.csv, run.json and the leaderboard")
    p.add_argument("--dataset", help="dataset name or folder (default: the dataset plugin "
                                     "declared the default when its data is there, else the "
                                     "fallback; see `mmif-bench list datasets`)")
    p.add_argument("--data-root", help="the dataset's folder, for datasets that take one "
                                       "(default: $MMIF_BENCH_DATA, else the copy `mmif-bench "
                                       "fetch DATASET` installed)")
    p.add_argument("--split", default="test", choices=["train", "test", "all"],
                   help="the image pairs to run: the dataset's test or train split, or all "
                        "(default test; a dataset without split files runs all its pairs)")
    p.add_argument("--methods", help="comma-separated method names (default: all); NAME=METHOD "
                                     "adds a second configuration of METHOD named NAME, its "
                                     "options set with -o NAME:KEY=VALUE")
    p.add_argument("--option", "-o", action="append", default=[], metavar="METHOD:KEY=VALUE",
                   help="set a method option, e.g. NAME:weights=FILE.pth (repeatable)")
    p.add_argument("--metrics", help="comma-separated metric names (default: the profile's set)")
    p.add_argument("--profile", default="default", choices=list_profiles(),
                   help="metric convention profile (those the registered metrics declare)")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--timeout", type=float, help="per-pair time limit in seconds for a method")
    p.add_argument("--cache-dir", help="result cache folder (default OUT/.cache)")
    p.add_argument("--executor", default="local", choices=["local", "dask"])
    p.add_argument("--scheduler", help="dask scheduler address (default: a LocalCluster)")
    p.add_argument("--no-report", action="store_true", help="skip the leaderboard reports")
    p.add_argument("--order", default="rank", choices=["rank", "name"],
                   help="row order of the report's tables: by mean rank, best first "
                        "(default), or by method name")
    p.add_argument("--fused", action="append", default=[], metavar="NAME=DIR",
                   help="score a folder of fused images (DIR/<pair>/<image>.png, as "
                        "OUT/fused/<method>/) as method NAME (repeatable)")
    p.add_argument("--published", metavar="NAME,...",
                   help="score fetched published result sets as methods (`mmif-bench fetch "
                        "results NAME`; default: every fetched set when --methods is not given)")
    p.add_argument("--refresh", nargs="?", const="", metavar="METHOD,...",
                   help="recompute fused images and scores regardless of the cache, for every "
                        "method or the named ones")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="write the leaderboard files for a results folder")
    p.add_argument("--results", required=True)
    p.add_argument("--data-root", help="folder of the run's source images (default: the "
                                       "registered dataset of that name, if found)")
    p.add_argument("--html-images", type=int, metavar="N",
                   help="images per pair type in the HTML comparison view (0: all; default 4)")
    p.add_argument("--order", default="rank", choices=["rank", "name"],
                   help="row order of the report's tables: by mean rank, best first "
                        "(default), or by method name")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("check", help="fail (exit 1) when scores got worse than a baseline")
    p.add_argument("--results", required=True)
    p.add_argument("--baseline", required=True)
    p.add_argument("--tolerance", type=float, default=1e-6)
    p.add_argument("--update", action="store_true", help="rewrite the baseline from the results")
    p.add_argument("--methods", help="only these methods (comma-separated)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("fetch", help="download and verify a dataset or published weights",
                       description="mmif-bench fetch DATASET | mmif-bench fetch weights "
                                   "[NAME ...|all] | mmif-bench fetch results NAME ... "
                                   "(`mmif-bench list datasets` marks the datasets that can "
                                   "be fetched)")
    p.add_argument("what", help="a dataset that can be fetched, 'weights' followed by "
                                "method names (default all), or 'results' followed by "
                                "published result sets")
    p.add_argument("names", nargs="*", help="methods whose weights, or published sets, to fetch")
    p.add_argument("--from", dest="source", metavar="URL|PATH",
                   help="a mirror: URL or folder (weights: files under their store or published "
                        "names; a dataset: its archive or a folder of it; results: laid out "
                        "as the authors' result folder)")
    p.add_argument("--force", action="store_true", help="fetch a dataset again even if present")
    p.set_defaults(func=cmd_fetch)

    add_plugin_commands(sub, argv)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = [a for a in argv if a not in ("-v", "--verbose", "-q", "--quiet")]
    try:
        args = build_parser(command).parse_args(argv)
        logs.configure(int(args.verbose) - int(args.quiet))
        code = int(args.func(args))
        sys.stdout.flush()  # a reader that has gone shows here, not at exit
        return code
    except BrokenPipeError:  # `mmif-bench list | head`: the reader has gone, say nothing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, KeyError, FileNotFoundError, ImportError, RuntimeError) as error:
        print(f"mmif-bench: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # a full disk, a folder that cannot be written
        where = f" {error.filename}" if error.filename else ""
        print(f"mmif-bench: error: cannot read or write{where}: {error.strerror or error}; "
              f"free space or choose another --out, then rerun (finished work is kept)",
              file=sys.stderr)
        return EXIT_IO
    except KeyboardInterrupt as error:  # Ctrl-C: workers are gone, finished work is cached
        print(f"mmif-bench: {error or 'interrupted'}; rerun the same command to resume",
              file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
