"""Accounting-engine benchmark: compute + all aggregates over ~10 million activity rows.

    python -m bench.engine [--enterprises 10000] [--years 10] [--repeat 4] [--pandas-repeat 3]
                           [--data synthetic|national|both] [--skip-pandas] [--skip-text]

Data: a seeded synthetic set (``synthetic.py``: 10 000 enterprises × 10 years × ~8 rows per
enterprise-month ≈ 9.7 M rows, every row valid) and, when ``bench/data/national.py`` is present,
the national demo data set (rows the engine rejects, e.g. the generator's injected problems and
process rows without measured carbon contents, are dropped first so both pipelines compute the
same rows). Files are cached under ``bench/out/engine/``.

Each pipeline runs in a fresh subprocess (``worker.py``) so peaks don't mix: the Polars engine
(``kiln.engine.emissions.compute`` + ``kiln.engine.aggregate.aggregate``) on dictionary-encoded
columns as Parquet stores them, the same with plain text columns, and the same computation in
idiomatic vectorised pandas. Reported: the cold first run, the median of the warm runs, CPU time,
and the peak resident set (VmHWM reset after loading, so it includes the input frame) of the first
run ("peak GiB") and over all runs ("all runs", which adds allocator fragmentation).

Targets (issue "Accounting engine"): ≤ 1.0 s and ≤ 1.5 GiB for ~10 M rows on 2 cores, ≥ 4× pandas.
Writes ``bench/out/engine.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from kiln.cli import POLARS_MALLOC_CONF

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE.parent / "out"
CACHE = OUT / "engine"
TARGETS = {"wall_s": 1.0, "peak_gib": 1.5, "speedup_vs_pandas": 4.0}


def _synthetic(enterprises: int, years: int) -> tuple[Path, Path]:
    from bench.engine import synthetic

    tag = f"v{synthetic.VERSION}-{enterprises}x{years}"
    data, mapping = CACHE / f"synthetic-{tag}.parquet", CACHE / f"synthetic-{tag}-mapping.parquet"
    if not (data.exists() and mapping.exists()):
        CACHE.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        activity, places = synthetic.generate(enterprises=enterprises, years=years)
        activity.write_parquet(data)
        places.write_parquet(mapping)
        print(
            f"generated {activity.height:,} synthetic rows in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    return data, mapping


def _national() -> tuple[Path, Path, dict] | None:
    """The national demo data set, cleaned of rows the engine rejects; None when unavailable."""
    if not (HERE.parent / "data" / "national.py").exists():
        return None
    try:
        from bench.data.national import national_activity
    except ImportError as exc:  # the data generator is being written concurrently
        print(f"national data set unavailable ({exc}); synthetic only", flush=True)
        return None
    import polars as pl

    from kiln.engine import factorset
    from kiln.engine.validation import validate

    source = Path(national_activity())
    stamp = f"{source.stat().st_size}-{int(source.stat().st_mtime)}"
    data, mapping = CACHE / f"national-{stamp}.parquet", CACHE / f"national-{stamp}-mapping.parquet"
    info_path = CACHE / f"national-{stamp}.json"
    if not (data.exists() and mapping.exists() and info_path.exists()):
        CACHE.mkdir(parents=True, exist_ok=True)
        activity = pl.read_parquet(source)
        dropped: dict[str, int] = {}
        for _ in range(5):  # dropping a parameter row can leave its item without a factor: repeat
            errors = validate(activity, factorset.load())
            if errors.is_empty():
                break
            for code, n in errors.group_by("code").len().iter_rows():
                dropped[code] = dropped.get(code, 0) + n
            bad = errors.get_column("row").drop_nulls().unique()
            activity = activity.with_row_index("_r").filter(~pl.col("_r").is_in(bad.implode())).drop("_r")
        activity.write_parquet(data)
        enterprises = pl.read_csv(source.parent / "enterprises.csv", infer_schema=False)
        enterprises.select(
            "credit_code",
            "region_code",
            pl.col("region_code").str.slice(0, 4).add("00").alias("city_code"),
            "industry_code",
        ).write_parquet(mapping)
        info_path.write_text(
            json.dumps({"source": str(source), "dropped_rows_by_code": dropped, "rows": activity.height})
        )
    return data, mapping, json.loads(info_path.read_text())


def _run(pipeline: str, data: Path, mapping: Path, repeat: int, malloc_conf: str | None = None) -> dict:
    command = [sys.executable, "-m", "bench.engine.worker", pipeline, str(data), str(mapping), str(repeat)]
    env = dict(os.environ)
    if malloc_conf is not None:
        env["_RJEM_MALLOC_CONF"] = malloc_conf  # Polars' jemalloc; must be set before the process starts
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)  # noqa: S603
    if done.returncode:
        return {"pipeline": pipeline, "error": done.stderr.strip().splitlines()[-5:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(dataset: str, report: dict, pandas_warm: float | None) -> dict:
    if "error" in report:
        return {"dataset": dataset, "pipeline": report["pipeline"], "error": report["error"]}
    walls = report["wall_s"]
    warm = statistics.median(walls[1:]) if len(walls) > 1 else walls[0]
    return {
        "dataset": dataset,
        "pipeline": report["pipeline"],
        "rows": report["rows"],
        "cold_wall_s": round(walls[0], 3),
        "warm_wall_s": round(warm, 3),
        "warm_cpu_s": round(statistics.median(report["cpu_s"][1:] or report["cpu_s"]), 3),
        "peak_rss_gib": round(report["first_run_peak_rss_bytes"] / 2**30, 3),
        "peak_rss_all_runs_gib": round(report["peak_rss_bytes"] / 2**30, 3),
        "input_rss_gib": round(report["rss_after_load_bytes"] / 2**30, 3),
        "speedup_vs_pandas": round(pandas_warm / warm, 1) if pandas_warm else None,
        "summary": report["summary"],
        "load_average": [round(x, 2) for x in report["load_average"]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=4, help="runs per pipeline (the first is the cold run)")
    parser.add_argument("--data", choices=("synthetic", "national", "both"), default="both")
    parser.add_argument("--pandas-repeat", type=int, default=3, help="runs of the (slow) pandas pipeline")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--skip-text", action="store_true", help="skip the plain-text-columns Polars run")
    parser.add_argument(
        "--malloc-conf",
        default=POLARS_MALLOC_CONF,
        help="jemalloc options for the workers (_RJEM_MALLOC_CONF); default: what the kiln command sets, "
        "so the benchmark measures what the platform runs; '' for jemalloc's own defaults",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    datasets = []
    if args.data in ("synthetic", "both"):
        datasets.append(("synthetic", *_synthetic(args.enterprises, args.years), {}))
    if args.data in ("national", "both"):
        national = _national()
        if national:
            datasets.append(("national", *national))
    pipelines = [
        "polars",
        *([] if args.skip_text else ["polars-text"]),
        *([] if args.skip_pandas else ["pandas"]),
    ]

    rows = []
    for name, data, mapping, info in datasets:
        reports = {
            p: _run(p, data, mapping, args.pandas_repeat if p == "pandas" else args.repeat, args.malloc_conf)
            for p in pipelines
        }
        pandas = reports.get("pandas")
        pandas_warm = None
        if pandas and "error" not in pandas:
            pandas_warm = statistics.median(pandas["wall_s"][1:] or pandas["wall_s"])
        base = reports["polars"].get("summary") if "error" not in reports["polars"] else None
        for p in pipelines:
            row = _row(name, reports[p], pandas_warm if p != "pandas" else None)
            if "error" not in row and base:
                row["agrees_with_polars"] = all(
                    abs(row["summary"][k] - base[k]) <= 1e-9 * max(abs(base[k]), 1.0) for k in base
                )
            if info:
                row["dropped_rows_by_code"] = info.get("dropped_rows_by_code")
            rows.append(row)

    header = (
        f"{'dataset':<10}{'pipeline':<13}{'rows':>11}{'cold s':>9}{'warm s':>9}{'cpu s':>8}{'peak GiB':>10}"
        f"{'all runs':>10}{'input GiB':>10}{'× pandas':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        if "error" in r:
            print(f"{r['dataset']:<10}{r['pipeline']:<13} FAILED: {' / '.join(r['error'])}")
            continue
        speed = f"{r['speedup_vs_pandas']:.1f}" if r["speedup_vs_pandas"] else "-"
        print(
            f"{r['dataset']:<10}{r['pipeline']:<13}{r['rows']:>11,}{r['cold_wall_s']:>9.3f}{r['warm_wall_s']:>9.3f}"
            f"{r['warm_cpu_s']:>8.2f}{r['peak_rss_gib']:>10.2f}{r['peak_rss_all_runs_gib']:>10.2f}"
            f"{r['input_rss_gib']:>10.2f}{speed:>10}"
        )
    for r in rows:  # the pipelines must agree before their speeds mean anything
        if "error" not in r:
            print(
                f"  {r['dataset']}/{r['pipeline']}: total {r['summary']['co2_total_t']:,.1f} tCO2, "
                f"{r['summary']['tce_total']:,.1f} tce, {r['summary']['rows']:,} result rows, "
                f"same totals as polars: {'yes' if r.get('agrees_with_polars') else 'NO'}"
            )
    load = os.getloadavg()
    print(
        f"targets: ≤ {TARGETS['wall_s']} s, ≤ {TARGETS['peak_gib']} GiB, ≥ {TARGETS['speedup_vs_pandas']}× pandas; "
        f"{os.cpu_count()} CPUs, load average now {load[0]:.2f}"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "engine",
        "targets": TARGETS,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_at_end": load,
        "malloc_conf": args.malloc_conf,
        "results": rows,
    }
    (OUT / "engine.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    failed = any("error" in r for r in rows)
    return 1 if failed else 0
