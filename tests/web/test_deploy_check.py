"""`kiln check --deploy` is clean in the production settings, on a machine where collectstatic has not run."""

import os
import subprocess
import sys


def test_check_deploy_is_clean_in_production(tmp_path):
    # A clean environment: other tests set variables (DJANGO_ALLOW_ASYNC_UNSAFE for the browser) that a
    # production machine would not have.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env |= {
        "KILN_ENV": "production",
        "KILN_SECRET_KEY": "p" * 60 + "-not-a-real-key-but-long-and-varied-9f8e7d6c5b4a",
        "KILN_ALLOWED_HOSTS": "kiln.example.gov.cn",
        "KILN_LEDGER_SIGNING_KEY": "11" * 32,
        "KILN_VAR_DIR": str(tmp_path / "var"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "kiln.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
