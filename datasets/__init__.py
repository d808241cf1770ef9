"""First-party datasets, registered through the ``mmif_bench.datasets`` entry points."""
