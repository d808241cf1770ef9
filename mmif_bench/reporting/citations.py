"""BibTeX of the methods and metrics in a report, as the run recorded it.

A method class carries ``bibtex`` (:class:`mmif_bench.method.Method`), a metric its
``bibtex`` field (:class:`mmif_bench.metric.Metric`): one or more entries, the paper(s)
the plugin implements. The run copies them into its record (``run.json``), so a report
rebuilt on a machine where the plugins are not installed still cites them; methods and
metrics that declare no entry (a fused folder) get no citation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mmif_bench.fsutil import atomic_write_bytes

from .loading import Results

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


def collect_citations(results: Results) -> Citations:
    """Keys and entries of every method and metric of the run that declared BibTeX; an
    entry shared by several plugins (same key) is written once."""
    record = results.record
    declared = {
        "methods": {name: record["methods"][name]["bibtex"] for name in results.methods
                    if name in record["methods"]},
        "metrics": {name: record["metrics"][name]["bibtex"] for name in results.metrics
                    if name in record["metrics"]}}
    entries: dict[str, str] = {}
    keys: dict[str, dict[str, list[str]]] = {"methods": {}, "metrics": {}}
    for kind, texts in declared.items():
        for name, text in texts.items():
            found = cite_keys(text.strip())
            if not found:
                continue
            keys[kind][name] = found
            for key, entry in zip(found, _split_entries(text.strip())):
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
