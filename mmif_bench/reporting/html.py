"""The self-contained HTML leaderboard: every image and chart inlined as a data URI."""
from __future__ import annotations

import base64
from pathlib import Path

from mmif_bench.imageio import ImageError, encode_png, read_image

from .figures import CD_DIAGRAM, figure_paths
from .render import render_to
from .tables import Leaderboard

IMAGES_PER_PAIR = 4  # images per pair type embedded in the page (0: all)
BROWSER_FORMATS = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def data_uri(path: Path | None) -> str | None:
    """``data:`` URI of an image file (re-encoded as PNG unless browsers show it as is);
    None when the file is missing or unreadable."""
    if path is None:
        return None
    try:
        if path.suffix.lower() in BROWSER_FORMATS and path.is_file():
            mime, data = BROWSER_FORMATS[path.suffix.lower()], path.read_bytes()
        else:
            mime, data = "image/png", encode_png(read_image(path).pixels)
    except ImageError:
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_index(board: Leaderboard, per_pair: int = IMAGES_PER_PAIR) -> dict:
    """``{pair: {"modalities": [a, b], "images": {image: {"sources": [...], "fused":
    {method: uri}}}}}`` for the comparison view: the first ``per_pair`` images of each
    pair type (all when 0), which keeps the page small enough to share."""
    results = board.results
    index: dict = {}
    for entry in results.record["pairs"]:
        pair, image = entry["pair_type"], entry["image"]
        group = index.setdefault(pair, {"modalities": pair.split("-", 1), "images": {}})
        if per_pair and len(group["images"]) >= per_pair:
            continue
        group["images"][image] = {
            "sources": [data_uri(p) for p in results.source_paths(entry)],
            "fused": {m: data_uri(results.fused_path(m, pair, image)) for m in results.methods},
        }
    return index


def write_html(board: Leaderboard, path: Path, figures: Path,
               images_per_pair: int = IMAGES_PER_PAIR, images_missing: str | None = None) -> Path:
    """Render ``leaderboard.html``; ``figures`` is the folder the charts were written to.
    With ``images_missing`` (the reason) the page says its image view is left out."""
    charts = [{"metric": metric, "uris": [data_uri(p) for p in figure_paths(figures, metric)]}
              for metric in board.results.metrics]
    return render_to(path, "leaderboard.html.j2", board=board, charts=charts,
                     cd_diagram=data_uri(figures / CD_DIAGRAM),
                     images={} if images_missing else image_index(board, images_per_pair),
                     images_missing=images_missing, images_per_pair=images_per_pair,
                     methods=board.results.methods)
