"""Reading a torch weight file safely: tensors and plain values only, never code."""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any


class UntrustedWeightsError(ValueError):
    """A weight file that holds Python objects beyond tensors and plain values: refused."""


def load_torch_file(path: str | Path, allowed: tuple[type, ...] = ()) -> Any:
    """The content of a ``torch.save``-d file, loaded with ``weights_only=True`` (tensors,
    containers and plain values only, plus the ``allowed`` classes, e.g. the
    ``argparse.Namespace`` of training arguments some published checkpoints carry). A file
    that needs any other Python object raises
    :class:`UntrustedWeightsError`; one torch cannot read raises a ValueError naming it.
    Neither advises loading the file with ``weights_only=False``."""
    import torch

    try:
        with torch.serialization.safe_globals(list(allowed)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Unsupported global" not in str(error):  # no refused object: bytes torch cannot read
            raise ValueError(f"{path} is not a readable torch weight file (not a pickle "
                             f"torch can read); replace it with the published file "
                             f"('mmif-bench fetch weights NAME')") from None
        found = str(error).split("Unsupported global: GLOBAL ", 1)[-1].split(" ", 1)[0] \
            if "Unsupported global" in str(error) else ""
        raise UntrustedWeightsError(
            f"{path} is not a plain weight file (it holds Python objects"
            f"{' such as ' + found if found else ''}, which could run code when loaded) and is "
            f"refused; use the published file ('mmif-bench fetch weights NAME')") from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, AttributeError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise ValueError(f"{path} is not a readable torch weight file ({first}); replace it "
                         f"with the published file ('mmif-bench fetch weights NAME')") from None
