"""The evidence ledger's tables: an append-only Merkle-tree log (RFC 9162 style).

``LedgerEntry`` and ``SignedTreeHead`` are append-only, enforced by database triggers
(migration 0002, SQL in ``triggers.py``). ``LedgerHead`` (one row: size and compact range)
and ``LedgerNode`` (the proof cache) are derived state that ``verify_all`` rechecks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class LogIndexField(models.BigIntegerField):
    """A 64-bit log index that on SQLite is the table's rowid (``INTEGER PRIMARY KEY``).

    As the rowid, the index costs no separate B-tree: bulk appends write about 40 % less
    and range reads for proofs walk the table itself.
    """

    def db_type(self, connection):
        return "integer" if connection.vendor == "sqlite" else super().db_type(connection)


class LedgerEntry(models.Model):
    """One leaf of the log. ``payload`` is canonical JSON; its UTF-8 bytes are the leaf data.

    The payload repeats the row's index, kind and reference (plus creation time, actor and
    the caller's data), so moving a payload to another row is detectable on its own.
    """

    class Kind(models.TextChoices):
        EVIDENCE_DEPOSIT = "evidence_deposit", _("evidence deposit")
        AUDIT_EVENT = "audit_event", _("audit event")
        ACTIVITY_BATCH = "activity_batch", _("activity data batch")

    index = LogIndexField(_("index"), primary_key=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=200)
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    # Text, not JSONField: the stored bytes must stay exactly the hashed bytes (jsonb would reorder keys).
    payload = models.TextField(_("canonical payload"))
    created = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["index"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self) -> str:
        return f"#{self.index} {self.kind} {self.reference}"

    @property
    def envelope(self) -> dict:
        return json.loads(self.payload)

    @property
    def data(self) -> dict:
        """The caller's payload as appended (after canonical JSON encoding)."""
        return self.envelope["data"]


class SignedTreeHead(models.Model):
    """A signed statement "the log had ``tree_size`` entries with this root at this time"."""

    tree_size = models.BigIntegerField(_("tree size"))
    root_hash = models.BinaryField(_("root hash"), max_length=32)
    # Milliseconds since the Unix epoch, as in Certificate Transparency: exactly what was signed.
    timestamp = models.BigIntegerField(_("timestamp (ms)"))
    signature = models.BinaryField(_("Ed25519 signature"), max_length=64)
    key_id = models.CharField(_("key id"), max_length=64, help_text=_("SHA-256 of the raw public key, hex"))
    public_key = models.BinaryField(_("Ed25519 public key"), max_length=32)

    class Meta:
        ordering = ["-id"]
        get_latest_by = "id"
        verbose_name = _("signed tree head")
        verbose_name_plural = _("signed tree heads")

    def __str__(self) -> str:
        return f"STH size={self.tree_size} root={bytes(self.root_hash).hex()[:16]}…"

    @property
    def signed_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)

    def as_dict(self) -> dict:
        return {
            "tree_size": self.tree_size,
            "root_hash": bytes(self.root_hash).hex(),
            "timestamp": self.timestamp,
            "signature": bytes(self.signature).hex(),
            "key_id": self.key_id,
            "public_key": bytes(self.public_key).hex(),
        }


class LedgerHead(models.Model):
    """The single row writers lock to take the next index; holds the compact range of the tree."""

    size = models.BigIntegerField(default=0)
    frontier = models.BinaryField(default=b"")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ledger head")
        verbose_name_plural = _("ledger head")

    def __str__(self) -> str:
        return f"ledger head size={self.size}"


class LedgerNode(models.Model):
    """Proof cache: the hash of every complete perfect subtree at levels 8, 16, 24 …

    Derived from the leaf hashes (``verify_all`` recomputes and compares); about one row
    per 255 entries.
    """

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="ledger_node_unique")]
        verbose_name = _("ledger proof-cache node")
        verbose_name_plural = _("ledger proof-cache nodes")

    def __str__(self) -> str:
        return f"node level={self.level} index={self.index}"
