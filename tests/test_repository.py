"""Properties of the repository's own files: no committed merge-conflict markers."""
from __future__ import annotations

import re
from pathlib import Path

TEXT = {".py", ".md", ".j2", ".toml", ".yaml", ".yml", ".txt", ".cfg", ".csv", ".json"}
MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.M)


def test_no_merge_conflict_markers(repo_root: Path) -> None:
    found = []
    for folder in ("mmif_bench", "methods", "metrics", "datasets", "docs", "tests", "examples",
                   "benchmarks", "reports"):
        for path in (repo_root / folder).rglob("*"):
            if path.suffix in TEXT and path.is_file() and MARKER.search(path.read_text("utf-8", "replace")):
                found.append(path.relative_to(repo_root).as_posix())
    found += [name for name in ("README.md", "pyproject.toml")
              if MARKER.search((repo_root / name).read_text("utf-8"))]
    assert found == []
