"""Fill ``mmif_bench/published_sets.json`` from a registry of published result files.

``python tools/declare_published.py REGISTRY.csv`` reads rows ``set, repository, commit,
path, git_blob`` (the format of the shared ``published/REGISTRY.csv``) and writes, for each
set already declared in the JSON file (its label, paper BibTeX and layout are kept), its
repository, commit, result folder and every file with its git blob id. A set of the
registry that the JSON file does not declare is refused: declare its label, BibTeX and
layout first.
"""
from __future__ import annotations

import argparse
import csv
import json
import posixpath
import sys
from pathlib import Path

DECLARATIONS = Path(__file__).resolve().parents[1] / "mmif_bench" / "published_sets.json"


def declare(registry: Path, declarations: Path = DECLARATIONS) -> dict:
    """The declarations with each registry set's repository, commit, folder and files."""
    sets = json.loads(declarations.read_text(encoding="utf-8"))
    rows: dict[str, list[dict[str, str]]] = {}
    with open(registry, newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            rows.setdefault(row["set"], []).append(row)
    for name, files in rows.items():
        if name not in sets:
            raise SystemExit(f"{registry}: set {name!r} is not declared in {declarations}; "
                             f"add its label, bibtex and layout there first")
        (repository,), (commit,) = {f["repository"] for f in files}, {f["commit"] for f in files}
        folder = posixpath.commonpath([posixpath.dirname(f["path"]) for f in files])
        folder = folder.split("/")[0] if "/" in folder else folder
        sets[name].update(repository=repository, commit=commit, folder=folder, files={
            posixpath.relpath(f["path"], folder): f["git_blob"]
            for f in sorted(files, key=lambda f: f["path"])})
    return sets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("registry", type=Path)
    args = parser.parse_args(argv)
    sets = declare(args.registry)
    DECLARATIONS.write_text(json.dumps(sets, indent=1) + "\n", encoding="utf-8")
    counts = ", ".join(f"{name} ({len(entry.get('files', {}))} files)"
                       for name, entry in sets.items())
    print(f"{DECLARATIONS.name}: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
