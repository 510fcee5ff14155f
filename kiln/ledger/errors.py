"""Stable codes for everything the ledger tells the outside (DESIGN.md rule 4).

``KLN-LEDGER-0xx`` are verification findings, ``KLN-LEDGER-1xx`` refused requests.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Verification findings: what ``verify_all`` reports.
ALTERED_ENTRY = "KLN-LEDGER-001"
MISSING_ENTRY = "KLN-LEDGER-002"
MISPLACED_ENTRY = "KLN-LEDGER-003"
TREE_HEAD_MISMATCH = "KLN-LEDGER-004"
BAD_SIGNATURE = "KLN-LEDGER-005"
UNKNOWN_KEY = "KLN-LEDGER-006"
TRUNCATED_LOG = "KLN-LEDGER-007"
EVIDENCE_FILE_MISSING = "KLN-LEDGER-008"
EVIDENCE_FILE_ALTERED = "KLN-LEDGER-009"
UNREADABLE_ENTRY = "KLN-LEDGER-010"
NODE_CACHE_MISMATCH = "KLN-LEDGER-011"
HEAD_MISMATCH = "KLN-LEDGER-012"
TREE_HEADS_OUT_OF_ORDER = "KLN-LEDGER-013"

FINDINGS = {
    ALTERED_ENTRY: _("The entry's payload no longer hashes to its stored leaf hash."),
    MISSING_ENTRY: _("Entries are missing from the log."),
    MISPLACED_ENTRY: _("The entry's payload names another position, kind or reference than its row."),
    TREE_HEAD_MISMATCH: _("The recomputed tree does not match a signed tree head."),
    BAD_SIGNATURE: _("A signed tree head's signature does not verify."),
    UNKNOWN_KEY: _("A tree head is signed by a key this platform does not trust."),
    TRUNCATED_LOG: _("The log is shorter than a signed tree head."),
    EVIDENCE_FILE_MISSING: _("A deposited evidence file is missing."),
    EVIDENCE_FILE_ALTERED: _("A deposited evidence file no longer matches its SHA-256."),
    UNREADABLE_ENTRY: _("The entry's payload is not valid JSON."),
    NODE_CACHE_MISMATCH: _("The proof cache disagrees with the recomputed tree."),
    HEAD_MISMATCH: _("The log head (size and frontier) disagrees with the stored entries."),
    TREE_HEADS_OUT_OF_ORDER: _("A later signed tree head is smaller than an earlier one."),
}


class LedgerError(Exception):
    """A refused ledger request; ``code`` is stable, the message is a translation of it."""

    code = "KLN-LEDGER-100"

    def __init__(self, message, *, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code


class UnknownEntry(LedgerError):
    code = "KLN-LEDGER-101"


class NotYetSigned(LedgerError):
    code = "KLN-LEDGER-102"


class InvalidTreeSize(LedgerError):
    code = "KLN-LEDGER-103"


class InvalidEntry(LedgerError):
    code = "KLN-LEDGER-104"


class IncompleteLog(LedgerError):
    """Rows a proof needs are gone: run ``kiln ledger verify``."""

    code = "KLN-LEDGER-105"
