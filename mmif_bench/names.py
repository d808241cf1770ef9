"""Names are names, not paths: the character set of method and fused-folder names, and
the check that every path a run writes lies inside its output folder.

A name (a method, a ``--fused`` folder, a published set) is 1 to 64 ASCII characters:
letters, digits, ``.``, ``_``, ``+`` and ``-``, starting with a letter or a digit and
holding no ``..``. So ``.``, ``..``, ``a/b``, ``a\\b``, a leading ``-`` or ``.``, spaces and
control characters are refused when the run is configured (exit 2). Pair types and image
names come from the dataset; they only need to be one plain path component each.
"""
from __future__ import annotations

import re
from pathlib import Path

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
NAME_RULE = ("1-64 ASCII letters, digits, '.', '_', '+' or '-', starting with a letter or "
             "digit, without '..'")


def check_name(kind: str, name: str) -> str:
    """``name`` when it is a valid ``kind`` name (e.g. ``"method"``, ``"--fused"``), else a
    ValueError that names it and states the rule."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise ValueError(f"{kind} name {name!r} is not allowed: names are {NAME_RULE} "
                         f"(they become folder names under --out)")
    return name


def split_alias(entry: str) -> tuple[str, str]:
    """``(name, method)`` of a ``--methods`` entry: ``METHOD`` is ``(METHOD, METHOD)``;
    ``NAME=METHOD`` is an alias, a second configuration of ``METHOD`` with its own options
    (``-o NAME:KEY=VALUE``) and its own row. ``name`` is checked (:func:`check_name`)."""
    name, eq, method = (part.strip() for part in entry.partition("="))
    if eq and not (name and method):
        raise ValueError(f"method entry {entry!r} must look like NAME=METHOD, e.g. "
                         f"dmfnet-mine=dmfnet")
    return check_name("method", name), method or name


def is_component(text: str) -> bool:
    """True when ``text`` is one plain path component: not empty, ``.`` or ``..``, without
    a separator or a control character."""
    return (bool(text) and text not in (".", "..") and "/" not in text and "\\" not in text
            and not any(ord(ch) < 32 or ord(ch) == 127 for ch in text))


def inside(root: Path, *parts: str) -> Path:
    """``root/part/...``, or a ValueError when a part is not one plain path component (so
    the path cannot leave ``root``)."""
    bad = [part for part in parts if not is_component(part)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a plain file or folder name; refusing to write "
                         f"outside {root}")
    return Path(root).joinpath(*parts)


def strip_roots(message: str, roots: list[str | Path]) -> str:
    """``message`` with the absolute forms of ``roots`` (as given and resolved) removed from
    the paths it names, so that files are named relative to their folder (results hold no
    machine path)."""
    forms = {str(form) for root in roots for form in (Path(root).expanduser(),
                                                      Path(root).expanduser().resolve())
             if form.is_absolute() and str(form) != "/"}
    for form in sorted(forms, key=len, reverse=True):
        message = message.replace(form + "/", "")
    return message
