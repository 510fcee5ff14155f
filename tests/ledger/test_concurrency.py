"""Two processes appending at once still produce contiguous indices and one consistent tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.ledger.conftest import SIGNING_SEED

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys
    import django

    django.setup()
    from kiln.ledger import services

    name, count = sys.argv[1], int(sys.argv[2])
    for i in range(count):
        if i % 10 == 0:
            services.append_many(("audit_event", f"{name}/{i}/{j}", {"j": j}) for j in range(5))
        else:
            services.append("audit_event", f"{name}/{i}", {"writer": name, "i": i})
    """
)

CHECK = textwrap.dedent(
    """
    import json
    import django

    django.setup()
    from kiln.ledger import services
    from kiln.ledger.models import LedgerEntry

    services.sign_tree_head()
    report = services.verify_all()
    indices = list(LedgerEntry.objects.values_list("index", flat=True))
    print(json.dumps({"ok": report.ok, "counts": report.counts, "indices": indices}))
    """
)


@pytest.mark.slow
def test_two_writer_processes_interleave_without_gaps(tmp_path):
    env = {
        **os.environ,
        "KILN_VAR_DIR": str(tmp_path),
        "KILN_DATABASE_URL": f"sqlite:///{tmp_path / 'concurrent.sqlite3'}",
        "KILN_LEDGER_SIGNING_KEY": SIGNING_SEED,
        "DJANGO_SETTINGS_MODULE": "kiln.settings",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run(
        [sys.executable, "-m", "kiln.cli", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, "60"], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        for name in ("a", "b")
    ]
    for writer in writers:
        _, stderr = writer.communicate(timeout=300)
        assert writer.returncode == 0, stderr
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    expected = 2 * (54 + 6 * 5)
    assert outcome["indices"] == list(range(expected))
    assert outcome["ok"], outcome["counts"]
