"""BibTeX of the methods and metrics in a report, as their plugins declare it.

A method class carries ``bibtex`` (:class:`mmif_bench.method.Method`), a metric its
``bibtex`` field (:class:`mmif_bench.metric.Metric`): one or more entries, the paper(s)
the plugin implements. The report looks the plugins up by name in the registry; names
that are not registered here (a plugin since uninstalled, a fused folder) or declare no
entry get no citation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mmif_bench.imageio import atomic_write_bytes
from mmif_bench.registry import get, get_metric

ENTRY_KEY = re.compile(r"@\s*\w+\s*\{\s*([^,\s]+)\s*,")


@dataclass(frozen=True)
class Citations:
    """Cite keys by method and by metric, and the BibTeX text holding them."""

    methods: dict[str, list[str]]
    metrics: dict[str, list[str]]
    bibtex: str


def cite_keys(bibtex: str) -> list[str]:
    """The keys of the entries in a BibTeX text, in order."""
    return ENTRY_KEY.findall(bibtex)


def _declared(kind: str, name: str, profile: str) -> str:
    try:
        if kind == "methods":
            return str(getattr(get("methods", name), "bibtex", "") or "")
        key = name if profile == "default" or "." in name else f"{profile}.{name}"
        return get_metric(key).bibtex
    except Exception:  # not registered here, or fails to import: no citation
        return ""


def collect_citations(methods: list[str], metrics: list[str], profile: str) -> Citations:
    """Keys and entries of every method and metric that declares BibTeX; an entry shared
    by several plugins (same key) is written once."""
    entries: dict[str, str] = {}
    keys: dict[str, dict[str, list[str]]] = {"methods": {}, "metrics": {}}
    for kind, names in (("methods", methods), ("metrics", metrics)):
        for name in names:
            text = _declared(kind, name, profile).strip()
            found = cite_keys(text)
            if not found:
                continue
            keys[kind][name] = found
            for key, entry in zip(found, _split_entries(text)):
                entries.setdefault(key, entry)
    return Citations(keys["methods"], keys["metrics"], "\n\n".join(entries.values()))


def _split_entries(text: str) -> list[str]:
    """The entries of a BibTeX text, each from its ``@`` to before the next one."""
    starts = [match.start() for match in ENTRY_KEY.finditer(text)] + [len(text)]
    return [text[a:b].strip() for a, b in zip(starts, starts[1:])]


def write_bib(citations: Citations, path: Path) -> Path:
    """``leaderboard.bib``: every entry the report cites."""
    header = "% BibTeX of the methods and metrics in this leaderboard (mmif-bench).\n"
    text = header + (f"\n{citations.bibtex}\n" if citations.bibtex else "")
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
