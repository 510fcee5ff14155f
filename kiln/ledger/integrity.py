"""Full verification: recompute the whole log from what is stored and say what no longer fits.

One pass over the entries, in index order, recomputes every leaf hash from the stored
payload; the recomputed tree is then held against the log head, the proof cache, every
signed tree head, and the evidence files the deposits name. What it can tell apart:

- a payload edited in place (its hash ≠ the stored leaf hash) — ``ALTERED_ENTRY``;
- an edit that also rewrote the leaf hash — signed heads and the proof cache no longer
  match; the cache narrows it to a block of 256 entries — ``TREE_HEAD_MISMATCH``,
  ``NODE_CACHE_MISMATCH``;
- rows swapped or renumbered — the payload names its own index — ``MISPLACED_ENTRY``;
- rows deleted — gaps, a head larger than the rows, heads larger than the log —
  ``MISSING_ENTRY``, ``TRUNCATED_LOG``;
- heads re-signed with another key or altered — ``UNKNOWN_KEY``, ``BAD_SIGNATURE``;
- evidence files replaced or removed — ``EVIDENCE_FILE_ALTERED``, ``EVIDENCE_FILE_MISSING``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from kiln.ledger import errors, evidence_files, merkle, signing
from kiln.ledger.models import LedgerEntry, LedgerHead, LedgerNode, SignedTreeHead

# Beyond this many findings of one kind, only the count grows: a wholesale rewrite must not
# produce a report of a million lines.
MAX_LISTED = 1000
FETCH_ROWS = 10_000


@dataclass
class Problem:
    code: str
    message: str
    index: int | None = None
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "index": self.index, **self.detail}


@dataclass
class VerificationReport:
    entries: int = 0
    head_size: int = 0
    root_hash: str = ""
    tree_heads_checked: int = 0
    unsigned_entries: int = 0
    evidence_files_checked: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.counts

    def add(self, code: str, index: int | None = None, **detail) -> None:
        self.counts[code] = self.counts.get(code, 0) + 1
        if self.counts[code] <= MAX_LISTED:
            self.problems.append(Problem(code, str(errors.FINDINGS[code]), index, detail))

    def codes(self) -> set[str]:
        return set(self.counts)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_size": self.head_size,
            "root_hash": self.root_hash,
            "tree_heads_checked": self.tree_heads_checked,
            "unsigned_entries": self.unsigned_entries,
            "evidence_files_checked": self.evidence_files_checked,
            "seconds": round(self.seconds, 3),
            "counts": self.counts,
            "problems": [p.as_dict() for p in self.problems],
        }


def verify_all(files_root: Path | str | None = None) -> VerificationReport:
    """Recompute and cross-check everything; files under ``files_root`` (default MEDIA_ROOT)."""
    started = time.perf_counter()
    report = VerificationReport()
    leaves, evidence, next_index = _scan_entries(report)
    tree = merkle.MemoryTree(leaves)
    del leaves
    report.entries = tree.size
    report.root_hash = tree.root().hex()
    _check_head(report, tree, next_index)
    _check_node_cache(report, tree)
    _check_tree_heads(report, tree)
    _check_evidence_files(report, evidence, files_root)
    report.seconds = time.perf_counter() - started
    return report


def _scan_entries(report: VerificationReport) -> tuple[bytes, list[tuple[int, dict]], int]:
    """Stream the rows in index order; return joined recomputed leaf hashes, deposits, next index."""
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote('index')}, kind, reference, payload, leaf_hash "  # noqa: S608 - identifiers only
        f"FROM {quote(LedgerEntry._meta.db_table)} ORDER BY {quote('index')}"
    )
    leaves = bytearray()
    evidence: list[tuple[int, dict]] = []
    expected = 0
    sha256, loads = hashlib.sha256, json.loads
    deposit = LedgerEntry.Kind.EVIDENCE_DEPOSIT.value
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(FETCH_ROWS):
            batch = []
            for index, kind, reference, payload, stored in rows:
                if index > expected:
                    report.add(errors.MISSING_ENTRY, expected, missing_from=expected, missing_to=index - 1)
                expected = index + 1
                leaf = sha256(b"\x00" + payload.encode()).digest()
                batch.append(leaf)
                if leaf != bytes(stored):
                    report.add(errors.ALTERED_ENTRY, index)
                try:
                    envelope = loads(payload)
                except ValueError:
                    report.add(errors.UNREADABLE_ENTRY, index)
                    continue
                if (
                    not isinstance(envelope, dict)
                    or envelope.get("index") != index
                    or envelope.get("kind") != kind
                    or envelope.get("reference") != reference
                ):
                    claimed = envelope.get("index") if isinstance(envelope, dict) else None
                    report.add(errors.MISPLACED_ENTRY, index, payload_index=claimed)
                elif kind == deposit:
                    data = envelope.get("data")
                    if isinstance(data, dict) and "sha256" in data and "path" in data:
                        evidence.append((index, data))
            leaves += b"".join(batch)
    return bytes(leaves), evidence, expected


def _check_head(report: VerificationReport, tree: merkle.MemoryTree, next_index: int) -> None:
    head = LedgerHead.objects.filter(pk=1).first()
    report.head_size = head.size if head else 0
    if report.head_size > next_index:
        report.add(errors.MISSING_ENTRY, next_index, missing_from=next_index, missing_to=report.head_size - 1)
    if head is None or head.size != tree.size:
        if head is not None or tree.size:
            report.add(errors.HEAD_MISMATCH, head_size=report.head_size, entries=tree.size)
        return
    try:
        frontier_root = merkle.CompactRange.from_bytes(head.size, bytes(head.frontier)).root()
    except ValueError:
        frontier_root = b""
    if frontier_root != tree.root():
        report.add(errors.HEAD_MISMATCH, head_size=head.size, entries=tree.size)


def _check_node_cache(report: VerificationReport, tree: merkle.MemoryTree) -> None:
    expected = sum(
        tree.size >> level for level in range(merkle.STRIDE, tree.size.bit_length(), merkle.STRIDE)
    )
    seen = 0
    for level, index, stored in LedgerNode.objects.values_list("level", "index", "hash").iterator():
        seen += 1
        if tree.node(level, index) != bytes(stored):
            report.add(
                errors.NODE_CACHE_MISMATCH,
                level=level,
                node=index,
                entries_from=index << level,
                entries_to=((index + 1) << level) - 1,
            )
    if seen != expected:
        report.add(errors.NODE_CACHE_MISMATCH, stored_nodes=seen, expected_nodes=expected)


def _check_tree_heads(report: VerificationReport, tree: merkle.MemoryTree) -> None:
    trusted = signing.trusted_key_ids()
    largest = 0
    for head in SignedTreeHead.objects.order_by("id").iterator():
        report.tree_heads_checked += 1
        public_key, root_hash = bytes(head.public_key), bytes(head.root_hash)
        detail = {"tree_head": head.pk, "tree_size": head.tree_size}
        if signing.key_id(public_key) != head.key_id or head.key_id not in trusted:
            report.add(errors.UNKNOWN_KEY, key_id=head.key_id, **detail)
        message = signing.tree_head_message(head.tree_size, head.timestamp, root_hash)
        if not signing.verify(public_key, bytes(head.signature), message):
            report.add(errors.BAD_SIGNATURE, **detail)
        if head.tree_size < largest:
            report.add(errors.TREE_HEADS_OUT_OF_ORDER, **detail)
        largest = max(largest, head.tree_size)
        if head.tree_size > tree.size:
            report.add(errors.TRUNCATED_LOG, entries=tree.size, **detail)
        elif tree.root(head.tree_size) != root_hash:
            report.add(errors.TREE_HEAD_MISMATCH, **detail)
    report.unsigned_entries = max(tree.size - largest, 0)


def _check_evidence_files(report: VerificationReport, evidence, files_root) -> None:
    root = Path(files_root) if files_root is not None else evidence_files.media_root()
    for index, data in evidence:
        report.evidence_files_checked += 1
        path = evidence_files.resolve(str(data["path"]), root)
        if path is None or not path.is_file():
            report.add(errors.EVIDENCE_FILE_MISSING, index, path=str(data["path"]))
        elif evidence_files.file_sha256(path) != data["sha256"]:
            report.add(errors.EVIDENCE_FILE_ALTERED, index, path=str(data["path"]))
