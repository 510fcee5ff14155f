"""Emission-report benchmark: one typical annual report as PDF and DOCX, then every enterprise of the demo
city as a background job (huey) whose progress is read the way the job page reads it.

    python -m bench.reports [--enterprises 500] [--repeat 7] [--job-format pdf|docx|none] [--workers 1]

1. A fresh SQLite database and var directory under ``bench/out/reports-var/``: migrate, ``kiln demo-data
   --enterprises N --years 1`` (the registry) and the official calculation run of the year straight from
   the engine (``bench.monitoring.data.build_official_runs``, as review would have cleaned the data).
2. The typical report: the enterprise with the median number of result rows. ``content.build`` then
   ``render.pdf`` / ``render.docx``, once cold and ``--repeat`` times warm; wall and CPU seconds.
   Targets (issue "Supervision"): PDF ≤ 2 s, DOCX ≤ 0.5 s (warm median).
3. The job: ``services.start_job`` for the whole city, a real huey consumer (``kiln run_huey``) in a
   subprocess, and the job row polled once a second (the page's htmx poll reads the same row) until done.

Writes ``bench/out/reports.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
WORK = OUT / "reports-var"
TARGETS = {"pdf_s": 2.0, "docx_s": 0.5}


def _setup(enterprises: int) -> dict:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    os.environ["KILN_VAR_DIR"] = str(WORK)
    os.environ["KILN_DATABASE_URL"] = f"sqlite:///{WORK / 'kiln.sqlite3'}"
    os.environ["KILN_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiln.settings")
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("demo_data", enterprises=enterprises, years=1, seed=42, out=WORK / "demo", verbosity=0)
    from bench.monitoring.data import build_official_runs
    from kiln.registry.models import Region

    year = int(json.loads((WORK / "demo" / "manifest.json").read_text())["arguments"]["end_year"])
    stats = build_official_runs(
        WORK / "demo" / "activity.parquet", Region.objects.get(code="339900"), [year], log=lambda *a: None
    )
    return {"year": year, "setup_s": round(time.perf_counter() - started, 1), "run": stats[0]}


def _typical(run):
    import polars as pl

    from kiln.accounting.services import rows_of
    from kiln.registry.models import Enterprise

    counts = rows_of(run).group_by(pl.col("credit_code").cast(pl.String)).len().sort("len").collect()
    code, rows = counts.row(counts.height // 2)
    return Enterprise.objects.select_related("region", "industry").get(credit_code=code), rows


def _timed(fn, repeat: int) -> dict:
    walls, cpus = [], []
    result = None
    for _ in range(repeat + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    warm, warm_cpu = walls[1:], cpus[1:]
    return {
        "cold_s": round(walls[0], 3),
        "median_s": round(statistics.median(warm), 3),
        "min_s": round(min(warm), 3),
        "max_s": round(max(warm), 3),
        "median_cpu_s": round(statistics.median(warm_cpu), 3),
        "bytes": len(result) if isinstance(result, bytes | bytearray) else None,
    }


def _job(year: int, fmt: str, workers: int) -> dict:
    from django.db import transaction

    from kiln.accounts.models import Membership
    from kiln.registry.models import Region
    from kiln.reports import services
    from kiln.reports.models import ReportJob

    reviewer = Membership.objects.filter(role="gov_reviewer", organisation__region__code="339900").first()
    with transaction.atomic():
        job = services.start_job(
            actor=reviewer.user if reviewer else None,
            membership=reviewer,
            region=Region.objects.get(code="339900"),
            year=year,
            fmt=fmt,
            enterprises=None,
        )
    env = dict(os.environ)
    consumer = subprocess.Popen(  # noqa: S603 - our own management command
        [sys.executable, "-m", "kiln.cli", "run_huey", "--workers", str(workers), "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    started = time.perf_counter()
    progress = []
    try:
        while True:
            time.sleep(1.0)
            row = ReportJob.objects.get(pk=job.pk)
            progress.append((round(time.perf_counter() - started, 1), row.done))
            if int(time.perf_counter() - started) % 30 == 0:
                print(
                    f"    job {row.status}: {row.done}/{row.total} after {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
            if row.status in (ReportJob.Status.DONE, ReportJob.Status.FAILED):
                break
            if consumer.poll() is not None:
                raise RuntimeError("the huey consumer exited")
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)
    row = ReportJob.objects.get(pk=job.pk)
    zip_path = WORK / row.output_path if row.output_path else None
    return {
        "format": fmt,
        "status": row.status,
        "enterprises": row.total,
        "done": row.done,
        "skipped": row.skipped,
        "job_seconds": row.seconds,
        "wall_seconds_incl_queue": round(time.perf_counter() - started, 1),
        "per_report_s": round(row.seconds / max(row.done, 1), 3) if row.seconds else None,
        "zip_mib": round(zip_path.stat().st_size / 2**20, 1) if zip_path and zip_path.exists() else None,
        "progress_samples": len(progress),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--enterprises", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--job-format", choices=["pdf", "docx", "none"], default="pdf")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    print(f"setting up the demo city ({args.enterprises} enterprises, 1 year) ...", flush=True)
    setup = _setup(args.enterprises)
    from django.utils import translation

    from kiln.accounting.queries import official_run
    from kiln.reports import content, render

    translation.activate("zh-hans")
    enterprise = None
    from kiln.registry.models import Region

    run = official_run(Region.objects.get(code="339900"), setup["year"])
    enterprise, rows = _typical(run)
    print(f"typical report: {enterprise.credit_code} ({rows} result rows), {setup['year']}", flush=True)
    report = content.build(enterprise, setup["year"])
    results = {
        "build": _timed(lambda: content.build(enterprise, setup["year"]), args.repeat),
        "pdf": _timed(lambda: render.pdf(report), args.repeat),
        "docx": _timed(lambda: render.docx(report), args.repeat),
    }
    results["pdf_total_median_s"] = round(results["build"]["median_s"] + results["pdf"]["median_s"], 3)
    results["docx_total_median_s"] = round(results["build"]["median_s"] + results["docx"]["median_s"], 3)
    for name in ("build", "pdf", "docx"):
        r = results[name]
        print(
            f"  {name:5s} cold {r['cold_s']:.3f} s · warm median {r['median_s']:.3f} s (min {r['min_s']:.3f}, "
            f"max {r['max_s']:.3f}; CPU {r['median_cpu_s']:.3f} s)"
            + (f" · {r['bytes']:,} bytes" if r["bytes"] else ""),
            flush=True,
        )
    print(
        f"  report = build + render: PDF {results['pdf_total_median_s']:.3f} s (target ≤ {TARGETS['pdf_s']}), "
        f"DOCX {results['docx_total_median_s']:.3f} s (target ≤ {TARGETS['docx_s']})",
        flush=True,
    )
    job = None
    if args.job_format != "none":
        print(
            f"job: every enterprise's {args.job_format.upper()} through huey ({args.workers} worker) ...",
            flush=True,
        )
        job = _job(setup["year"], args.job_format, args.workers)
        print(
            f"  {job['done']}/{job['enterprises']} reports in {job['job_seconds']:.1f} s "
            f"({job['per_report_s']:.3f} s each; {job['zip_mib']} MiB ZIP)",
            flush=True,
        )
    out = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_1min": round(os.getloadavg()[0], 2),
        },
        "setup": setup,
        "typical": {"credit_code": enterprise.credit_code, "result_rows": rows},
        "results": results,
        "job": job,
        "targets": TARGETS,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "pass": results["pdf_total_median_s"] <= TARGETS["pdf_s"]
        and results["docx_total_median_s"] <= TARGETS["docx_s"],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "reports.json").write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"wrote {OUT / 'reports.json'}")
    return 0
