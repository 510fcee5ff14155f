"""Load benchmark of the monitoring portals on the national preset (10 000 enterprises x 10 years).

``python -m bench.monitoring`` (or ``make bench BENCH_ARGS=...`` through ``bench``):

1. creates the PostgreSQL database ``kiln_bench_monitoring`` (127.0.0.1:5432, user postgres, trust
   auth) and migrates it;
2. loads the national registry (the demo generator's ``--size national`` preset) and builds one
   official calculation run per year straight from the engine (``bench.monitoring.data``), with its
   ``Aggregate`` rows bulk-copied and its digest built;
3. starts gunicorn (4 sync workers by default) in a subprocess, logs in through the login form (and
   the TOTP step for roles that need it) as a city reviewer, a county viewer, an enterprise and the
   platform admin;
4. requests every dashboard page, htmx part and API endpoint with 50 concurrent clients (threads,
   ``http.client``, only 127.0.0.1), a bounded number of times each;
5. reports per URL the client-observed latency and the server time (gunicorn's access log, ``%(D)s``:
   from the worker reading the request to the last byte written, so without queueing), writes
   ``bench/out/monitoring.json`` and drops the database unless ``--keep``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
VAR = OUT / "monitoring-var"
DB_NAME = "kiln_bench_monitoring"
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
HOST = "127.0.0.1"
TARGET_P95_MS = 300
PASSWORD = "Bench-pass-2026"  # noqa: S105 - a throwaway database


def _environment(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "kiln.settings",
        "KILN_DATABASE_URL": DB_URL,
        "KILN_VAR_DIR": str(VAR),
        "KILN_SECRET_KEY": "bench-monitoring-not-secret",
        "KILN_ALLOWED_HOSTS": HOST,
        "KILN_LOG_LEVEL": "WARNING",
        "KILN_PASSWORD_MAX_AGE_DAYS": "0",
    })
    return env


def _admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"host={HOST} port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(statement)


def create_database() -> None:
    _admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    _admin_sql(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    _admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


# ------------------------------------------------------------------ setup (in this process, with Django)


def setup(log) -> dict:
    from django.core.management import call_command

    from bench.data.national import END_YEAR, ENTERPRISES, SEED, YEARS, national_activity
    from bench.monitoring.data import build_official_runs
    from kiln.demo.generate import DemoConfig, generate
    from kiln.demo.load import load
    from kiln.registry.models import Region

    timings = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings["migrate_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    activity = national_activity()  # cached Parquet (generated once)
    data = generate(DemoConfig.ending(END_YEAR, YEARS, enterprises=ENTERPRISES, seed=SEED, metered="monthly"))
    load(data)
    timings["registry_s"] = round(time.perf_counter() - started, 1)
    log(f"registry: {data.counts['enterprises']:,} enterprises, {data.counts['facilities']:,} facilities "
        f"({timings['registry_s']} s); activity {data.counts['activity_rows']:,} rows")
    del data

    started = time.perf_counter()
    years = list(range(END_YEAR - YEARS + 1, END_YEAR + 1))
    runs = build_official_runs(activity, Region.objects.get(code="339900"), years, log=log)
    timings["runs_s"] = round(time.perf_counter() - started, 1)
    _analyse()
    return {"timings": timings, "runs": runs}


def _analyse() -> None:
    """What autovacuum would do in time: statistics for the planner, visibility maps for index-only scans."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def personas() -> dict[str, dict]:
    """The logins the load uses: the demo's city reviewer, county viewer, enterprise manager and admin."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth.hashers import make_password

    from kiln.accounts.models import Membership, User

    encoded = make_password(PASSWORD)
    out = {}
    for key, username in (("city", "city"), ("county", "county"), ("enterprise", "enterprise"), ("admin", "admin")):
        user = User.objects.get(username=username)
        User.objects.filter(pk=user.pk).update(password=encoded)
        secret = ""
        if key != "enterprise":
            Authenticator.objects.filter(user=user, type="totp").delete()
            secret = generate_totp_secret()
            TOTP.activate(user, secret)
        membership = Membership.objects.filter(user=user).select_related("organisation").first()
        out[key] = {"username": username, "secret": secret, "organisation": membership.organisation}
    return out


def totp(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


# ------------------------------------------------------------------ HTTP


class Browser:
    """Cookies and CSRF over plain http.client (one connection per request: gunicorn sync closes them)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
        head = {"Host": f"{HOST}:{self.port}", "Accept-Language": "zh-hans"}
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            head["Content-Type"] = "application/x-www-form-urlencoded"
            head["Referer"] = f"http://{HOST}:{self.port}{path}"
        head.update(headers or {})
        conn.request(method, path, body=data, headers=head)
        reply = conn.getresponse()
        content = reply.read()
        for value in reply.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        conn.close()
        return reply.status, reply.headers, content

    def csrf(self, path: str) -> str:
        status, _headers, content = self.request("GET", path)
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if status != 200 or not found:
            raise RuntimeError(f"no login form at {path} ({status})")
        return found.group(1).decode()

    def log_in(self, username: str, secret: str) -> None:
        token = self.csrf("/accounts/login/")
        status, headers, _ = self.request("POST", "/accounts/login/",
                                          {"login": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
        location = headers.get("Location", "")
        if status == 302 and "2fa" in location:
            token = self.csrf(location)
            status, headers, _ = self.request("POST", location, {"code": totp(secret), "csrfmiddlewaretoken": token})
            location = headers.get("Location", "")
        if status != 302 or "login" in location or "2fa" in location:
            raise RuntimeError(f"could not log in as {username}: {status} {location}")


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not come up")


# ------------------------------------------------------------------ the load


def targets(logins: dict, sample: list[str], own: str, end_year: int) -> list[tuple[str, str, str, dict]]:
    """(label, persona, path, headers) for every dashboard URL and API endpoint; {e} takes an enterprise."""
    y, m = end_year, 6
    htmx_dash = {"HX-Request": "true", "HX-Target": "dashboard"}
    htmx_table = {"HX-Request": "true", "HX-Target": "table-ranking"}
    city, county = "339900", logins["county"]["organisation"].region.code
    return [
        ("region city (year)", "city", f"/monitoring/region/{city}/", {}),
        ("region city (month)", "city", f"/monitoring/region/{city}/?year={y - 1}&month={m}", {}),
        ("region county", "county", f"/monitoring/region/{county}/", {}),
        ("region (htmx dashboard)", "city", f"/monitoring/region/{city}/?year={y - 2}", htmx_dash),
        ("ranking (htmx table page 7)", "city", f"/monitoring/region/{city}/?ranking_sort=-tce_total&ranking_page=7",
         htmx_table),
        ("industry", "city", f"/monitoring/region/{city}/industry/C30/?year={y}", {}),
        ("big screen", "city", f"/monitoring/region/{city}/screen/", {}),
        ("big screen (refresh)", "city", f"/monitoring/region/{city}/screen/", {"HX-Request": "true",
                                                                               "HX-Target": "screen"}),
        ("map geojson", "city", f"/monitoring/region/{city}/map.json", {}),
        ("enterprise (gov)", "city", "/monitoring/enterprise/{e}/?year=" + str(y), {}),
        ("enterprise month rows", "city", "/monitoring/enterprise/{e}/" + f"{y}-{m:02d}/", {}),
        ("enterprise portal", "enterprise", f"/monitoring/enterprise/{own}/", {}),
        ("platform health", "admin", "/monitoring/platform/", {}),
        ("api overview", "city", f"/api/v1/monitoring/regions/{city}/overview?year={y}&month={m}", {}),
        ("api months", "city", f"/api/v1/monitoring/regions/{city}/months?year={y}", {}),
        ("api years", "city", f"/api/v1/monitoring/regions/{city}/years", {}),
        ("api subregions", "city", f"/api/v1/monitoring/regions/{city}/subregions?year={y}", {}),
        ("api industries", "city", f"/api/v1/monitoring/regions/{city}/industries?year={y}", {}),
        ("api enterprises", "city", f"/api/v1/monitoring/regions/{city}/enterprises?year={y}&offset=100&limit=50", {}),
        ("api enterprise months", "city", "/api/v1/monitoring/enterprises/{e}/months?year=" + str(y), {}),
        ("api enterprise rows", "city", "/api/v1/monitoring/enterprises/{e}/rows?period=" + f"{y}-{m:02d}", {}),
        ("api platform", "admin", "/api/v1/monitoring/platform", {}),
    ]


def run_load(port: int, browsers: dict, jobs: list, clients: int) -> list[dict]:
    results: list[dict] = []
    lock = threading.Lock()
    queue = list(jobs)
    position = [0]

    def worker() -> None:
        while True:
            with lock:
                if position[0] >= len(queue):
                    return
                label, persona, path, headers = queue[position[0]]
                position[0] += 1
            browser = browsers[persona]
            started = time.perf_counter()
            try:
                status, _h, content = browser.request("GET", path, headers={**headers, "X-Bench-Label": label})
            except OSError as exc:
                status, content = 0, str(exc).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                results.append({"label": label, "status": status, "ms": elapsed, "bytes": len(content)})

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def server_times(access_log: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    for line in access_log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.rsplit(" ", 2)
        if len(parts) == 3 and parts[2].isdigit() and parts[0].startswith("bench:"):
            label = parts[0].removeprefix("bench:").strip('"')
            if label and label != "-":
                times[label].append(int(parts[2]) / 1000)
    return times


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.monitoring", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=40, help="requests per URL in the measured load")
    parser.add_argument("--baseline", type=int, default=5, help="requests per URL from one client, before the load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="skip the set-up: use the kept database")
    args = parser.parse_args(argv)

    VAR.mkdir(parents=True, exist_ok=True)
    env = _environment(args.port)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    def log(message: str) -> None:
        print(message, flush=True)

    report: dict = {"arguments": vars(args), "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                          "platform": platform.platform()}}
    if not args.reuse:
        log(f"creating database {DB_NAME}")
        create_database()
    django.setup()
    from bench.data.national import END_YEAR

    if not args.reuse:
        report["setup"] = setup(log)
    else:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # the code may have moved on since the database was kept
    logins = personas()
    from kiln.accounting.models import Aggregate, CalculationRun

    latest = CalculationRun.objects.filter(official=True, year=END_YEAR).first()
    ranked = list(Aggregate.objects.filter(run=latest, dimension="enterprise", period=str(END_YEAR))
                  .order_by("-co2_total_t").values_list("key", flat=True))
    rng = random.Random(7)
    sample = ranked[:5] + rng.sample(ranked[5:], 25)
    own = logins["enterprise"]["organisation"].credit_code
    report["data"] = {"official_runs": CalculationRun.objects.filter(official=True).count(),
                      "aggregate_rows": Aggregate.objects.count()}
    from django.db import connections

    connections.close_all()

    import shutil

    shutil.rmtree(VAR / "cache", ignore_errors=True)  # start cold: the warm-up measures first renders
    access_log = VAR / "gunicorn-access.log"
    access_log.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "gunicorn", "kiln.wsgi:application", "--workers", str(args.workers),
        "--bind", f"{HOST}:{args.port}", "--access-logfile", str(access_log),
        "--access-logformat", 'bench:%({x-bench-label}i)s %(s)s %(D)s', "--timeout", "120", "--backlog", "512",
    ]
    log(f"starting gunicorn: {args.workers} workers on {HOST}:{args.port}")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,  # noqa: S603
                              stderr=open(VAR / "gunicorn-error.log", "w"))  # noqa: SIM115
    try:
        wait_for(args.port)
        browsers = {}
        for key, info in logins.items():
            browsers[key] = Browser(args.port)
            browsers[key].log_in(info["username"], info["secret"])
        log("logged in: " + ", ".join(f"{k} ({v['username']})" for k, v in logins.items()))
        urls = targets(logins, sample, own, END_YEAR)
        # Warm-up: each URL once (and every enterprise of the sample once), not measured.
        warm = [(f"warm {label}", persona, path.replace("{e}", e), headers)
                for label, persona, path, headers in urls for e in (sample if "{e}" in path else sample[:1])]
        run_load(args.port, browsers, warm, min(args.clients, 8))
        jobs = []
        for r in range(args.rounds):
            for label, persona, path, headers in urls:
                jobs.append((label, persona, path.replace("{e}", sample[r % len(sample)]), headers))
        rng.shuffle(jobs)
        # Baseline: one client, so each request has the machine to itself (what a request costs).
        single = [(f"single {label}", persona, path.replace("{e}", sample[r % len(sample)]), headers)
                  for r in range(args.baseline) for label, persona, path, headers in urls]
        baseline_started = time.perf_counter()
        run_load(args.port, browsers, single, 1)
        report["baseline_wall_s"] = round(time.perf_counter() - baseline_started, 1)
        report["load_average_before"] = os.getloadavg()
        log(f"load: {len(jobs)} requests ({len(urls)} URLs x {args.rounds}) from {args.clients} concurrent clients")
        started = time.perf_counter()
        results = run_load(args.port, browsers, jobs, args.clients)
        wall = time.perf_counter() - started
        report["load_average_after"] = os.getloadavg()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    server_ms = server_times(access_log)
    table = []
    for label, _persona, path, _headers in urls:
        mine = [r for r in results if r["label"] == label]
        ok = [r["ms"] for r in mine if r["status"] == 200]
        srv = server_ms.get(label, [])
        alone = server_ms.get(f"single {label}", [])
        table.append({
            "label": label, "path": path, "requests": len(mine), "errors": sum(r["status"] != 200 for r in mine),
            "single_client_server_p50_ms": round(percentile(alone, 0.5), 1),
            # The warm-up's requests: the first render of each page (before the shared cache has it).
            "cold_server_p50_ms": round(percentile(server_ms.get(f"warm {label}", []), 0.5), 1),
            "server_p50_ms": round(percentile(srv, 0.5), 1), "server_p95_ms": round(percentile(srv, 0.95), 1),
            "client_p50_ms": round(percentile(ok, 0.5), 1), "client_p95_ms": round(percentile(ok, 0.95), 1),
            "kb": round(statistics.mean([r["bytes"] for r in mine]) / 1024, 1) if mine else 0,
        })
    every_server = [t for k, v in server_ms.items() if not k.startswith(("single ", "warm ")) for t in v]
    every_client = [r["ms"] for r in results if r["status"] == 200]
    report["load"] = {
        "clients": args.clients, "workers": args.workers, "requests": len(results),
        "errors": sum(r["status"] != 200 for r in results), "wall_s": round(wall, 1),
        "throughput_rps": round(len(results) / wall, 1),
        "server_p50_ms": round(percentile(every_server, 0.5), 1),
        "server_p95_ms": round(percentile(every_server, 0.95), 1),
        "client_p50_ms": round(percentile(every_client, 0.5), 1),
        "client_p95_ms": round(percentile(every_client, 0.95), 1),
        "target_server_p95_ms": TARGET_P95_MS,
        "urls_over_target": [t["label"] for t in table if t["server_p95_ms"] > TARGET_P95_MS],
        "per_url": table,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "monitoring.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    log(f"\n{'URL':<30} {'cold':>6} {'alone':>6} {'n':>4} {'err':>4} {'server p50':>11} {'p95':>8} {'client p50':>11} "
        f"{'p95':>8} {'KB':>6}")
    for t in table:
        log(f"{t['label']:<30} {t['cold_server_p50_ms']:>6} {t['single_client_server_p50_ms']:>6} {t['requests']:>4} {t['errors']:>4} "
            f"{t['server_p50_ms']:>11} {t['server_p95_ms']:>8} {t['client_p50_ms']:>11} {t['client_p95_ms']:>8} "
            f"{t['kb']:>6}")
    load = report["load"]
    log(f"\nall: {load['requests']} requests in {load['wall_s']} s ({load['throughput_rps']}/s), "
        f"{load['errors']} errors; server p50 {load['server_p50_ms']} ms, p95 {load['server_p95_ms']} ms; "
        f"client p50 {load['client_p50_ms']} ms, p95 {load['client_p95_ms']} ms")
    log(f"URLs over the {TARGET_P95_MS} ms server p95 target: {load['urls_over_target'] or 'none'}")
    log(f"machine load average before/after the load: {report['load_average_before']} / {report['load_average_after']} "
        f"on {os.cpu_count()} CPUs (other processes included)")
    log(f"report: {OUT / 'monitoring.json'}")
    if not args.keep:
        connections.close_all()
        drop_database()
    return 0 if not load["errors"] else 1
