"""Screening benchmark: every vectorised starter rule over the national preset (~10 M activity rows).

    python -m bench.screening            # all pipelines, each in a fresh process; writes bench/out/screening.json
    python -m bench.screening --pipeline polars|pandas|anomaly   # one pipeline, in this process (JSON on stdout)

Pipelines (each in its own subprocess, so peak memory is that pipeline's alone; Polars limited to 2
threads, ``POLARS_MAX_THREADS=2``, as on the target 2-core machine):

- ``polars``: ``kiln.engine.screening.build`` + ``run`` with the starter rules (the engine: Polars and
  numpy), timed per rule family; the input frames are read first and their loading timed apart.
- ``pandas``: the same rules in idiomatic vectorised pandas (``bench/screening/pandas_rules.py``) on
  the same data; its findings are compared with the engine's key by key.
- ``anomaly``: the anomaly detector on the same data, with precision and recall against the
  generator's planted problems (and on the 500-enterprise city demo, generated in memory).

The emissions the intensity and peer rules need are computed once with the accounting engine
(year by year) and cached beside the data; they are an input of screening, not part of it.
The machine is shared: the load average before and after each pipeline is recorded with wall
and CPU time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench" / "out"
CACHE = OUT / "screening"
RESULT = OUT / "screening.json"
AS_OF = datetime.date(2026, 6, 1)
NOT_AFTER = "2026-06"
TARGET_SECONDS, TARGET_GIB, TARGET_SPEEDUP = 2.0, 1.5, 3.0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _national():
    from bench.data.national import OUT as NATIONAL
    from bench.data.national import national_activity

    activity = national_activity()
    return activity, NATIONAL


def _ets_sectors() -> dict[str, str]:
    import csv

    path = ROOT / "kiln" / "registry" / "data" / "industries.csv"
    with path.open(encoding="utf-8") as handle:
        return {row["code"]: row["ets_sector"] for row in csv.DictReader(handle) if row.get("ets_sector")}


def prepare_inputs() -> dict:
    """Emissions per enterprise-month (accounting engine, year by year) and the enterprise frame, cached."""
    import hashlib

    import polars as pl

    from kiln.engine import factorset, screening

    activity, national = _national()
    manifest = json.loads((national / "manifest.json").read_text())
    key = manifest["files"]["activity.parquet"]["sha256"]
    CACHE.mkdir(parents=True, exist_ok=True)
    stamp = CACHE / "inputs.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("activity_sha256") == key:
        return json.loads(stamp.read_text())
    started = time.perf_counter()
    scan = pl.scan_parquet(activity)
    factors = factorset.load()
    parts = []
    for year in range(2000, 2101):
        part = scan.filter(pl.col("period").cast(pl.String).str.starts_with(str(year))).collect()
        if part.height == 0:
            continue
        part = part.unique(["credit_code", "period", "item", "facility"], keep="first", maintain_order=True)
        em = screening.estimated_emissions(part, factors, not_after=NOT_AFTER)
        if em is not None:
            parts.append(em)
    # Keys stay dictionary-encoded (as the accounting engine returns them): no per-row strings.
    pl.concat(
        [p.with_columns(pl.col("credit_code", "period").cast(pl.Categorical)) for p in parts]
    ).write_parquet(CACHE / "emissions.parquet")
    sectors = _ets_sectors()
    ents = pl.read_csv(national / "enterprises.csv", infer_schema=False).select(
        "credit_code",
        "industry_code",
        "region_code",
        pl.col("industry_code").replace_strict(sectors, default="").alias("sector"),
        (pl.col("key_emitter").str.to_lowercase() == "true").alias("obliged"),
    )
    ents.write_parquet(CACHE / "enterprises.parquet")
    info = {
        "activity_sha256": key,
        "emissions_rows": sum(p.height for p in parts),
        "seconds": round(time.perf_counter() - started, 1),
        "sha256": hashlib.sha256((CACHE / "emissions.parquet").read_bytes()).hexdigest(),
    }
    stamp.write_text(json.dumps(info, indent=1))
    return info


def _load_polars():
    import polars as pl

    activity, national = _national()
    frames = {
        "activity": pl.read_parquet(activity),
        "metered": pl.read_parquet(national / "metered_electricity.parquet"),
        "economic": pl.read_csv(national / "economic.csv", schema_overrides={"credit_code": pl.String}),
        "emissions": pl.read_parquet(CACHE / "emissions.parquet"),
        "enterprises": pl.read_parquet(CACHE / "enterprises.parquet"),
    }
    return frames, national


def run_polars() -> dict:
    from kiln.engine import screening
    from kiln.screening.starter import starter_rules

    started = time.perf_counter()
    frames, _ = _load_polars()
    load_s = time.perf_counter() - started
    rows = frames["activity"].height
    wall, cpu = time.perf_counter(), time.process_time()
    ctx = screening.build(frames.pop("activity"), as_of=AS_OF, not_after=NOT_AFTER, **frames)
    result = screening.run(ctx, starter_rules())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    findings = result.findings.select("rule_id", "credit_code", "period", "item", "facility")
    findings.write_parquet(CACHE / "polars_findings.parquet")
    return {
        "rows": rows,
        "load_s": round(load_s, 3),
        "screen_wall_s": round(wall, 3),
        "screen_cpu_s": round(cpu, 3),
        "family_wall_s": {k: round(v, 3) for k, v in result.timings.items()},
        "family_cpu_s": {k: round(v, 3) for k, v in result.cpu.items()},
        "findings": findings.height,
        "by_rule": dict(sorted(result.counts.items())),
        "skipped": result.skipped,
        "peak_mib": round(_peak_mib(), 1),
        "streams": ctx.n_streams,
        "months": ctx.n_months,
        "enterprises": ctx.n_enterprises,
    }


def run_pandas() -> dict:
    import pandas as pd

    from bench.screening.pandas_rules import PandasScreening, counts
    from kiln.screening.starter import starter_rules

    activity, national = _national()
    started = time.perf_counter()
    frame = pd.read_parquet(activity)
    metered = pd.read_parquet(national / "metered_electricity.parquet")
    metered["credit_code"] = metered["credit_code"].astype("string")
    metered["period"] = metered["period"].astype("string")
    economic = pd.read_csv(national / "economic.csv", dtype={"credit_code": "string"})
    emissions = pd.read_parquet(CACHE / "emissions.parquet")
    emissions["credit_code"] = emissions["credit_code"].astype("string")
    emissions["period"] = emissions["period"].astype("string")
    enterprises = pd.read_parquet(CACHE / "enterprises.parquet")
    load_s = time.perf_counter() - started
    wall, cpu = time.perf_counter(), time.process_time()
    engine = PandasScreening(
        frame,
        enterprises=enterprises,
        metered=metered,
        emissions=emissions,
        economic=economic,
        as_of=AS_OF,
        not_after=NOT_AFTER,
    )
    findings = engine.run(starter_rules())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    findings.to_parquet(CACHE / "pandas_findings.parquet")
    return {
        "rows": len(frame),
        "load_s": round(load_s, 3),
        "screen_wall_s": round(wall, 3),
        "screen_cpu_s": round(cpu, 3),
        "family_wall_s": {k: round(v, 3) for k, v in engine.timings.items()},
        "family_cpu_s": {k: round(v, 3) for k, v in engine.cpu.items()},
        "findings": len(findings),
        "by_rule": counts(findings),
        "peak_mib": round(_peak_mib(), 1),
    }


def run_anomaly() -> dict:
    import polars as pl

    from kiln.demo.generate import DemoConfig, generate
    from kiln.engine import screening, screening_anomaly

    frames, national = _load_polars()
    wall, cpu = time.perf_counter(), time.process_time()
    ctx = screening.build(frames.pop("activity"), as_of=AS_OF, not_after=NOT_AFTER, **frames)
    build_s = time.perf_counter() - wall
    scores = screening_anomaly.score(ctx)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    truth = pl.read_csv(national / "injected_problems.csv", infer_schema=False)
    national_eval = screening_anomaly.evaluate(scores, truth)
    demo = generate(DemoConfig(enterprises=500, years=(2023, 2024, 2025), seed=42))
    demo_ctx = screening.build(
        demo.activity, metered=demo.metered_electricity, as_of=AS_OF, not_after=NOT_AFTER
    )
    demo_eval = screening_anomaly.evaluate(screening_anomaly.score(demo_ctx), demo.injected_problems)
    return {
        "build_wall_s": round(build_s, 3),
        "score_wall_s": round(wall - build_s, 3),
        "total_cpu_s": round(cpu, 3),
        "enterprise_months": scores.height,
        "national": national_eval,
        "city_demo_500x3_seed42": demo_eval,
        "peak_mib": round(_peak_mib(), 1),
    }


PIPELINES = {"polars": run_polars, "pandas": run_pandas, "anomaly": run_anomaly, "inputs": prepare_inputs}


def _subprocess(name: str) -> dict:
    env = {**os.environ, "POLARS_MAX_THREADS": "2"}
    load_before = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.screening", "--pipeline", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"pipeline {name} failed")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = round(time.perf_counter() - started, 1)
    result["loadavg_before"] = [round(x, 2) for x in load_before]
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def _compare() -> dict:
    import pandas as pd

    keys = ["rule_id", "credit_code", "period", "item", "facility"]
    a = pd.read_parquet(CACHE / "polars_findings.parquet").astype("string")
    b = pd.read_parquet(CACHE / "pandas_findings.parquet").astype("string")
    a["facility"], b["facility"] = a["facility"].fillna(""), b["facility"].fillna("")
    a["item"], b["item"] = a["item"].fillna(""), b["item"].fillna("")
    merged = a[keys].drop_duplicates().merge(b[keys].drop_duplicates(), on=keys, how="outer", indicator=True)
    only = merged[merged["_merge"] != "both"]
    by_rule = only.groupby(["rule_id", "_merge"], observed=True).size().unstack(fill_value=0)
    return {
        "identical": only.empty,
        "only_polars": int((only["_merge"] == "left_only").sum()),
        "only_pandas": int((only["_merge"] == "right_only").sum()),
        "differences_by_rule": {
            str(k): {str(c): int(v) for c, v in row.items()} for k, row in by_rule.iterrows()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screening")
    parser.add_argument("--pipeline", choices=sorted(PIPELINES))
    parser.add_argument("--skip-pandas", action="store_true", help="the slow baseline is not run")
    args = parser.parse_args(argv)
    if args.pipeline:
        print(json.dumps(PIPELINES[args.pipeline](), ensure_ascii=False))
        return 0

    inputs = _subprocess("inputs")
    polars = _subprocess("polars")
    pandas = None if args.skip_pandas else _subprocess("pandas")
    anomaly = _subprocess("anomaly")
    comparison = _compare() if pandas else None
    speedup = round(pandas["screen_wall_s"] / polars["screen_wall_s"], 2) if pandas else None
    cpu_speedup = round(pandas["screen_cpu_s"] / polars["screen_cpu_s"], 2) if pandas else None
    report = {
        "benchmark": "screening",
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "polars_max_threads": 2},
        "data": {
            "rows": polars["rows"],
            "streams": polars["streams"],
            "months": polars["months"],
            "enterprises": polars["enterprises"],
            "emissions_input": inputs,
        },
        "targets": {
            "screen_wall_s": TARGET_SECONDS,
            "peak_gib": TARGET_GIB,
            "speedup_vs_pandas": TARGET_SPEEDUP,
        },
        "polars": polars,
        "pandas": pandas,
        "speedup_wall": speedup,
        "speedup_cpu": cpu_speedup,
        "same_findings": comparison,
        "anomaly": anomaly,
        "met": {
            "screen_wall_s": polars["screen_wall_s"] <= TARGET_SECONDS,
            "screen_cpu_s": polars["screen_cpu_s"] <= TARGET_SECONDS,
            "peak_gib": polars["peak_mib"] / 1024 <= TARGET_GIB,
            "speedup": speedup is not None and speedup >= TARGET_SPEEDUP,
        },
    }
    RESULT.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    _print(report)
    return 0


def _print(r: dict) -> None:
    p, pd_ = r["polars"], r["pandas"]
    print(f"screening, national preset: {p['rows']:,} rows, {p['streams']:,} streams × {p['months']} months")
    print(
        f"{'family':14s} {'engine wall':>12s} {'engine cpu':>11s}"
        + (f" {'pandas wall':>12s} {'pandas cpu':>11s}" if pd_ else "")
    )
    for family in p["family_wall_s"]:
        line = f"{family:14s} {p['family_wall_s'][family]:12.3f} {p['family_cpu_s'].get(family, 0):11.3f}"
        if pd_:
            line += f" {pd_['family_wall_s'].get(family, 0):12.3f} {pd_['family_cpu_s'].get(family, 0):11.3f}"
        print(line)
    print(
        f"{'total':14s} {p['screen_wall_s']:12.3f} {p['screen_cpu_s']:11.3f}"
        + (f" {pd_['screen_wall_s']:12.3f} {pd_['screen_cpu_s']:11.3f}" if pd_ else "")
    )
    print(
        f"engine peak {p['peak_mib']:.0f} MiB (loading {p['load_s']:.2f} s, not in the total); "
        f"load average before/after {p['loadavg_before'][0]} / {p['loadavg_after'][0]}"
    )
    if pd_:
        print(
            f"pandas peak {pd_['peak_mib']:.0f} MiB; speed-up wall ×{r['speedup_wall']}, cpu ×{r['speedup_cpu']}; "
            f"same findings: {r['same_findings']['identical']} ({r['same_findings']['only_polars']} only engine, "
            f"{r['same_findings']['only_pandas']} only pandas)"
        )
    a = r["anomaly"]
    print(
        f"anomaly detector: national precision {a['national']['precision']:.2f} recall {a['national']['recall']:.2f}"
        f" (p@k {a['national']['precision_at_k']:.2f}); city demo precision "
        f"{a['city_demo_500x3_seed42']['precision']:.2f} recall {a['city_demo_500x3_seed42']['recall']:.2f}"
    )
    print(f"targets met: {r['met']} → {RESULT}")
