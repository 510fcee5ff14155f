"""Install the front-end packages Kiln serves itself (``python -m kiln.web.assets``).

``npm ci`` from the committed lockfile, then copy the files pages load into
``kiln/static/vendor/``, so nothing is ever fetched from a CDN at run time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "kiln" / "static" / "vendor"
FILES = {
    "node_modules/echarts/dist/echarts.min.js": "echarts/echarts.min.js",
    "node_modules/echarts/LICENSE": "echarts/LICENSE",
}


def main() -> int:
    if all((VENDOR / dest).exists() for dest in FILES.values()):
        return 0
    if not (ROOT / "node_modules" / "echarts").exists():
        npm = shutil.which("npm")
        if npm is None:
            print(
                "npm is needed once to install front-end packages: apt-get install nodejs npm",
                file=sys.stderr,
            )
            return 1
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=ROOT, check=True)  # noqa: S603
    for src, dest in FILES.items():
        target = VENDOR / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / src, target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
