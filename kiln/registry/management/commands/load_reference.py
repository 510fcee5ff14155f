"""``kiln load-reference``: load the shipped administrative divisions and industry classification."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kiln.registry.reference import ReferenceDataError, load_reference_data


class Command(BaseCommand):
    help = (
        "Load or refresh the GB/T 2260 regions and GB/T 4754-2017 industries shipped with Kiln (idempotent)."
    )

    def handle(self, *args, **options):
        try:
            counts = load_reference_data()
        except ReferenceDataError as exc:
            raise CommandError(str(exc)) from exc
        for kind, c in counts.items():
            self.stdout.write(
                f"{kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            )
