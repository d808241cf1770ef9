"""Published weight files: declared beside each method (:class:`WeightFile` in a method's
``weight_files``), found (:func:`find`: the option, ``$MMIF_BENCH_WEIGHTS``, the fetched
store), hashed once per process (:func:`hash_once`) and fetched verified (:func:`fetch`)."""
from .declaration import WeightFile
from .fetch import fetch
from .store import (
                    WEIGHTS_ENV,
                    MissingWeightsError,
                    fetch_command,
                    find,
                    hash_once,
                    missing_message,
                    store_dir,
                    weights_dir,
)
from .torch_file import UntrustedWeightsError, load_torch_file

__all__ = ["WEIGHTS_ENV", "MissingWeightsError", "WeightFile", "fetch", "fetch_command", "find",
           "hash_once", "load_torch_file", "missing_message", "store_dir", "UntrustedWeightsError",
           "weights_dir"]
