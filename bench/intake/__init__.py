"""Activity-intake benchmark: a 1,000,000-row CSV imported (validated and stored) on SQLite and on
PostgreSQL (COPY), and a 200,000-row XLSX on SQLite.

    python -m bench.intake [--rows 1000000] [--xlsx-rows 200000] [--enterprises 10000] [--skip-pg]

Each import runs in a child process of its own, on a fresh database with ~10,000 enterprises,
so its peak memory (ru_maxrss) is the import's and not the generator's. The files are made
first, with seeded data, in this process. Targets: 1M-row CSV <= 5 s and <= 1 GiB peak on
each backend; 200k-row XLSX <= 3 s. Writes bench/out/intake.json.

Besides wall time each run reports the CPU time of the importing process (and per phase) and
the load average: on a shared machine wall time mostly measures the neighbours. For PostgreSQL
the server's own work (COPY, index maintenance) is in the wall time only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "out" / "intake.json"
PG_SERVER = os.environ.get("KILN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGETS = {"csv_seconds": 5.0, "xlsx_seconds": 3.0, "peak_mib": 1024.0}
ITEMS = [
    ("raw_coal", "t"),
    ("diesel", "t"),
    ("natural_gas", "万Nm3"),
    ("electricity_purchased", "MWh"),
    ("heat_purchased", "GJ"),
    ("coke", "t"),
    ("lpg", "kg"),
    ("clinker_output", "t"),
    ("raw_coal.ncv", "GJ/t"),
    ("limestone", "t"),
]
HEADERS = ["统一社会信用代码", "月份", "项目代码", "数量", "单位", "数据来源", "设施", "备注"]


# --- data ----------------------------------------------------------------------------------------------


def credit_codes(n: int) -> list[str]:
    from kiln.registry import credit_code

    return [credit_code.make("9", "1", "330102", f"MA{i:07d}") for i in range(n)]


def activity_frame(rows: int, enterprises: int, seed: int = 42):
    """Distinct (enterprise, month, item) rows: every enterprise reports every item, month after month."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    codes = pl.Series(credit_codes(enterprises))
    index = np.arange(rows)
    item = index % len(ITEMS)
    enterprise = (index // len(ITEMS)) % enterprises
    month = index // (len(ITEMS) * enterprises)
    periods = [f"{2015 + m // 12}-{m % 12 + 1:02d}" for m in range(int(month.max()) + 1)]
    return pl.DataFrame(
        {
            HEADERS[0]: codes.gather(enterprise),
            HEADERS[1]: pl.Series(periods).gather(month),
            HEADERS[2]: pl.Series([i for i, _ in ITEMS]).gather(item),
            HEADERS[3]: pl.Series(np.round(rng.gamma(2.0, 500.0, rows), 3)).cast(pl.String),
            HEADERS[4]: pl.Series([u for _, u in ITEMS]).gather(item),
            HEADERS[5]: pl.Series(["meter", "invoice", "lab", ""]).gather(index % 4),
            HEADERS[6]: pl.Series(["", "1号窑", "2号锅炉"]).gather(index % 3),
            HEADERS[7]: pl.Series(["", "", "", "月度台账"]).gather(index % 4),
        }
    )


def write_csv(frame, path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + frame.write_csv().encode())  # what Excel's "CSV UTF-8" writes


def write_xlsx(frame, path: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("月度活动数据")
    sheet.write_row(0, 0, HEADERS)
    for r, values in enumerate(frame.iter_rows(), start=1):
        for c, value in enumerate(values):
            if c == 3:
                sheet.write_number(r, c, float(value))  # quantities as numbers, as Excel users type them
            else:
                sheet.write_string(r, c, value)
    workbook.close()


# --- one import in a child process --------------------------------------------------------------------


def _setup_django(workdir: Path, database_url: str) -> None:
    os.environ["KILN_VAR_DIR"] = str(workdir)
    os.environ["KILN_DATABASE_URL"] = database_url
    os.environ["KILN_MAX_UPLOAD_BYTES"] = str(1 << 30)
    os.environ.setdefault("KILN_LEDGER_SIGNING_KEY", "22" * 32)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiln.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _create_enterprises(n: int) -> None:
    """~n enterprises in a few statements: bulk parents, then one executemany for the child rows."""
    from django.db import connection, transaction

    from kiln.registry.models import Enterprise, Industry, Organisation, Region

    with transaction.atomic():
        nation = Region.objects.create(code="000000", name="中华人民共和国", level=0)
        province = Region.objects.create(code="330000", name="浙江省", level=1, parent=nation)
        city = Region.objects.create(code="330100", name="杭州市", level=2, parent=province)
        county = Region.objects.create(code="330102", name="上城区", level=3, parent=city)
        industry = Industry.objects.create(code="C", name="制造业", level=0)
        parents = Organisation.objects.bulk_create(
            [
                Organisation(kind="enterprise", name=f"企业{i}", credit_code=code, region=county)
                for i, code in enumerate(credit_codes(n))
            ],
            batch_size=2000,
        )
        table = connection.ops.quote_name(Enterprise._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (organisation_ptr_id, industry_id, size, key_emitter) VALUES (%s, %s, %s, %s)",
                [(p.pk, industry.pk, "medium", True) for p in parents],
            )


def _timed(module, name: str, phases: dict) -> None:
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
            phases[f"{name}_cpu"] = phases.get(f"{name}_cpu", 0.0) + time.process_time() - cpu

    setattr(module, name, wrapper)


def child(backend: str, path: Path, enterprises: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"kiln-intake-bench-{backend}-"))
    pg_name = None
    if backend == "postgres":
        import psycopg

        pg_name = f"kiln_intake_bench_{os.getpid()}"
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
            admin.execute(f'CREATE DATABASE "{pg_name}"')
        url = PG_SERVER.rsplit("/", 1)[0] + "/" + pg_name
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    try:
        _setup_django(workdir, url)
        started = time.perf_counter()
        _create_enterprises(enterprises)
        setup_seconds = time.perf_counter() - started
        rss_before = _peak_rss_mib()

        from django.db import connection

        from kiln.intake import services, writers
        from kiln.intake.models import ActivityRecord

        phases: dict[str, float] = {}
        _timed(services, "read_file", phases)
        _timed(services, "validate", phases)
        _timed(services, "rows_sha256", phases)
        _timed(writers, "write_records", phases)
        _timed(services.ledger, "store_file", phases)
        server_pid = _server_pid(connection)
        server_cpu = _process_cpu(server_pid)
        started, cpu = time.perf_counter(), time.process_time()
        with path.open("rb") as handle:
            result = services.import_activity(
                handle, actor=None, membership=None, door="cli", file_name=path.name
            )
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        server_cpu_seconds = _process_cpu(server_pid) - server_cpu if server_pid else None
        assert result.ok, result.report
        stored = ActivityRecord.objects.count()
        return {
            "backend": backend,
            "vendor": connection.vendor,
            "file": path.name,
            "bytes": path.stat().st_size,
            "rows": result.rows,
            "stored": stored,
            "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu_seconds, 3),
            "server_cpu_seconds": None if server_cpu_seconds is None else round(server_cpu_seconds, 3),
            "rows_per_second": round(result.rows / seconds),
            "phases": {k: round(v, 3) for k, v in phases.items()},
            "peak_mib": round(_peak_rss_mib(), 1),
            "peak_mib_before_import": round(rss_before, 1),
            "enterprise_setup_seconds": round(setup_seconds, 3),
            "load_average": os.getloadavg()[0],
        }
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(PG_SERVER, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def _server_pid(connection) -> int | None:
    """The PostgreSQL backend serving this connection, when it runs on this machine (its CPU is readable)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return pid if Path(f"/proc/{pid}/stat").exists() else None


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of another process, from /proc (Linux)."""
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _run_child(backend: str, path: Path, enterprises: int) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.intake",
            "--child",
            backend,
            "--file",
            str(path),
            "--enterprises",
            str(enterprises),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    if done.returncode != 0:
        return {"backend": backend, "file": path.name, "error": (done.stderr or done.stdout).strip()[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pg_available() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_SERVER, connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.file, args.enterprises)))
        return 0

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiln.settings")
    workdir = Path(tempfile.mkdtemp(prefix="kiln-intake-bench-"))
    started = time.perf_counter()
    frame = activity_frame(args.rows, args.enterprises)
    csv_path = workdir / f"activity-{args.rows}.csv"
    write_csv(frame, csv_path)
    xlsx_path = workdir / f"activity-{args.xlsx_rows}.xlsx"
    write_xlsx(frame.head(args.xlsx_rows), xlsx_path)
    generate_seconds = time.perf_counter() - started
    del frame

    runs = [_run_child("sqlite", csv_path, args.enterprises)]
    if args.skip_pg or not _pg_available():
        runs.append({"backend": "postgres", "file": csv_path.name, "skipped": "no PostgreSQL server"})
    else:
        runs.append(_run_child("postgres", csv_path, args.enterprises))
    runs.append(_run_child("sqlite", xlsx_path, args.enterprises))
    for run in runs:
        if "seconds" in run:
            target = TARGETS["xlsx_seconds"] if run["file"].endswith(".xlsx") else TARGETS["csv_seconds"]
            run["target_seconds"] = target
            run["meets_targets"] = run["seconds"] <= target and run["peak_mib"] <= TARGETS["peak_mib"]

    report = {
        "benchmark": "intake",
        "rows": args.rows,
        "xlsx_rows": args.xlsx_rows,
        "enterprises": args.enterprises,
        "generate_seconds": round(generate_seconds, 2),
        "targets": TARGETS,
        "runs": runs,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    _print_table(report)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for path in (csv_path, xlsx_path):
        path.unlink(missing_ok=True)
    return 0 if all(r.get("meets_targets", "skipped" in r) for r in runs) else 1


def _print_table(report: dict) -> None:
    print(f"{'run':<34} {'rows':>9} {'MB':>6} {'seconds':>8} {'target':>7} {'rows/s':>9} {'peak MiB':>9}  ok")
    for run in report["runs"]:
        label = f"{run['backend']} {run['file']}"
        if "seconds" not in run:
            print(f"{label:<34} {run.get('skipped') or 'FAILED: ' + run.get('error', '')[-300:]}")
            continue
        print(
            f"{label:<34} {run['rows']:>9,} {run['bytes'] / 1e6:>6.1f} {run['seconds']:>8.2f} {run['target_seconds']:>7.1f}"
            f" {run['rows_per_second']:>9,} {run['peak_mib']:>9.0f}  {'yes' if run['meets_targets'] else 'NO'}"
        )
        phases = run["phases"]
        print(
            "    wall (cpu) by phase: "
            + ", ".join(
                f"{k} {v:.2f} ({phases.get(k + '_cpu', 0):.2f})"
                for k, v in phases.items()
                if not k.endswith("_cpu")
            )
        )
        server = run.get("server_cpu_seconds")
        server_text = f" + {server:.2f} s CPU of the PostgreSQL backend" if server is not None else ""
        print(
            f"    whole import: {run['seconds']:.2f} s wall, {run['cpu_seconds']:.2f} s CPU of this process"
            f"{server_text}; load average {run['load_average']:.1f} on {report['machine']['cpus']} CPUs"
        )
    print(
        f"(files generated in {report['generate_seconds']} s; results in {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT})"
    )
