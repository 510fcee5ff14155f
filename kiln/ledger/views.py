"""The evidence ledger for people: its signed head, recent entries, a full check and proof bundles."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiln.accounts.current import current_membership
from kiln.accounts.roles import Perm
from kiln.ledger import integrity, services, verifier
from kiln.ledger.errors import NotYetSigned, UnknownEntry
from kiln.ledger.models import LedgerEntry

# Who may look at the log's head and its entries' kinds and hashes (never references or payloads).
VIEW_PERMS = (Perm.REVIEW, Perm.VIEW_AUDIT, Perm.MANAGE_FACTORS, Perm.OPERATE_PLATFORM)


def _allowed(request, perms=VIEW_PERMS):
    membership = current_membership(request)
    if membership is None or not any(membership.has_perm(p) for p in perms):
        raise Http404
    return membership


def _operator(request):
    """Checking the whole log, signing and bundles with references: platform operators only.

    Regional reviewers and verifiers get the proofs of their own enterprises from the review pages.
    """
    return _allowed(request, (Perm.OPERATE_PLATFORM,))


@login_required
def overview(request):
    membership = _allowed(request)
    head = services.latest_tree_head()
    entries = LedgerEntry.objects.order_by("-index")[:50]
    report = request.session.pop("kiln_ledger_report", None)
    context = {
        "head": head,
        "head_data": head.as_dict() if head else None,
        "size": services.current_size(),
        "entries": [(e, bytes(e.leaf_hash).hex()) for e in entries],
        "report": report,
        "operator": membership.has_perm(Perm.OPERATE_PLATFORM),
    }
    return render(request, "ledger/overview.html", context)


@login_required
@require_POST
def verify(request):
    """Recompute the whole log now (what ``kiln ledger verify`` does) and show the result."""
    _operator(request)
    report = integrity.verify_all()
    request.session["kiln_ledger_report"] = report.as_dict()
    if report.ok:
        messages.success(request, _("The ledger verifies."))
    else:
        messages.error(request, _("The ledger check found problems; see below."))
    return redirect("ledger:overview")


@login_required
def bundle(request, index: int):
    """A proof bundle for the offline verifier (hashes and reference, never the payload)."""
    _operator(request)
    try:
        data = services.proof_bundle(index, include_payload=False)
    except (UnknownEntry, NotYetSigned) as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="kiln-ledger-proof-{index}.json"'
    return response


@login_required
def verifier_download(request):
    """The standalone offline verifier, for anyone holding a proof bundle (it is one self-contained file)."""
    source = Path(verifier.__file__).read_bytes()
    response = HttpResponse(source, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="verifier.py"'
    return response


@login_required
@require_POST
def sign(request):
    _operator(request)
    head = services.sign_tree_head()
    messages.success(request, _("Signed a tree head of %(size)d entries.") % {"size": head.tree_size})
    return redirect("ledger:overview")
