"""The PostgreSQL paths (COPY, unnest() lists, rollback of a half-written COPY), run for real.

The suite's database is SQLite; Django cannot switch a running test process to another
backend, so this runs the import and validation tests again in a child pytest whose
KILN_DATABASE_URL points at the local PostgreSQL server (a throw-away database).
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.pg
@pytest.mark.slow
def test_import_pipeline_on_postgresql():
    try:
        psycopg.connect(SERVER, connect_timeout=3).close()
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    env = {
        **os.environ,
        "KILN_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/kiln_intake_pg_{os.getpid()}",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not slow",
            "tests/intake/test_import.py",
            "tests/intake/test_validation.py",
            "tests/intake/test_api.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
