"""Matrix products as the English pipeline's layers make them: blis (thinc's NumpyOps) against NumPy's BLAS.

    python bench/blas.py [--repeat 20] [--json]

Why this exists: thinc 8.3.11 requires blis 1.3, whose single-thread products run ~3x slower than the OpenBLAS in the
numpy wheel on the project's machine (AMD EPYC, AVX2), and the tok2vec's and the NER's products are most of the
per-article analysis; ``storytrace.nlp.pipeline.BlasOps`` routes them to NumPy. Shapes: the tok2vec's maxout layers
over a 4,000-token batch (width 192 x 3 pieces, window 1) and a short sentence's. One BLAS thread (the analysis runs
one process per core). Figures: the best mean time per product of five rounds, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy
from thinc.api import NumpyOps
from threadpoolctl import threadpool_limits

from storytrace.nlp.pipeline import BlasOps

SHAPES = {"tok2vec batch (4000 x 576 . 576 x 576)": (4000, 576, 576), "sentence (30 x 576 . 576 x 576)": (30, 576, 576)}


def best_ms(product: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            product()
        best = min(best, (time.perf_counter() - start) / repeat)
    return round(best * 1000, 3)


def run(repeat: int = 20) -> dict[str, Any]:
    from importlib.metadata import version

    rng = numpy.random.default_rng(0)
    figures: dict[str, Any] = {"blis": version("blis"), "numpy": numpy.__version__, "shapes": {}}
    with threadpool_limits(limits=1, user_api="blas"):
        for name, (n, k, m) in SHAPES.items():
            x, w = rng.random((n, k), dtype="float32"), rng.random((m, k), dtype="float32")
            row = {ops.name: best_ms(lambda o=ops, a=x, b=w: o.gemm(a, b, trans2=True), repeat)
                   for ops in (NumpyOps(), BlasOps())}
            row["speedup"] = round(row["numpy"] / row[BlasOps.name], 2)
            figures["shapes"][name] = row
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.repeat)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"blis {figures['blis']}, numpy {figures['numpy']}, one BLAS thread; ms per product (best of 5 rounds)")
    for name, row in figures["shapes"].items():
        print(f"  {name}: blis {row['numpy']}, NumPy BLAS {row[BlasOps.name]} ({row['speedup']}x)")


if __name__ == "__main__":
    main()
