"""Jinja2 environments for the report templates in ``mmif_bench/templates``."""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


def latex_escape(text: object) -> str:
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def markdown_escape(text: object) -> str:
    return str(text).replace("|", r"\|")


def number(value: float, digits: int = 2) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


@lru_cache(maxsize=None)
def environment(latex: bool = False) -> Environment:
    """The template environment; LaTeX uses ``\\VAR{}``/``\\BLOCK{}`` delimiters."""
    options = dict(loader=PackageLoader("mmif_bench", "templates"), undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    if latex:
        options.update(block_start_string=r"\BLOCK{", block_end_string="}",
                       variable_start_string=r"\VAR{", variable_end_string="}",
                       comment_start_string=r"\#{", comment_end_string="}",
                       autoescape=False)
    else:
        options["autoescape"] = select_autoescape(["html.j2"])
    env = Environment(**options)
    env.filters.update(tex=latex_escape, md=markdown_escape, number=number,
                       tojson_sorted=lambda v: json.dumps(v, sort_keys=True))
    return env


def render_to(path: Path, template: str, **context) -> Path:
    """Render ``template`` with ``context`` into ``path`` (UTF-8, newline-terminated)."""
    text = environment(template.endswith(".tex.j2")).get_template(template).render(**context)
    path.write_text(text, encoding="utf-8")
    return path
