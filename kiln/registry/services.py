"""Every write to the registry (DESIGN.md rule 2).

Imports are all-or-nothing: the whole file is validated first and nothing is written if
any row has an error; otherwise all rows are written in one transaction with bulk
statements (creates and updates), never one query per row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.utils.translation import gettext_lazy as _

from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.registry.errors import RowError
from kiln.registry.models import Enterprise, Industry, Organisation, Region
from kiln.registry.tabular import Table, UnreadableTable, read_table
from kiln.registry.validation import (
    EnterpriseRecord,
    TreeRecord,
    chunks,
    validate_enterprises,
    validate_industries,
    validate_regions,
)

logger = logging.getLogger("kiln.registry")
BATCH = 500


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    source_format: str = ""
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


Counts = tuple[int, int, int]  # created, updated, unchanged


@dataclass(frozen=True)
class ImportKind:
    key: str
    label: Any
    validate: Callable[[Table], tuple[list, list[RowError]]]
    write: Callable[[list], Counts]


def import_registry_file(*, actor, kind: str, data: bytes) -> ImportResult:
    """Import an uploaded CSV/XLSX file of ``kind`` ("enterprises", "regions" or "industries")."""
    try:
        table = read_table(data, max_bytes=settings.KILN_MAX_UPLOAD_BYTES)
    except UnreadableTable as exc:
        return ImportResult(kind=kind, errors=[exc.error])
    return import_table(actor=actor, kind=kind, table=table)


@transaction.atomic
def import_table(*, actor, kind: str, table: Table) -> ImportResult:
    spec = IMPORT_KINDS[kind]
    result = ImportResult(kind=kind, rows=len(table.rows), source_format=table.source_format)
    records, problems = spec.validate(table)
    if problems:
        result.errors = problems
        return result
    result.created, result.updated, result.unchanged = spec.write(records)
    _audit(actor, result)
    logger.info(
        "registry import kind=%s actor=%s rows=%s created=%s updated=%s unchanged=%s",
        kind,
        getattr(actor, "pk", None),
        result.rows,
        result.created,
        result.updated,
        result.unchanged,
    )
    return result


def _audit(actor, result: ImportResult) -> None:
    """The import's audit event, in the import's transaction. ``actor``: a membership, a user or None."""
    from kiln.accounts.models import Membership

    user, organisation = actor, None
    if isinstance(actor, Membership):
        user, organisation = actor.user, actor.organisation
    record(
        EventType.DATA_IMPORTED,
        actor=user,
        target=("registry_import", result.kind, result.kind),
        organisation=organisation,
        after={
            "kind": result.kind,
            "rows": result.rows,
            "source_format": result.source_format,
            **result.counts(),
        },
    )


# --- enterprises ---------------------------------------------------------------------------------------

ENTERPRISE_FIELDS = ("kind", "name", "name_en", "region_id", "industry_id", "size", "key_emitter", "address")


def write_enterprises(records: list[EnterpriseRecord]) -> Counts:
    existing: dict[int, Enterprise] = {}
    for chunk in chunks([r.existing_id for r in records if r.existing_id]):
        existing.update(Enterprise.objects.in_bulk(chunk))
    changed: list[Enterprise] = []
    new: list[EnterpriseRecord] = []
    for rec in records:
        enterprise = existing.get(rec.existing_id) if rec.existing_id else None
        if enterprise is None:
            new.append(rec)
            continue
        wanted = {
            "kind": Organisation.Kind.ENTERPRISE,
            "name": rec.name,
            "region_id": rec.region_id,
            "industry_id": rec.industry_id,
            # an empty optional cell keeps what is stored
            "name_en": enterprise.name_en if rec.name_en is None else rec.name_en,
            "size": enterprise.size if rec.size is None else rec.size,
            "key_emitter": enterprise.key_emitter if rec.key_emitter is None else rec.key_emitter,
            "address": enterprise.address if rec.address is None else rec.address,
        }
        if any(getattr(enterprise, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(enterprise, k, v)
            changed.append(enterprise)
    if changed:
        Enterprise.objects.bulk_update(changed, list(ENTERPRISE_FIELDS), batch_size=BATCH)
    _create_enterprises(new)
    return len(new), len(changed), len(records) - len(new) - len(changed)


def _create_enterprises(records: list[EnterpriseRecord]) -> None:
    if not records:
        return
    parents = Organisation.objects.bulk_create(
        [
            Organisation(
                kind=Organisation.Kind.ENTERPRISE,
                credit_code=r.credit_code,
                name=r.name,
                name_en=r.name_en or "",
                region_id=r.region_id,
                address=r.address or "",
            )
            for r in records
        ],
        batch_size=BATCH,
    )
    children = [
        Enterprise(
            organisation_ptr_id=parent.pk,
            industry_id=r.industry_id,
            size=r.size or Enterprise.Size.MEDIUM,
            key_emitter=bool(r.key_emitter),
        )
        for parent, r in zip(parents, records, strict=True)
    ]
    _insert_child_rows(Enterprise, children)


def _insert_child_rows(model, objs: list) -> None:
    """Insert the child-table rows of multi-table-inherited objects whose parents already exist.

    ``bulk_create`` refuses multi-table children, and saving one by one costs two queries a
    row; one ``executemany`` keeps a 10 000-row import to a few statements.
    """
    using = router.db_for_write(model)
    connection = connections[using]
    fields = model._meta.local_concrete_fields
    quote = connection.ops.quote_name
    # Table and column names come from the model's own metadata, never from input.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    params = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in objs]
    with connection.cursor() as cursor:
        for batch in chunks(params, BATCH):
            cursor.executemany(sql, batch)


# --- regions and industries ----------------------------------------------------------------------------


def _write_tree(model, records: list[TreeRecord], extra_fields: tuple[str, ...]) -> tuple[Counts, bool]:
    """Create or update regions/industries level by level, so every parent exists before its children.

    Returns the counts and whether an existing entry moved to another parent.
    """
    known = {obj.code: obj for obj in model.objects.all()}
    created = updated = 0
    moved = False
    for level in sorted({r.level for r in records}):
        new, changed = [], []
        for rec in (r for r in records if r.level == level):
            parent = known[rec.parent_code] if rec.parent_code else None
            wanted: dict[str, Any] = {
                "name": rec.name,
                "level": rec.level,
                "parent_id": parent.pk if parent else None,
            }
            if rec.name_en is not None:
                wanted["name_en"] = rec.name_en
            if "ets_sector" in extra_fields and rec.ets_sector is not None:
                wanted["ets_sector"] = rec.ets_sector
            if model is Region:
                wanted["path"] = (parent.path if parent else "") + rec.code + "/"
            obj = known.get(rec.code)
            if obj is None:
                obj = model(code=rec.code, **wanted)
                new.append(obj)
            elif any(getattr(obj, k) != v for k, v in wanted.items()):
                moved = moved or obj.parent_id != wanted["parent_id"]
                for k, v in wanted.items():
                    setattr(obj, k, v)
                changed.append(obj)
            known[rec.code] = obj
        # bulk_create skips save(), so Region.path was computed above; the returned objects carry their pks.
        model.objects.bulk_create(new, batch_size=BATCH)
        fields = ["name", "name_en", "level", "parent", *extra_fields]
        model.objects.bulk_update(changed, fields, batch_size=BATCH)
        created += len(new)
        updated += len(changed)
    return (created, updated, len(records) - created - updated), moved


def write_regions(records: list[TreeRecord]) -> Counts:
    counts, moved = _write_tree(Region, records, ("path",))
    if moved:
        rebuild_region_paths()
    return counts


def write_industries(records: list[TreeRecord]) -> Counts:
    counts, _moved = _write_tree(Industry, records, ("ets_sector",))
    return counts


def rebuild_region_paths() -> int:
    """Recompute every region's materialised path after a region moved; returns how many changed.

    The region tree is small (a few thousand divisions nationwide), so one pass in memory is simplest.
    """
    rows = {
        pk: (code, parent_id) for pk, code, parent_id in Region.objects.values_list("id", "code", "parent_id")
    }
    paths: dict[int, str] = {}

    def path_of(pk: int) -> str:
        if pk not in paths:
            code, parent_id = rows[pk]
            paths[pk] = (path_of(parent_id) if parent_id else "") + code + "/"
        return paths[pk]

    stale = []
    for region in Region.objects.only("id", "path"):
        if region.path != path_of(region.pk):
            region.path = path_of(region.pk)
            stale.append(region)
    Region.objects.bulk_update(stale, ["path"], batch_size=BATCH)
    return len(stale)


IMPORT_KINDS: dict[str, ImportKind] = {
    "enterprises": ImportKind("enterprises", _("Enterprises"), validate_enterprises, write_enterprises),
    "regions": ImportKind("regions", _("Administrative divisions"), validate_regions, write_regions),
    "industries": ImportKind("industries", _("Industries"), validate_industries, write_industries),
}
