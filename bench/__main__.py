"""``python -m bench [NAME ...]`` (``make bench``): run every benchmark under bench/, each in its own process.

A benchmark is a package ``bench/<name>/`` runnable as ``python -m bench.<name>``; it prints its
table and writes ``bench/out/<name>.json``. A fresh process per benchmark keeps peak-memory figures
apart. ``bench/data`` only generates data and is not a benchmark.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"data", "out"}


def available() -> list[str]:
    return sorted(
        p.name
        for p in HERE.iterdir()
        if p.is_dir() and p.name not in NOT_BENCHMARKS and (p / "__init__.py").exists()
        and ((p / "__main__.py").exists() or "def main" in (p / "__init__.py").read_text())
    )


def main(names: list[str]) -> int:
    chosen = names or available()
    unknown = sorted(set(chosen) - set(available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    failed = []
    for name in chosen:
        print(f"\n=== bench.{name}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent)  # noqa: S603
        print(f"=== bench.{name}: exit {code} after {time.perf_counter() - started:.1f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
