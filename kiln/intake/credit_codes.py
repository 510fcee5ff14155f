"""GB 32100-2015 credit-code checks over a whole column (the scalar version is ``kiln.registry.credit_code``)."""

from __future__ import annotations

import polars as pl

from kiln.intake import errors
from kiln.registry.credit_code import ALPHABET, VALUE, WEIGHTS

_CHARSET = f"^[{ALPHABET}]{{18}}$"


def problem_expr(code: pl.Expr) -> pl.Expr:
    """An expression giving the INT-CREDIT-… error code of each credit code, null when valid.

    ``code`` must already be normalised (NFKC, upper case, trimmed).
    """
    total = pl.sum_horizontal(
        [
            code.str.slice(i, 1).replace_strict(VALUE, default=0, return_dtype=pl.Int32) * weight
            for i, weight in enumerate(WEIGHTS)
        ]
    )
    expected = ((31 - total % 31) % 31).replace_strict(dict(enumerate(ALPHABET)), return_dtype=pl.String)
    return (
        pl.when(code.str.len_chars() != 18)
        .then(pl.lit(errors.CREDIT_LENGTH))
        .when(~code.str.contains(_CHARSET))
        .then(pl.lit(errors.CREDIT_CHARSET))
        .when(~code.str.slice(2, 6).str.contains(r"^\d{6}$"))
        .then(pl.lit(errors.CREDIT_REGION))
        .when(code.str.slice(17, 1) != expected)
        .then(pl.lit(errors.CREDIT_CHECKSUM))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
