"""``kiln reminders [--date YYYY-MM-DD]``: send today's deadline reminders now (the huey task does it daily)."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand

from kiln.review import deadlines


class Command(BaseCommand):
    help = "Send the deadline reminders due today (or on --date)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat)

    def handle(self, *args, date=None, **options):
        sent = deadlines.send_reminders(date)
        self.stdout.write(f"{sent} reminders sent")
