"""Chinese first: every UI string has a zh-Hans translation and the compiled catalogue matches it."""

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[2] / "kiln" / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries(catalogue):
    return {
        (e.msgctxt, e.msgid): e.msgstr or tuple(sorted(e.msgstr_plural.items()))
        for e in catalogue
        if e.msgid and not e.obsolete and "fuzzy" not in e.flags
    }


def test_every_message_is_translated():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert [e.msgid for e in po if not e.translated() and not e.obsolete] == []


def test_compiled_catalogue_matches_source():
    """Fails when someone edits django.po and forgets ``make messages`` (compilemessages)."""
    po = _entries(polib.pofile(str(LOCALE / "django.po")))
    mo = _entries(polib.mofile(str(LOCALE / "django.mo")))
    assert po == mo
