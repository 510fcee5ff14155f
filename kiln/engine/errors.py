"""Stable error codes of the accounting engine and the error frame that lists them.

Every problem the engine finds in input data is one row of an *error frame*:

=========== ======= ==================================================================
column      dtype   meaning
=========== ======= ==================================================================
row         UInt32  0-based index of the offending row in the activity frame; null for
                    problems with the whole frame (a missing column, an unknown series)
credit_code String  the row's credit code as given (null when absent)
period      String  the row's period as given
item        String  the row's item code as given
code        String  stable error code, one of ``ErrorCode`` (never changes meaning)
message     String  English explanation with the offending values; UIs translate ``code``
                    (``MESSAGES_ZH`` has the Chinese titles)
=========== ======= ==================================================================

``validate(...)`` returns such a frame; ``compute(...)`` raises ``EngineError`` carrying it.
Nothing is ever silently counted as zero.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl


class ErrorCode(StrEnum):
    MISSING_COLUMN = "missing_column"
    BAD_CREDIT_CODE = "bad_credit_code"
    BAD_PERIOD = "bad_period"
    FUTURE_PERIOD = "future_period"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_PARAMETER = "unknown_parameter"
    NON_NUMERIC_QUANTITY = "non_numeric_quantity"
    NEGATIVE_QUANTITY = "negative_quantity"
    UNKNOWN_UNIT = "unknown_unit"
    INCOMPATIBLE_UNIT = "incompatible_unit"
    PARAMETER_OUT_OF_RANGE = "parameter_out_of_range"
    DUPLICATE_PARAMETER = "duplicate_parameter"
    MISSING_FACTOR = "missing_factor"
    UNKNOWN_GRID_SERIES = "unknown_grid_series"
    BAD_FACTOR_SET = "bad_factor_set"
    UNMAPPED_ENTERPRISE = "unmapped_enterprise"


# Short titles; the row message adds the details.
MESSAGES_EN = {
    ErrorCode.MISSING_COLUMN: "a required column is missing",
    ErrorCode.BAD_CREDIT_CODE: "not a valid unified social credit code (GB 32100-2015)",
    ErrorCode.BAD_PERIOD: "period is not a valid YYYY-MM month",
    ErrorCode.FUTURE_PERIOD: "period is in the future",
    ErrorCode.UNKNOWN_ITEM: "item code is not in the item catalogue",
    ErrorCode.UNKNOWN_PARAMETER: "measured parameter does not apply to this item",
    ErrorCode.NON_NUMERIC_QUANTITY: "quantity is empty, not a number or infinite",
    ErrorCode.NEGATIVE_QUANTITY: "quantity is negative",
    ErrorCode.UNKNOWN_UNIT: "unit is not known",
    ErrorCode.INCOMPATIBLE_UNIT: "unit cannot be converted to the item's canonical unit",
    ErrorCode.PARAMETER_OUT_OF_RANGE: "measured parameter is outside its possible range",
    ErrorCode.DUPLICATE_PARAMETER: "measured parameter given more than once for the same enterprise-month",
    ErrorCode.MISSING_FACTOR: "no emission factor: neither measured nor in the factor set for this period",
    ErrorCode.UNKNOWN_GRID_SERIES: "the grid-factor series is not in the factor set",
    ErrorCode.BAD_FACTOR_SET: "the factor set is malformed",
    ErrorCode.UNMAPPED_ENTERPRISE: "enterprise has no region/industry mapping",
}

MESSAGES_ZH = {
    ErrorCode.MISSING_COLUMN: "缺少必需的列",
    ErrorCode.BAD_CREDIT_CODE: "统一社会信用代码无效（GB 32100-2015）",
    ErrorCode.BAD_PERIOD: "月份格式应为 YYYY-MM",
    ErrorCode.FUTURE_PERIOD: "月份晚于当前月份",
    ErrorCode.UNKNOWN_ITEM: "项目代码不在项目目录中",
    ErrorCode.UNKNOWN_PARAMETER: "该实测参数不适用于此项目",
    ErrorCode.NON_NUMERIC_QUANTITY: "数量为空、不是数字或为无穷大",
    ErrorCode.NEGATIVE_QUANTITY: "数量为负数",
    ErrorCode.UNKNOWN_UNIT: "无法识别的单位",
    ErrorCode.INCOMPATIBLE_UNIT: "单位无法换算为该项目的标准单位",
    ErrorCode.PARAMETER_OUT_OF_RANGE: "实测参数超出合理范围",
    ErrorCode.DUPLICATE_PARAMETER: "同一企业同一月份重复填报了实测参数",
    ErrorCode.MISSING_FACTOR: "缺少排放因子：既无实测值，因子库中也没有该期间的缺省值",
    ErrorCode.UNKNOWN_GRID_SERIES: "因子库中没有所选的电网排放因子系列",
    ErrorCode.BAD_FACTOR_SET: "因子库格式错误",
    ErrorCode.UNMAPPED_ENTERPRISE: "企业缺少地区/行业对应关系",
}

ERROR_SCHEMA = {
    "row": pl.UInt32,
    "credit_code": pl.String,
    "period": pl.String,
    "item": pl.String,
    "code": pl.String,
    "message": pl.String,
}


def empty_errors() -> pl.DataFrame:
    return pl.DataFrame(schema=ERROR_SCHEMA)


def frame_error(code: ErrorCode, message: str) -> pl.DataFrame:
    """An error frame with one problem that concerns the whole input, not a row."""
    return pl.DataFrame(
        {
            "row": [None],
            "credit_code": [None],
            "period": [None],
            "item": [None],
            "code": [str(code)],
            "message": [message],
        },
        schema=ERROR_SCHEMA,
    )


class EngineError(Exception):
    """Raised by ``compute``/``aggregate`` when the input has problems; ``errors`` lists them all."""

    def __init__(self, errors: pl.DataFrame):
        self.errors = errors
        counts = errors.group_by("code").len().sort("code")
        summary = ", ".join(f"{code}×{n}" for code, n in counts.iter_rows())
        super().__init__(f"{errors.height} input error(s): {summary}")

    @property
    def codes(self) -> set[str]:
        return set(self.errors["code"].to_list())
