"""Evidence-ledger benchmark: bulk append, proofs and full verification on a throw-away SQLite file.

    python -m bench.ledger [--entries 1000000] [--proofs 1000] [--keep]

Targets (from the ledger brief): append 1M <= 10 s, inclusion proof <= 5 ms (median),
verify 1M <= 10 s. Writes bench/out/ledger.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "out" / "ledger.json"
TARGETS = {"append_seconds": 10.0, "proof_median_ms": 5.0, "verify_seconds": 10.0}


def _setup_django(workdir: Path) -> None:
    # Must happen before Django reads settings: a private database and var dir for this run.
    os.environ["KILN_VAR_DIR"] = str(workdir)
    os.environ["KILN_DATABASE_URL"] = f"sqlite:///{workdir / 'ledger-bench.sqlite3'}"
    os.environ.setdefault("KILN_LEDGER_SIGNING_KEY", "11" * 32)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiln.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _entries(count: int, seed: int):
    """Realistic activity-batch entries: enterprise, month, row count, file hash.

    Drawn from small seeded pools so the generator costs little next to what it measures.
    """
    rng = random.Random(seed)
    codes = [f"91330{rng.randrange(10**12, 10**13)}" for _ in range(500)]
    periods = [f"{year}-{month:02d}" for year in (2023, 2024, 2025) for month in range(1, 13)]
    hashes = [rng.getrandbits(256).to_bytes(32, "big").hex() for _ in range(4099)]
    for i in range(count):
        code, period = codes[i % 500], periods[i % 36]
        yield (
            "activity_batch",
            f"{code}/{period}/{i}",
            {"enterprise": code, "period": period, "rows": i % 397 + 1, "sha256": hashes[i % 4099]},
        )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run(entries: int, proofs: int, seed: int, workdir: Path) -> dict:
    _setup_django(workdir)
    from kiln.ledger import merkle, services

    t = time.perf_counter()
    for _ in _entries(entries, seed):
        pass
    generate_seconds = time.perf_counter() - t

    t, cpu = time.perf_counter(), time.process_time()
    services.append_many(_entries(entries, seed))
    append_seconds = time.perf_counter() - t
    append_cpu_seconds = time.process_time() - cpu
    rss_after_append = _peak_rss_mb()

    head = services.sign_tree_head()
    size, root = head.tree_size, bytes(head.root_hash)

    rng = random.Random(seed + 1)
    timings, checked = [], 0
    from kiln.ledger.models import LedgerEntry

    for index in (rng.randrange(size) for _ in range(proofs)):
        t = time.perf_counter()
        path = services.inclusion_proof(index, size)
        timings.append((time.perf_counter() - t) * 1000)
        leaf = bytes(LedgerEntry.objects.get(index=index).leaf_hash)
        checked += merkle.verify_inclusion(leaf, index, size, path, root)

    consistency = []
    for _ in range(min(proofs, 200)):
        old = rng.randrange(1, size + 1)
        t = time.perf_counter()
        path = services.consistency_proof(old, size)
        consistency.append((time.perf_counter() - t) * 1000)
        assert merkle.verify_consistency(old, size, services.root_at(old), root, path)

    t, cpu = time.perf_counter(), time.process_time()
    report = services.verify_all()
    verify_seconds = time.perf_counter() - t
    verify_cpu_seconds = time.process_time() - cpu
    if not report.ok:
        raise SystemExit(f"verification of the untouched log failed: {report.counts}")

    database = workdir / "ledger-bench.sqlite3"
    return {
        "entries": entries,
        "generate_payloads_seconds": round(generate_seconds, 3),
        "append_seconds": round(append_seconds, 3),
        "append_cpu_seconds": round(append_cpu_seconds, 3),
        "append_per_second": round(entries / append_seconds),
        "proof_median_ms": round(statistics.median(timings), 3),
        "proof_p95_ms": round(sorted(timings)[int(len(timings) * 0.95) - 1], 3),
        "proof_max_ms": round(max(timings), 3),
        "proofs_verified": f"{checked}/{len(timings)}",
        "consistency_median_ms": round(statistics.median(consistency), 3),
        "verify_seconds": round(verify_seconds, 3),
        "verify_cpu_seconds": round(verify_cpu_seconds, 3),
        "peak_rss_after_append_mb": round(rss_after_append, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "database_mb": round(sum(p.stat().st_size for p in workdir.glob("ledger-bench.sqlite3*")) / 1e6, 1),
        "database": str(database),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPU",
        # Wall times depend on what else the machine runs; the load average says how busy it was.
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def _table(result: dict) -> str:
    rows = [
        (
            "append (wall / CPU)",
            f"{result['append_seconds']:.2f} / {result['append_cpu_seconds']:.2f} s",
            f"<= {TARGETS['append_seconds']:.0f} s",
            result["append_seconds"] <= TARGETS["append_seconds"],
        ),
        (
            "inclusion proof (median)",
            f"{result['proof_median_ms']:.2f} ms",
            f"<= {TARGETS['proof_median_ms']:.0f} ms",
            result["proof_median_ms"] <= TARGETS["proof_median_ms"],
        ),
        (
            "inclusion proof (p95 / max)",
            f"{result['proof_p95_ms']:.2f} / {result['proof_max_ms']:.2f} ms",
            "",
            None,
        ),
        ("consistency proof (median)", f"{result['consistency_median_ms']:.2f} ms", "", None),
        (
            "verify all (wall / CPU)",
            f"{result['verify_seconds']:.2f} / {result['verify_cpu_seconds']:.2f} s",
            f"<= {TARGETS['verify_seconds']:.0f} s",
            result["verify_seconds"] <= TARGETS["verify_seconds"],
        ),
        ("peak RSS", f"{result['peak_rss_mb']:.0f} MB", "", None),
        ("database on disk", f"{result['database_mb']:.0f} MB", "", None),
    ]
    lines = [
        f"ledger benchmark: {result['entries']:,} entries ({result['machine']}, Python {result['python']}, "
        f"load average {result['load_average_1min']})",
        f"{'measure':<30}{'result':>22}{'target':>12}  met",
    ]
    for name, value, target, met in rows:
        mark = "" if met is None else ("yes" if met else "NO")
        lines.append(f"{name:<30}{value:>22}{target:>12}  {mark}")
    lines.append(
        f"(generating the payloads alone: {result['generate_payloads_seconds']:.2f} s, included in append)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="kiln-ledger-bench-"))
    try:
        result = run(args.entries, args.proofs, args.seed, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    result["targets"] = TARGETS
    result["targets_met"] = {
        "append": result["append_seconds"] <= TARGETS["append_seconds"],
        "proof": result["proof_median_ms"] <= TARGETS["proof_median_ms"],
        "verify": result["verify_seconds"] <= TARGETS["verify_seconds"],
    }
    print(_table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if all(result["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
