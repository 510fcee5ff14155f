"""Write generated demo data to files (DESIGN.md interchange formats) with a manifest of hashes.

Nothing here depends on the time, the machine or the output path, so one seed gives the same bytes.
Large runs (the national preset) write the two big tables as Parquet only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl

from kiln.demo import city
from kiln.demo.generate import GENERATOR_VERSION, DemoData

MANIFEST = "manifest.json"
SAMPLES = "samples"
FORMAT = "kiln-demo/1"

# (file stem, DemoData attribute, big: written as Parquet only in large runs)
TABLES = (
    ("activity", "activity", True),
    ("metered_electricity", "metered_electricity", True),
    ("economic", "economic", False),
    ("injected_problems", "injected_problems", False),
    ("enterprises", "enterprises", False),
    ("facilities", "facilities", False),
)
# Parquet parameters pinned so the bytes do not depend on library defaults or thread count.
PARQUET: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "statistics": True,
    "row_group_size": 1_000_000,
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def planned_files(large: bool) -> list[tuple[str, str, str]]:
    """(file name, attribute, format) for every file a run writes."""
    files = []
    for stem, attribute, big in TABLES:
        if not (big and large):
            files.append((f"{stem}.csv", attribute, "csv"))
        if stem == "activity" or (big and large):
            files.append((f"{stem}.parquet", attribute, "parquet"))
    return files


def write(
    data: DemoData,
    out: Path,
    *,
    arguments: dict,
    large: bool = False,
    samples: dict[str, bytes] | None = None,
) -> dict:
    """Write every table and ``manifest.json`` into ``out``; return the manifest.

    ``samples`` (file name → bytes, see ``kiln.demo.samples``) go to ``out/samples/`` and into the manifest.
    """
    out.mkdir(parents=True, exist_ok=True)
    planned = planned_files(large)
    # Files of an earlier run in another mode would sit beside this run's and mislead.
    for name in {n for n, _, _ in planned_files(True) + planned_files(False)} - {n for n, _, _ in planned}:
        (out / name).unlink(missing_ok=True)

    entries = {}
    for name, attribute, kind in planned:
        frame: pl.DataFrame = getattr(data, attribute)
        path = out / name
        if kind == "csv":
            frame.write_csv(path)
        else:
            frame.write_parquet(path, **PARQUET)
        entries[name] = {"rows": frame.height, "bytes": path.stat().st_size, "sha256": sha256(path)}
    if samples:
        (out / SAMPLES).mkdir(exist_ok=True)
        for name, content in sorted(samples.items()):
            path = out / SAMPLES / name
            path.write_bytes(content)
            entries[f"{SAMPLES}/{name}"] = {"bytes": len(content), "sha256": sha256(path)}

    manifest = {
        "format": FORMAT,
        "generator": GENERATOR_VERSION,
        "seed": data.config.seed,
        "arguments": arguments,
        "years": list(data.config.years),
        "region": {"code": city.CITY, "name": city.CITY_NAME[0], "name_en": city.CITY_NAME[1]},
        "counts": data.counts,
        "files": entries,
    }
    (out / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest
