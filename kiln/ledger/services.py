"""Every write to the evidence ledger, and the proofs read from it.

Writers serialise on the single ``LedgerHead`` row (``SELECT … FOR UPDATE`` on PostgreSQL;
on SQLite Kiln's ``BEGIN IMMEDIATE`` transactions already queue writers), so indices are
contiguous whatever the number of processes; the primary key ``LedgerEntry.index`` is the
backstop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from itertools import islice
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kiln.ledger import evidence_files, merkle, signing, tree_store
from kiln.ledger.canonical import actor_label, canonical_json, envelope_text, json_string
from kiln.ledger.errors import IncompleteLog, InvalidEntry, InvalidTreeSize, NotYetSigned, UnknownEntry
from kiln.ledger.integrity import VerificationReport, verify_all
from kiln.ledger.models import LedgerEntry, LedgerHead, SignedTreeHead

__all__ = [
    "BUNDLE_FORMAT",
    "VerificationReport",
    "append",
    "append_many",
    "consistency_proof",
    "current_size",
    "deposit_evidence",
    "inclusion_proof",
    "latest_tree_head",
    "proof_bundle",
    "root_at",
    "sign_tree_head",
    "sign_tree_head_if_grown",
    "owner_proof",
    "store_file",
    "verify_all",
]

BUNDLE_FORMAT = "kiln-ledger-proof/1"
MAX_REFERENCE_LENGTH = 200
# Rows per INSERT batch: bounds memory when a million entries arrive in one call.
CHUNK_SIZE = 10_000

store_file = evidence_files.store_file


def _locked_head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        LedgerHead.objects.get_or_create(pk=1)
        head = LedgerHead.objects.select_for_update().get(pk=1)
    return head


def _compact_range(head: LedgerHead) -> merkle.CompactRange:
    return merkle.CompactRange.from_bytes(head.size, bytes(head.frontier))


def current_size() -> int:
    head = LedgerHead.objects.filter(pk=1).only("size").first()
    return head.size if head else 0


def latest_tree_head() -> SignedTreeHead | None:
    return SignedTreeHead.objects.order_by("-id").first()


# --- writes ------------------------------------------------------------------------------


@transaction.atomic
def append(kind: str, reference: str, payload: Mapping, *, actor=None) -> LedgerEntry:
    """Append one entry; returns it with its index."""
    indices = append_many([(kind, reference, payload)], actor=actor)
    return LedgerEntry.objects.get(index=indices.start)


@transaction.atomic
def append_many(entries: Iterable[tuple[str, str, Mapping]], *, actor=None) -> range:
    """Append ``(kind, reference, payload)`` triples in order; returns the indices they got.

    One transaction, one creation time; streamed in chunks so memory stays flat.
    """
    head = _locked_head()
    tree = _compact_range(head)
    first = tree.size
    now = timezone.now()
    created_json = json_string(now.isoformat())
    created_db = connection.ops.adapt_datetimefield_value(now)
    actor_json = canonical_json(actor_label(actor))
    kind_json = {kind: json_string(kind) for kind in LedgerEntry.Kind.values}
    sha256 = hashlib.sha256
    iterator = iter(entries)
    while True:
        rows, leaves = [], []
        index = tree.size
        # Entries are consumed one by one, not collected first: holding 10 000 payload dicts at
        # once would keep promoting them into the garbage collector's oldest generation.
        for kind, reference, payload in islice(iterator, CHUNK_SIZE):
            # The common case is checked inline: this loop runs once per entry of a bulk append.
            if (
                kind not in kind_json
                or type(reference) is not str
                or not 0 < len(reference) <= MAX_REFERENCE_LENGTH
                or type(payload) is not dict
            ):
                payload = _checked_entry(kind, reference, payload)
            try:
                text = envelope_text(index, kind_json[kind], reference, created_json, actor_json, payload)
            except (TypeError, ValueError, RecursionError) as exc:
                raise InvalidEntry(
                    _("The payload cannot be written as canonical JSON: %(error)s") % {"error": exc}
                ) from exc
            leaf = sha256(b"\x00" + text.encode()).digest()
            rows.append((index, kind, reference, leaf, text, created_db))
            leaves.append(leaf)
            index += 1
        if not rows:
            break
        tree_store.insert_entries(rows)
        tree_store.insert_nodes(tree.extend(b"".join(leaves)))
    if tree.size != first:
        head.size = tree.size
        head.frontier = tree.to_bytes()
        head.save(update_fields=["size", "frontier", "updated"])
    return range(first, tree.size)


def _checked_entry(kind, reference, payload) -> dict:
    """Raise the precise error for a malformed entry; return a Mapping payload as a dict."""
    if kind not in LedgerEntry.Kind.values:
        raise InvalidEntry(_("Unknown ledger entry kind “%(kind)s”.") % {"kind": kind})
    if not isinstance(reference, str) or not 0 < len(reference) <= MAX_REFERENCE_LENGTH:
        raise InvalidEntry(
            _("A ledger reference is a text of 1 to %(max)d characters.") % {"max": MAX_REFERENCE_LENGTH}
        )
    if not isinstance(payload, Mapping):
        raise InvalidEntry(_("A ledger payload is a JSON object."))
    return dict(payload)


def deposit_evidence(fileobj, *, reference: str, data: Mapping | None = None, actor=None) -> LedgerEntry:
    """Store a file content-addressed and log its deposit (``{"sha256", "path", "size", **data}``)."""
    sha256, relative = store_file(fileobj)
    size = (Path(evidence_files.media_root()) / relative).stat().st_size
    payload = {**(data or {}), "sha256": sha256, "path": relative, "size": size}
    return append(LedgerEntry.Kind.EVIDENCE_DEPOSIT, reference, payload, actor=actor)


@transaction.atomic
def sign_tree_head() -> SignedTreeHead:
    """Sign the current tree head (size, root, time) with the platform's Ed25519 key."""
    head = _locked_head()
    root_hash = _compact_range(head).root()
    private_key = signing.signing_key()
    public_key = signing.public_key_bytes(private_key)
    timestamp = int(timezone.now().timestamp() * 1000)
    previous = latest_tree_head()
    if previous is not None and previous.timestamp > timestamp:
        timestamp = previous.timestamp  # a clock stepping back must not make heads go back in time
    signature = private_key.sign(signing.tree_head_message(head.size, timestamp, root_hash))
    return SignedTreeHead.objects.create(
        tree_size=head.size,
        root_hash=root_hash,
        timestamp=timestamp,
        signature=signature,
        key_id=signing.key_id(public_key),
        public_key=public_key,
    )


def sign_tree_head_if_grown() -> SignedTreeHead | None:
    previous = latest_tree_head()
    size = current_size()
    if size == 0 or (previous is not None and previous.tree_size >= size):
        return None
    return sign_tree_head()


# --- proofs ---------------------------------------------------------------------------------


def owner_proof(index: int) -> dict:
    """Entry ``index``'s proof bundle, payload included, for the one who made the entry.

    When the entry is newer than the latest signed tree head, a head is signed first: whoever just
    deposited a file gets its proof at once instead of after the next scheduled signing.
    """
    head = latest_tree_head()
    if head is None or head.tree_size <= index:
        sign_tree_head_if_grown()
    return proof_bundle(index)


def _checked_size(tree_size: int | None) -> int:
    size = current_size()
    if tree_size is None:
        return size
    if not 0 <= tree_size <= size:
        raise InvalidTreeSize(
            _("Tree size %(size)d is not between 0 and the log's %(current)d entries.")
            % {"size": tree_size, "current": size}
        )
    return tree_size


def _from_stored_tree(compute):
    """Run ``compute(reader)`` over the stored tree, turning gaps into a ledger error."""
    try:
        return compute(tree_store.DatabaseNodes())
    except merkle.IncompleteTree as exc:
        raise IncompleteLog(_("Entries this proof needs are missing; run “kiln ledger verify”.")) from exc


def root_at(tree_size: int) -> bytes:
    size = _checked_size(tree_size)
    return _from_stored_tree(lambda nodes: merkle.root(size, nodes))


def inclusion_proof(index: int, tree_size: int | None = None) -> list[bytes]:
    """The audit path of entry ``index`` in the tree of ``tree_size`` entries (default: all)."""
    size = _checked_size(tree_size)
    if not 0 <= index < size:
        raise UnknownEntry(
            _("No entry %(index)d in a tree of %(size)d entries.") % {"index": index, "size": size}
        )
    return _from_stored_tree(lambda nodes: merkle.inclusion_proof(index, size, nodes))


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """Proof that the tree of ``new_size`` entries extends the tree of ``old_size`` entries."""
    new_size = _checked_size(new_size)
    if not 0 <= old_size <= new_size:
        raise InvalidTreeSize(
            _("No consistency proof from %(old)d to %(new)d entries.") % {"old": old_size, "new": new_size}
        )
    return _from_stored_tree(lambda nodes: merkle.consistency_proof(old_size, new_size, nodes))


def proof_bundle(
    index: int,
    *,
    tree_head: SignedTreeHead | None = None,
    since: SignedTreeHead | None = None,
    include_payload: bool = True,
) -> dict:
    """Everything ``verifier.py`` needs to check entry ``index`` offline, public key included.

    ``tree_head`` defaults to the latest signed head; ``since`` adds a consistency proof from
    an older signed head (what a holder of that older head needs to trust the new one).
    """
    entry = LedgerEntry.objects.filter(index=index).first()
    if entry is None:
        raise UnknownEntry(_("No ledger entry %(index)d.") % {"index": index})
    head = tree_head or latest_tree_head()
    if head is None or head.tree_size <= index:
        raise NotYetSigned(
            _("Entry %(index)d is not yet covered by a signed tree head; sign one first.") % {"index": index}
        )
    bundle: dict = {
        "format": BUNDLE_FORMAT,
        "entry": {
            "index": entry.index,
            "kind": entry.kind,
            "reference": entry.reference,
            "leaf_hash": bytes(entry.leaf_hash).hex(),
        },
        "inclusion": {
            "leaf_index": entry.index,
            "tree_size": head.tree_size,
            "path": [h.hex() for h in inclusion_proof(entry.index, head.tree_size)],
        },
        "tree_head": head.as_dict(),
    }
    if include_payload:
        bundle["entry"]["payload"] = entry.payload
    if since is not None:
        bundle["consistency"] = {
            "old_tree_head": since.as_dict(),
            "path": [h.hex() for h in consistency_proof(since.tree_size, head.tree_size)],
        }
    return bundle
