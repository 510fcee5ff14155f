"""``kiln ledger verify|proof|consistency|sign|head``: operate and check the evidence ledger."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kiln.ledger import services
from kiln.ledger.errors import LedgerError, NotYetSigned
from kiln.ledger.models import SignedTreeHead


class Command(BaseCommand):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A plain str translated now: argparse cannot format a lazy one.
        self.help = _("Verify the evidence ledger, export proofs and sign tree heads.")

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        verify = actions.add_parser("verify", help=_("Recompute the whole log; exit 1 on any problem."))
        verify.add_argument("--json", action="store_true", help=_("Print the report as JSON."))
        verify.add_argument(
            "--files-root", type=Path, help=_("Where evidence files live (default: MEDIA_ROOT).")
        )

        proof = actions.add_parser("proof", help=_("Write the proof bundle of one entry."))
        proof.add_argument("index", type=int)
        proof.add_argument("--out", type=Path, help=_("Write to this file instead of standard output."))
        proof.add_argument(
            "--since",
            type=int,
            metavar="TREE_SIZE",
            help=_("Add a consistency proof from the signed tree head of this size."),
        )
        proof.add_argument(
            "--no-sign",
            action="store_true",
            help=_("Fail instead of signing a new tree head when none covers the entry."),
        )

        consistency = actions.add_parser(
            "consistency", help=_("Print the consistency proof between two tree sizes.")
        )
        consistency.add_argument("old", type=int)
        consistency.add_argument("new", type=int)

        actions.add_parser("sign", help=_("Sign a tree head now."))
        actions.add_parser("head", help=_("Print the latest signed tree head."))

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except LedgerError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _print_json(self, value) -> None:
        self.stdout.write(json.dumps(value, indent=2, ensure_ascii=False))

    def _verify(self, *, json: bool, files_root: Path | None, **options) -> None:
        report = services.verify_all(files_root=files_root)
        if json:
            self._print_json(report.as_dict())
        else:
            self._print_report(report)
        if not report.ok:
            raise CommandError(
                _("ledger verification found %(count)d problem(s)") % {"count": sum(report.counts.values())},
                returncode=1,
            )

    def _print_report(self, report) -> None:
        self.stdout.write(
            _(
                "%(entries)d entries, root %(root)s, %(heads)d signed tree heads, "
                "%(files)d evidence files, %(unsigned)d entries not yet signed (%(seconds).2f s)"
            )
            % {
                "entries": report.entries,
                "root": report.root_hash,
                "heads": report.tree_heads_checked,
                "files": report.evidence_files_checked,
                "unsigned": report.unsigned_entries,
                "seconds": report.seconds,
            }
        )
        for problem in report.problems:
            where = "" if problem.index is None else f" #{problem.index}"
            detail = " ".join(f"{k}={v}" for k, v in problem.detail.items())
            self.stdout.write(self.style.ERROR(f"{problem.code}{where}: {problem.message} {detail}".rstrip()))
        for code, count in sorted(report.counts.items()):
            if count > sum(1 for p in report.problems if p.code == code):
                self.stdout.write(
                    self.style.ERROR(_("%(code)s: %(count)d in all") % {"code": code, "count": count})
                )
        if report.ok:
            self.stdout.write(self.style.SUCCESS(_("The ledger verifies.")))

    def _proof(self, *, index: int, out: Path | None, since: int | None, no_sign: bool, **options) -> None:
        older = None
        if since is not None:
            older = SignedTreeHead.objects.filter(tree_size=since).order_by("-id").first()
            if older is None:
                raise CommandError(_("No signed tree head of size %(size)d.") % {"size": since})
        try:
            bundle = services.proof_bundle(index, since=older)
        except NotYetSigned:
            if no_sign:
                raise
            services.sign_tree_head()
            bundle = services.proof_bundle(index, since=older)
        text = json.dumps(bundle, indent=2, ensure_ascii=False)
        if out is None:
            self.stdout.write(text)
        else:
            out.write_text(text + "\n", encoding="utf-8")
            self.stdout.write(
                _("Wrote the proof of entry %(index)d to %(path)s") % {"index": index, "path": out}
            )

    def _consistency(self, *, old: int, new: int, **options) -> None:
        self._print_json(
            {
                "old_size": old,
                "new_size": new,
                "old_root": services.root_at(old).hex(),
                "new_root": services.root_at(new).hex(),
                "path": [h.hex() for h in services.consistency_proof(old, new)],
            }
        )

    def _sign(self, **options) -> None:
        self._print_json(services.sign_tree_head().as_dict())

    def _head(self, **options) -> None:
        latest = services.latest_tree_head()
        if latest is None:
            raise CommandError(_("No tree head has been signed yet."), returncode=1)
        self._print_json(latest.as_dict())
