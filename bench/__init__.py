"""Benchmark of modelward against curl, aria2c and huggingface_hub (issue 3).

Not a test: pytest only collects ``tests/``. Run ``bench/run.sh`` (or ``python -m bench``)
from the repository root; ``docs/BENCHMARKS.md`` explains every figure.
"""
