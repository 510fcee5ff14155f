"""Ledger API: signed tree heads and proofs. Hashes only; payloads never leave through here.

Mounted by ``kiln/api.py`` as ``api.add_router("/ledger", router)``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from kiln.ledger import services
from kiln.ledger.errors import LedgerError, NotYetSigned
from kiln.ledger.models import SignedTreeHead

router = Router(tags=["ledger"])


class TreeHeadOut(Schema):
    tree_size: int
    root_hash: str
    timestamp: int
    signature: str
    key_id: str
    public_key: str


class InclusionOut(Schema):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    path: list[str]
    tree_head: TreeHeadOut


class ConsistencyOut(Schema):
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    path: list[str]


class ErrorOut(Schema):
    code: str
    message: str


def _error(exc: LedgerError) -> dict:
    return {"code": exc.code, "message": str(exc.message)}


@router.get("/head", response={200: TreeHeadOut, 404: ErrorOut})
def head(request):
    latest = services.latest_tree_head()
    if latest is None:
        return Status(404, _error(NotYetSigned(_("No tree head has been signed yet."))))
    return latest.as_dict()


@router.get("/proof/{index}", response={200: InclusionOut, 404: ErrorOut, 409: ErrorOut})
def proof(request, index: int, tree_size: int | None = None):
    """Audit path of entry ``index`` to the latest signed head (or the signed head of ``tree_size``)."""
    tree_head = None
    if tree_size is not None:
        tree_head = SignedTreeHead.objects.filter(tree_size=tree_size).order_by("-id").first()
        if tree_head is None:
            message = _("No signed tree head of size %(size)d.") % {"size": tree_size}
            return Status(404, _error(NotYetSigned(message)))
    try:
        bundle = services.proof_bundle(index, tree_head=tree_head, include_payload=False)
    except NotYetSigned as exc:
        return Status(409, _error(exc))
    except LedgerError as exc:
        return Status(404, _error(exc))
    return {
        **bundle["inclusion"],
        "leaf_hash": bundle["entry"]["leaf_hash"],
        "tree_head": bundle["tree_head"],
    }


@router.get("/consistency", response={200: ConsistencyOut, 404: ErrorOut})
def consistency(request, old: int, new: int):
    try:
        path = services.consistency_proof(old, new)
        old_root, new_root = services.root_at(old), services.root_at(new)
    except LedgerError as exc:
        return Status(404, _error(exc))
    return {
        "old_size": old,
        "new_size": new,
        "old_root": old_root.hex(),
        "new_root": new_root.hex(),
        "path": [h.hex() for h in path],
    }
