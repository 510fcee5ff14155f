"""Canonical JSON and the entry envelope whose UTF-8 bytes are a leaf's data.

Canonical here means: keys sorted by code point, no whitespace, UTF-8 (not ``\\u`` escapes),
no NaN or infinities. Decimals, dates and UUIDs become strings (Django's JSON encoder).

The envelope is ``{"actor", "created", "data", "index", "kind", "reference", "v"}``. It
repeats the row's index, kind and reference so a payload moved to another row no longer
fits, and :func:`envelope_text` builds it from pre-encoded pieces because encoding a
million envelopes whole is the slowest step of a bulk append.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring

try:
    from json.encoder import c_make_encoder  # type: ignore[attr-defined]
except ImportError:  # interpreters without the C accelerator
    c_make_encoder = None

from django.core.serializers.json import DjangoJSONEncoder

ENVELOPE_VERSION = 1

_encoder = DjangoJSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value) -> str:
    return _encoder.encode(value)


def _make_fast_encoder() -> Callable[[object], str]:
    """The same encoding as :func:`canonical_json`, built once instead of on every call.

    ``JSONEncoder.encode`` builds a fresh C encoder per call, half the cost of encoding a small
    payload. Without circular-reference markers a self-containing payload raises RecursionError.
    """
    if c_make_encoder is None:
        return _encoder.encode
    encode = c_make_encoder(None, _encoder.default, encode_basestring, None, ":", ",", True, False, False)
    return lambda value: "".join(encode(value, 0))


fast_canonical_json = _make_fast_encoder()


def json_string(text: str) -> str:
    """A JSON string literal, exactly as the canonical encoder writes it."""
    return encode_basestring(text)


def envelope(index: int, kind: str, reference: str, created: str, actor: str | None, data: Mapping) -> dict:
    return {
        "actor": actor,
        "created": created,
        "data": data,
        "index": index,
        "kind": kind,
        "reference": reference,
        "v": ENVELOPE_VERSION,
    }


def envelope_text(
    index: int, kind_json: str, reference: str, created_json: str, actor_json: str, data
) -> str:
    """``canonical_json(envelope(...))`` with the batch-constant parts already encoded.

    The key order below is the sorted order; a test holds this equal to the generic path.
    """
    return (
        f'{{"actor":{actor_json},"created":{created_json},"data":{fast_canonical_json(data)},'
        f'"index":{index:d},"kind":{kind_json},"reference":{encode_basestring(reference)},'
        f'"v":{ENVELOPE_VERSION}}}'
    )


def actor_label(actor) -> str | None:
    """How an actor is named in the log: a user's primary key, or the string given."""
    if actor is None:
        return None
    pk = getattr(actor, "pk", None)
    return str(pk) if pk is not None else str(actor)


def parse(text: str) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("envelope is not a JSON object")
    return value
