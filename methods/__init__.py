"""First-party fusion methods, registered through the ``mmif_bench.methods`` entry points."""
