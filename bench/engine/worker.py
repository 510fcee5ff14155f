"""One measured pipeline in a fresh process: ``python -m bench.engine.worker PIPELINE DATA MAPPING REPEAT``.

Prints one JSON object: wall and CPU seconds per run (the first run is "cold": a fresh process
with nothing warmed up), the resident-set high-water mark (VmHWM, reset after loading the data,
so it includes the loaded input but not the Parquet decoding) after the first run and after all
runs (later runs add allocator fragmentation), the resident set after loading, and the result
totals for cross-checking.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def _status(field: str) -> int:
    """A field of /proc/self/status in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    pipeline, data, mapping_path, repeat = argv[0], Path(argv[1]), Path(argv[2]), int(argv[3])
    import polars as pl

    from bench.engine import pipelines
    from kiln.engine import factorset

    factors = factorset.load()
    if pipeline.startswith("polars"):
        activity = pl.read_parquet(data)
        if pipeline == "polars-text":  # the same data with plain text columns (no dictionary encoding)
            activity = activity.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))
        mapping = pl.read_parquet(mapping_path)

        def run():
            return pipelines.polars_pipeline(activity, mapping, factors)

        summarise = pipelines.summary
    else:
        import pandas as pd

        activity = pd.read_parquet(data)
        mapping = pd.read_parquet(mapping_path)

        def run():
            return pipelines.pandas_pipeline(activity, mapping, factors)

        summarise = pipelines.pandas_summary
    loaded_rss, load_peak = _status("VmRSS"), _status("VmHWM")
    peak_reset = _reset_peak()
    walls, cpus, out, first_peak = [], [], None, 0
    for i in range(repeat):
        out = None  # free the previous run's results first, as a server would
        started, cpu = time.perf_counter(), time.process_time()
        out = run()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        if i == 0:
            first_peak = _status("VmHWM")
    report = {
        "pipeline": pipeline,
        "rows": len(activity),
        "wall_s": walls,
        "cpu_s": cpus,
        "peak_rss_bytes": _status("VmHWM"),
        "first_run_peak_rss_bytes": first_peak,
        "peak_reset_after_load": peak_reset,
        "rss_after_load_bytes": loaded_rss,
        "load_peak_rss_bytes": load_peak,
        "summary": summarise(out),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
