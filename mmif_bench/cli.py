"""The ``mmif-bench`` command line (also ``python -m mmif_bench``)."""
from __future__ import annotations

import argparse
import logging
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


def parse_method_options(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["dwt:wavelet=db4", ...]`` to ``{"dwt": {"wavelet": "db4"}}``, typed by the method's
    declared options; errors name the method, the option, the value and the expected type."""
    parsed: dict[str, dict[str, Any]] = {}
    for item in items:
        method, sep, assignment = item.partition(":")
        key, eq, value = assignment.partition("=")
        if not (sep and eq and method and key):
            raise ValueError(f"option {item!r} must look like METHOD:KEY=VALUE")
        declared = getattr(get("methods", method), "options", {}) or {}
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
    kinds = [args.kind] if args.kind else ["methods", "metrics", "datasets"]
    for kind in kinds:
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
        for name, error in load_errors(kind).items():
            print(f"  {name.split(':', 1)[1]}: FAILED TO IMPORT: {error}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .reporting import write_report
    from .runner import RunConfig, run

    config = RunConfig(
        dataset=args.dataset, data_root=args.data_root, split=args.split,
        methods=_csv(args.methods), method_options=parse_method_options(args.option),
        metrics=_csv(args.metrics), profile=args.profile, out=Path(args.out), jobs=args.jobs,
        timeout=args.timeout, cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        executor=args.executor, scheduler=args.scheduler, report=False,
        refresh=True if args.refresh == "" else (_csv(args.refresh) or False),
        fused=parse_fused(args.fused))
    result = run(config)
    if not args.no_report:
        write_report(result)
    return result.exit_code


def cmd_report(args: argparse.Namespace) -> int:
    from .reporting import write_report

    extra = {} if args.html_images is None else {"images_per_pair": args.html_images}
    source_root = Path(args.data_root) if args.data_root else None
    for path in write_report(Path(args.results), source_root=source_root, **extra):
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


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    """The ``mmif-bench`` parser; ``argv`` says which plugin command (if any) to load."""
    parser = argparse.ArgumentParser(prog="mmif-bench", description=(
        "Benchmark multimodal medical image fusion methods under one set of metric conventions."))
    parser.add_argument("--version", action="version", version=f"mmif-bench {__version__}")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="store_true", help="log details too")
    loudness.add_argument("-q", "--quiet", action="store_true",
                          help="log only what went wrong or was left out")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered methods, metrics or datasets")
    p.add_argument("kind", nargs="?", choices=["methods", "metrics", "datasets"])
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("run", help="fuse and score; writes scores.csv, run.json and the leaderboard")
    p.add_argument("--dataset", help="dataset name or folder (default: the dataset plugin "
                                     "declared the default when its data is there, else the "
                                     "fallback; see `mmif-bench list datasets`)")
    p.add_argument("--data-root", help="the dataset's folder, for datasets that take one")
    p.add_argument("--split", default="test", choices=["train", "test", "all"])
    p.add_argument("--methods", help="comma-separated method names (default: all)")
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
    p.add_argument("--fused", action="append", default=[], metavar="NAME=DIR",
                   help="score a folder of fused images (DIR/<pair>/<image>.png, as "
                        "OUT/fused/<method>/) as method NAME (repeatable)")
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
                                   "[NAME ...|all] (`mmif-bench list datasets` marks the "
                                   "datasets that can be fetched)")
    p.add_argument("what", help="a dataset that can be fetched, or 'weights' followed by "
                                "method names (default all)")
    p.add_argument("names", nargs="*", help="methods whose weights to fetch (weights only)")
    p.add_argument("--from", dest="source", metavar="URL|PATH",
                   help="a mirror: URL or folder (weights: files under their store or published "
                        "names; a dataset: its archive or a folder of it)")
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
        return int(args.func(args))
    except (ValueError, KeyError, FileNotFoundError, ImportError, RuntimeError) as error:
        print(f"mmif-bench: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # a full disk, a folder that cannot be written
        where = f" {error.filename}" if error.filename else ""
        print(f"mmif-bench: error: cannot read or write{where}: {error.strerror or error}; "
              f"free space or choose another --out, then rerun (finished work is kept)",
              file=sys.stderr)
        return EXIT_IO


if __name__ == "__main__":
    sys.exit(main())
