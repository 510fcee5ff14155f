"""Plausible enterprise names and unified social credit codes, drawn a whole column at a time.

A name is 行政区划 + 字号 + 行业 + 组织形式, e.g. 青溪恒盛印染有限公司 (GB/T 32100 and the
enterprise-name rules). Codes follow GB 32100-2015: the check character is computed here with numpy
and must agree with ``kiln.registry.credit_code`` (the tests check that).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from kiln.registry.credit_code import ALPHABET, WEIGHTS

# 字号 characters and their pinyin, for two-character trade names (恒盛 → Hengsheng).
TRADE_CHARS = (
    ("恒", "Heng"),
    ("盛", "Sheng"),
    ("华", "Hua"),
    ("鑫", "Xin"),
    ("宏", "Hong"),
    ("永", "Yong"),
    ("荣", "Rong"),
    ("锦", "Jin"),
    ("天", "Tian"),
    ("瑞", "Rui"),
    ("金", "Jin"),
    ("东", "Dong"),
    ("方", "Fang"),
    ("海", "Hai"),
    ("嘉", "Jia"),
    ("德", "De"),
    ("隆", "Long"),
    ("昌", "Chang"),
    ("达", "Da"),
    ("新", "Xin"),
    ("利", "Li"),
    ("源", "Yuan"),
    ("泰", "Tai"),
    ("丰", "Feng"),
    ("博", "Bo"),
    ("远", "Yuan"),
    ("明", "Ming"),
    ("凯", "Kai"),
    ("富", "Fu"),
    ("振", "Zhen"),
    ("宇", "Yu"),
    ("万", "Wan"),
    ("通", "Tong"),
    ("信", "Xin"),
    ("正", "Zheng"),
    ("广", "Guang"),
    ("辉", "Hui"),
    ("立", "Li"),
    ("和", "He"),
    ("兴", "Xing"),
    ("佳", "Jia"),
    ("福", "Fu"),
    ("越", "Yue"),
    ("蓝", "Lan"),
    ("诚", "Cheng"),
)
LEGAL_FORMS = (
    ("有限公司", "Co., Ltd.", 0.78),
    ("股份有限公司", "Co., Ltd.", 0.12),
    ("有限责任公司", "Co., Ltd.", 0.10),
)
BODY_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def _pick(rng: np.random.Generator, n: int, weights) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def trade_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two distinct trade-name characters per enterprise: (zh, en) arrays."""
    k = len(TRADE_CHARS)
    first = rng.integers(0, k, n)
    second = (first + rng.integers(1, k, n)) % k  # never the same character twice
    zh = np.array([c for c, _ in TRADE_CHARS], dtype=object)
    en = np.array([p for _, p in TRADE_CHARS], dtype=object)
    return zh[first] + zh[second], en[first] + np.char.lower(en[second].astype(str)).astype(object)


def enterprise_names(
    rng: np.random.Generator,
    place_zh: np.ndarray,
    place_en: np.ndarray,
    words_zh: np.ndarray,
    words_en: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Names from a place, a drawn trade name, an industry word and a legal form; unique within the call.

    Collisions are redrawn a few rounds; the rare survivor gets a branch-style suffix.
    """
    n = len(place_zh)
    form = _pick(rng, n, [f[2] for f in LEGAL_FORMS])
    form_zh = np.array([f[0] for f in LEGAL_FORMS], dtype=object)[form]
    form_en = np.array([f[1] for f in LEGAL_FORMS], dtype=object)[form]
    trade_zh, trade_en = trade_names(rng, n)
    for _ in range(10):
        names = (place_zh + trade_zh + words_zh + form_zh).astype(str)
        redraw = ~pl.Series(names).is_first_distinct().to_numpy()  # keep the first of each clash
        if not redraw.any():
            break
        trade_zh[redraw], trade_en[redraw] = trade_names(rng, int(redraw.sum()))
    names = place_zh + trade_zh + words_zh + form_zh
    names_en = place_en + " " + trade_en + " " + words_en + " " + form_en
    occurrence = (
        pl.DataFrame({"name": names.astype(str)}).select(pl.int_range(pl.len()).over("name")).to_series()
    )
    again = occurrence.to_numpy() > 0
    suffix = (occurrence.to_numpy()[again] + 1).astype(str).astype(object)
    names[again] = names[again] + "（" + suffix + "）"
    names_en[again] = names_en[again] + " (" + suffix + ")"
    return names.astype(str), names_en.astype(str)


def organisation_bodies(rng: np.random.Generator, n: int, new_share: float = 0.75) -> np.ndarray:
    """Nine-character organisation bodies (positions 9-17 of a credit code), as alphabet indices.

    Enterprises registered since 2015 get "MA" + seven characters; older ones keep their
    GB 11714 organisation code (eight digits + a check character).
    """
    body = rng.integers(0, len(ALPHABET), (n, 9))
    body[:, 0], body[:, 1] = BODY_VALUE["M"], BODY_VALUE["A"]
    legacy = rng.random(n) >= new_share
    digits = rng.integers(0, 10, (n, 8))
    digits[:, 0] = rng.integers(1, 8, n)
    weights = np.array([3, 7, 9, 10, 5, 8, 4, 2])
    check = 11 - (digits * weights).sum(axis=1) % 11
    check_value = np.where(check == 10, BODY_VALUE["X"], np.where(check == 11, 0, check))
    body[legacy, :8] = digits[legacy]
    body[legacy, 8] = check_value[legacy]
    return body


def credit_codes(authority: str, org_type: str, region_codes: np.ndarray, bodies: np.ndarray) -> np.ndarray:
    """Complete 18-character codes; ``bodies`` are alphabet indices (n, 9)."""
    n = len(region_codes)
    head = np.array([BODY_VALUE[authority], BODY_VALUE[org_type]])
    region = np.array([[int(ch) for ch in code] for code in np.unique(region_codes)])
    region_index = np.searchsorted(np.unique(region_codes), region_codes)
    values = np.concatenate([np.broadcast_to(head, (n, 2)), region[region_index], bodies], axis=1)
    check = (31 - (values * np.asarray(WEIGHTS)).sum(axis=1) % 31) % 31
    chars = np.asarray(list(ALPHABET))[np.concatenate([values, check[:, None]], axis=1)]
    return np.ascontiguousarray(chars).view("<U18").reshape(n)  # 18 one-character cells → one string
