"""``kiln serve``: the web server (gunicorn) and the background worker (huey) together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from kiln.demo.personas import login_table


class Command(BaseCommand):
    help = "Serve Kiln: gunicorn web workers plus the huey background worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, host, port, workers, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kiln.settings"}
        bin_dir = os.path.dirname(sys.executable)
        web = subprocess.Popen(  # noqa: S603
            [
                os.path.join(bin_dir, "gunicorn"),
                "kiln.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
                "--timeout",
                "120",
            ],
            env=env,
        )
        worker = subprocess.Popen([os.path.join(bin_dir, "kiln"), "run_huey", "--workers", "2"], env=env)  # noqa: S603
        self._banner(host, port)
        procs = [web, worker]

        def stop(*_):
            for p in procs:
                if p.poll() is None:
                    p.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        finally:
            stop()
            for p in procs:
                p.wait(timeout=10)

    def _banner(self, host: str, port: int) -> None:
        out = self.stdout
        out.write(
            self.style.SUCCESS(
                f"\nKiln is running on http://{host}:{port}/  (database: {settings.DATABASES['default']['NAME']})"
            )
        )
        for line in login_table():
            out.write(line)
        out.write("Press Ctrl+C to stop.\n")
