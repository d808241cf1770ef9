"""First-party fusion metrics: definitions only, registered through the
``mmif_bench.metrics`` entry points in pyproject.toml.

Scoring lives in the core: :func:`mmif_bench.evaluate` (images as users hold them) and
:func:`mmif_bench.evaluation.score_255_batch` (0..255 float stacks).
"""
