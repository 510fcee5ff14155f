"""The national-scale benchmark data set: the demo generator's ``--size national`` preset.

10 000 enterprises x 10 years of monthly activity data (Parquet), monthly grid readings and
economic data, generated once and cached under ``bench/out/national/``. The cache is rebuilt when
the generator version or the preset's arguments change (both are in its manifest).

    from bench.data.national import national_activity
    frame = pl.scan_parquet(national_activity())

``python -m bench.data.national`` generates it and prints the timing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from kiln.demo import files
from kiln.demo.generate import GENERATOR_VERSION, DemoConfig, generate

OUT = Path(__file__).resolve().parents[1] / "out" / "national"
ENTERPRISES, YEARS, END_YEAR, SEED = 10_000, 10, 2025, 42  # fixed, so benchmarks compare like with like
ARGUMENTS = {
    "enterprises": ENTERPRISES,
    "years": YEARS,
    "end_year": END_YEAR,
    "seed": SEED,
    "size": "national",
    "metered": "monthly",
}


def _is_current(out: Path) -> bool:
    manifest = out / files.MANIFEST
    if not manifest.exists():
        return False
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    return (recorded.get("generator"), recorded.get("arguments")) == (GENERATOR_VERSION, ARGUMENTS) and all(
        (out / name).exists() for name in recorded["files"]
    )


def generate_national(out: Path = OUT) -> dict:
    """Generate the preset into ``out``; returns its manifest."""
    config = DemoConfig.ending(END_YEAR, YEARS, enterprises=ENTERPRISES, seed=SEED, metered="monthly")
    return files.write(generate(config), out, arguments=ARGUMENTS, large=True)


def national_activity(path: Path | str | None = None) -> Path:
    """Path of the national activity Parquet file, generating the data set if it is missing or stale."""
    path = Path(path) if path else OUT / "activity.parquet"
    if not (path.exists() and _is_current(path.parent)):
        generate_national(path.parent)
    return path


if __name__ == "__main__":
    started = time.perf_counter()
    manifest = generate_national()
    print(f"{OUT}: {manifest['counts']} in {time.perf_counter() - started:.1f} s")
