"""``kiln factors list|load|show|diff|import``: the emission-factor library from the command line."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kiln.factors import errors, services
from kiln.factors.models import FactorSet


def _find(label: str) -> FactorSet:
    code, _, version = label.partition("@v")
    sets = FactorSet.objects.filter(code=code).order_by("-version")
    found = sets.filter(version=int(version)).first() if version.isdigit() else sets.first()
    if found is None:
        raise CommandError(f"unknown factor set {label!r}")
    return found


class Command(BaseCommand):
    help = "Emission-factor library: list, load the shipped sets, show, diff and import sets."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="list every set and version")
        sub.add_parser("load", help="store the sets shipped in kiln/factors/data (idempotent)")
        show = sub.add_parser("show", help="print a set's values")
        show.add_argument("label", help="CODE or CODE@vN")
        diff = sub.add_parser("diff", help="what changed between two sets")
        diff.add_argument("old")
        diff.add_argument("new")
        upload = sub.add_parser("import", help="store a CSV/XLSX file as the next version of CODE")
        upload.add_argument("file")
        upload.add_argument("--code", required=True)
        upload.add_argument("--name", required=True)
        upload.add_argument("--source", required=True)
        upload.add_argument("--grid-series", default="MEE_ETS_GRID/CN")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except errors.FactorError as exc:
            details = "\n".join(f"  - {d}" for d in exc.details)
            raise CommandError(f"{exc.code}: {exc.message}\n{details}".rstrip()) from exc

    def _list(self, **_):
        for s in FactorSet.objects.order_by("code", "-version"):
            state = "locked" if s.locked else "unused"
            self.stdout.write(
                f"{s.label:<28} {state:<7} {s.values.count():>5} values  grid={s.default_grid_series}"
            )

    def _load(self, **_):
        created = services.load_shipped()
        self.stdout.write(
            f"loaded {len(created)} factor set(s): {', '.join(s.label for s in created) or '-'}"
        )

    def _show(self, label, **_):
        frame = services.frame_of(_find(label)).drop("factor_set", "source", "note")
        self.stdout.write(frame.write_csv())

    def _diff(self, old, new, **_):
        self.stdout.write(services.diff(_find(old), _find(new)).write_csv())

    def _import(self, file, code, name, source, grid_series, **_):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"no such file: {file}")
        frame = services.read_upload(path.name, path.read_bytes())
        factor_set = services.create_set(
            actor=None, code=code, frame=frame, name=name, source=source, default_grid_series=grid_series
        )
        self.stdout.write(f"stored {factor_set.label} ({len(frame)} values)")
