"""Properties of the repository's own files: no committed merge-conflict markers; a README
whose links work where it is the package description; docs written for users."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def test_readme_links_are_absolute_under_the_project_url(repo_root: Path) -> None:
    """PyPI shows the README as the package description: a relative link breaks there."""
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")
    project = tomllib.loads((repo_root / "pyproject.toml").read_text("utf-8"))["project"]
    home = project["urls"]["Source"]
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(project["urls"])
    assert all(url.startswith(home) for url in project["urls"].values())
    readme = (repo_root / "README.md").read_text("utf-8")
    inline = re.findall(r"\]\(([^)]*)\)", readme)
    defined = dict(re.findall(r"^\[([^\]]+)\]: (\S+)$", readme, re.M))
    assert [url for url in inline if not url.startswith(("https://", "#"))] == []
    assert defined and all(url.startswith(home + "/") for url in defined.values())
    for label, url in defined.items():  # each points at the file or folder it names
        assert url.endswith("/main/" + label.rstrip("/")) and (repo_root / label).exists()


@pytest.mark.parametrize("wording", [
    r"\.\./shared", r"\bissue \d+", r"\bissue's\b", r"no GPU was lent", r"\bsession\b",
])
def test_docs_speak_to_users(repo_root: Path, wording: str) -> None:
    """README and docs name options, variables and ``mmif-bench fetch``, not the
    maintainers' machine, their issue tracker or their sessions."""
    found = [f"{path.relative_to(repo_root)}:{n}"
             for path in [repo_root / "README.md", *sorted((repo_root / "docs").glob("*.md"))]
             for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
             if re.search(wording, line, re.I)]
    assert found == []
