"""kiln.intake.bulk: every row lands exactly as framed, whatever the statement and chunk sizes."""

import polars as pl
import pytest

from kiln.intake import bulk
from kiln.intake.models import ActivityRecord

pytestmark = pytest.mark.django_db
FIELDS = ("enterprise_id", "period", "item", "quantity", "unit", "canonical_quantity", "source")
FIELDS += ("facility", "note", "batch_id", "version", "current", "reason")


def frame(rows: int, *, batch: int = 7) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "enterprise_id": [1 + i % 3 for i in range(rows)],
            "period": [f"2024-{i % 12 + 1:02d}" for i in range(rows)],
            "item": [f"item_{i}" for i in range(rows)],
            "quantity": [i * 1.5 for i in range(rows)],
            "unit": ["t"] * rows,
            "canonical_quantity": [i * 1.5 for i in range(rows)],
            "source": ["", "meter"] * (rows // 2) + [""] * (rows % 2),
            "facility": ["1号窑"] * rows,
            "note": ["备注, \"引号\""] * rows,
            "batch_id": [batch] * rows,
            "version": [1] * rows,
            "current": [True] * rows,
            "reason": [""] * rows,
        }
    )


def stored() -> list[tuple]:
    return list(ActivityRecord.objects.order_by("id").values_list(*FIELDS))


@pytest.mark.parametrize("rows", [1, 2, 7, 23])
def test_rows_land_exactly_across_statement_and_chunk_edges(rows, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 5)
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 2)
    given = frame(rows)
    assert bulk.insert_frame(ActivityRecord._meta.db_table, given, empty_is_text=("source", "reason")) == rows
    assert stored() == [tuple(r) for r in given.rows()]


def test_a_frame_whose_every_column_is_constant():
    given = pl.concat([frame(1), frame(1)])
    given = given.with_columns(pl.lit(False).alias("current"))  # two identical rows: neither current
    bulk.insert_frame(ActivityRecord._meta.db_table, given, empty_is_text=("source", "reason"))
    assert stored() == [tuple(r) for r in given.rows()]


def test_an_empty_frame_writes_nothing():
    assert bulk.insert_frame(ActivityRecord._meta.db_table, frame(0)) == 0
    assert ActivityRecord.objects.count() == 0
