"""Jinja2 environments for the report templates in ``mmif_bench/templates``.

Any name (a method, a pair type, a message read from ``run.json``) is text, never markup:

- LaTeX: the ten specials are escaped; a ``\\label`` is a slug of ASCII letters, digits
  and ``-``; the file is for pdflatex, so a character it cannot set is transliterated by its
  Unicode decomposition (``é`` -> ``e``, ``ﬁ`` -> ``fi``) or, without one, written as its
  code point (``中`` -> ``U+4E2D``); control characters become spaces.
- Markdown: ``&``, ``<`` and ``>`` become HTML entities, ``|`` is escaped, newlines and
  other control characters become spaces, and backticks are dropped from code spans.
- HTML: Jinja2's autoescaping.

Every report file is written atomically (a full disk leaves the previous file whole).
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..fsutil import atomic_write_bytes

LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MARKDOWN_SPECIALS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": r"\|"}


def to_ascii(text: object) -> str:
    """``text`` in ASCII for pdflatex: control characters as spaces, other characters by
    their compatibility decomposition without accents, else as ``U+XXXX``."""
    out = []
    for ch in CONTROL.sub(" ", str(text)):
        if ch.isascii():
            out.append(ch)
            continue
        folded = "".join(c for c in unicodedata.normalize("NFKD", ch)
                         if c.isascii() and not unicodedata.combining(c))
        out.append(folded or f"U+{ord(ch):04X}")
    return "".join(out)


def latex_escape(text: object) -> str:
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in to_ascii(text))


def latex_label(text: object) -> str:
    """A ``\\label`` key: ASCII letters, digits and ``-`` only (``MRI-CT_v2`` -> ``MRI-CT-v2``)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", to_ascii(text)).strip("-") or "x"


def markdown_escape(text: object) -> str:
    """A Markdown table cell or list item: no HTML, no line break, no column break."""
    return "".join(MARKDOWN_SPECIALS.get(ch, ch) for ch in CONTROL.sub(" ", str(text)))


def markdown_code(text: object) -> str:
    """Text for inside a code span (shown literally): no backtick, no line break."""
    return CONTROL.sub(" ", str(text)).replace("`", "'")


def number(value: float, digits: int = 2) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


@cache
def environment(latex: bool = False) -> Environment:
    """The template environment; LaTeX uses ``\\VAR{}``/``\\BLOCK{}`` delimiters."""
    options: dict[str, Any] = dict(
        loader=PackageLoader("mmif_bench", "templates"), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    if latex:
        options.update(block_start_string=r"\BLOCK{", block_end_string="}",
                       variable_start_string=r"\VAR{", variable_end_string="}",
                       comment_start_string=r"\#{", comment_end_string="}",
                       autoescape=False)
    else:
        options["autoescape"] = select_autoescape(["html.j2"])
    env = Environment(**options)
    env.filters.update(tex=latex_escape, label=latex_label, md=markdown_escape,
                       code=markdown_code, number=number,
                       tojson_sorted=lambda v: json.dumps(v, sort_keys=True))
    return env


def render_to(path: Path, template: str, **context) -> Path:
    """Render ``template`` with ``context`` into ``path`` (UTF-8, newline-terminated),
    atomically."""
    text = environment(template.endswith(".tex.j2")).get_template(template).render(**context)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
