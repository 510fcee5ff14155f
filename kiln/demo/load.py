"""Put the generated demo city into the database: regions, organisations, enterprises, facilities, logins.

Activity data is not loaded here: it stays in the files (see the manifest) for the intake to read.
Everything is written with bulk statements inside one transaction, so a failure leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from django.db import connections, router, transaction

from kiln.demo.generate import DemoData
from kiln.demo.personas import create_personas
from kiln.demo.samples import enterprise_persona_code
from kiln.registry.models import (
    Enterprise,
    Facility,
    GovernmentDepartment,
    Industry,
    Organisation,
    Region,
    ThirdPartyAgency,
)

BATCH = 1000


class DemoLoadError(Exception):
    """The database lacks something the demo needs (reference data), or already holds the demo."""


def load(data: DemoData) -> dict[str, int]:
    """Load ``data``; returns counts of what was created."""
    from kiln.registry.reference import load_reference_data  # the registry's shipped regions and industries

    with transaction.atomic():
        load_reference_data()
        regions = _regions(data.regions)
        bodies = _bodies(data.organisations, regions)
        enterprises = _enterprises(data.enterprises, regions, _industries(data.enterprises))
        facilities = _facilities(data.facilities, enterprises)
        users = create_personas(_persona_organisations(bodies, enterprises, data.enterprises))
        maps = _county_map(regions)
    return {
        "regions": len(data.regions),
        "organisations": len(bodies),
        "enterprises": len(enterprises),
        "facilities": facilities,
        "users": len(users),
        "maps": maps,
    }


def _regions(frame: pl.DataFrame) -> dict[str, Region]:
    """The city and its counties, created under the province from the reference data."""
    codes = set(frame["code"]) | set(frame["parent_code"])
    known = {r.code: r for r in Region.objects.filter(code__in=codes)}
    for level in sorted(set(frame["level"])):
        new = []
        for row in frame.filter(pl.col("level") == level).iter_rows(named=True):
            if row["code"] in known:
                continue
            parent = known.get(row["parent_code"])
            if parent is None:
                raise DemoLoadError(f"region {row['parent_code']} (parent of {row['code']}) is missing")
            # bulk_create skips Region.save(), which would have set the materialised path.
            region = Region(
                code=row["code"],
                name=row["name"],
                name_en=row["name_en"],
                level=level,
                parent=parent,
                path=parent.path + row["code"] + "/",
            )
            new.append(region)
            known[row["code"]] = region
        Region.objects.bulk_create(new)
    return known


def _county_map(regions: dict[str, Region]) -> int:
    """The city's synthetic county boundaries, for the monitoring portal's map."""
    from kiln.demo import city
    from kiln.demo.boundaries import qingxi_geojson_bytes
    from kiln.monitoring.services import upload_map

    upload_map(
        actor=None,
        region=regions[city.CITY],
        data=qingxi_geojson_bytes(),
        file_name="qingxi-counties.geojson",
    )
    return 1


def _industries(enterprises: pl.DataFrame) -> dict[str, Industry]:
    codes = sorted(set(enterprises["industry_code"]))
    found = {i.code: i for i in Industry.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise DemoLoadError(f"GB/T 4754 industries missing from the reference data: {', '.join(missing)}")
    return found


def _insert_children(model, parents: list[Organisation], children: list) -> None:
    """Create multi-table-inherited rows: parents with bulk_create, then child rows with one executemany.

    Django's bulk_create refuses models with a concrete parent, because the parent ids are
    needed first; this does the two steps explicitly.
    """
    Organisation.objects.bulk_create(parents, batch_size=BATCH)
    for parent, child in zip(parents, children, strict=True):
        child.id = child.organisation_ptr_id = parent.pk  # the inherited id too: foreign keys read it
    connection = connections[router.db_for_write(model)]
    fields = model._meta.local_concrete_fields
    quote = connection.ops.quote_name
    # Table and column names come from the model's metadata, never from data.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    rows = [[f.get_db_prep_save(getattr(child, f.attname), connection) for f in fields] for child in children]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])


def _organisation_fields(row: dict, regions: dict[str, Region], kind: str) -> dict:
    return {
        "kind": kind,
        "name": row["name"],
        "name_en": row["name_en"],
        "credit_code": row["credit_code"],
        "region": regions[row["region_code"]],
        "address": row["address"],
    }


def _bodies(frame: pl.DataFrame, regions: dict[str, Region]) -> dict[str, Organisation]:
    """Government departments, third parties, the grid company and the operator, by key.

    Bodies already present (same credit code) are reused, so a database emptied of
    enterprises can take the demo again.
    """
    existing = {
        o.credit_code: o for o in Organisation.objects.filter(credit_code__in=list(frame["credit_code"]))
    }
    bodies: dict[str, Organisation] = {}
    by_model: dict[type, tuple[list, list]] = {GovernmentDepartment: ([], []), ThirdPartyAgency: ([], [])}
    plain = []
    for row in frame.iter_rows(named=True):
        if row["credit_code"] in existing:
            bodies[row["key"]] = existing[row["credit_code"]]
            continue
        fields = _organisation_fields(row, regions, row["kind"])
        if row["kind"] == Organisation.Kind.GOVERNMENT:
            parents, children = by_model[GovernmentDepartment]
            children.append(GovernmentDepartment(**fields))
        elif row["kind"] == Organisation.Kind.THIRD_PARTY:
            parents, children = by_model[ThirdPartyAgency]
            children.append(
                ThirdPartyAgency(
                    **fields,
                    agency_type=row["agency_type"],
                    accreditation_no=row["accreditation_no"],
                    accreditation_scope=row["accreditation_scope"],
                    accredited_until=row["accredited_until"] or None,
                )
            )
        else:
            org = Organisation(**fields)
            plain.append(org)
            bodies[row["key"]] = org
            continue
        parents.append(Organisation(**fields))
        bodies[row["key"]] = children[-1]
    Organisation.objects.bulk_create(plain)
    for model, (parents, children) in by_model.items():
        _insert_children(model, parents, children)
    return bodies


def _enterprises(frame: pl.DataFrame, regions, industries) -> dict[str, Enterprise]:
    taken = Organisation.objects.filter(credit_code__in=list(frame["credit_code"])).count()
    if taken:
        raise DemoLoadError(f"{taken} demo enterprises are already in the database")
    parents, children = [], []
    for row in frame.iter_rows(named=True):
        fields = _organisation_fields(row, regions, Organisation.Kind.ENTERPRISE)
        parents.append(Organisation(**fields))
        children.append(
            Enterprise(
                **fields,
                industry=industries[row["industry_code"]],
                size=row["size"],
                key_emitter=row["key_emitter"],
                founded=row["founded"],
            )
        )
    _insert_children(Enterprise, parents, children)
    return {str(e.credit_code): e for e in children}


def _facilities(frame: pl.DataFrame, enterprises: dict[str, Enterprise]) -> int:
    rows: Iterable[dict] = frame.iter_rows(named=True)
    created = Facility.objects.bulk_create(
        [
            Facility(
                enterprise_id=enterprises[r["credit_code"]].pk,
                code=r["code"],
                name=r["name"],
                name_en=r["name_en"],
                kind=r["kind"],
                capacity=r["capacity"],
            )
            for r in rows
        ],
        batch_size=BATCH,
    )
    return len(created)


def _persona_organisations(bodies, enterprises, frame: pl.DataFrame) -> dict:
    """Which organisation each demo login belongs to (see kiln.demo.personas.PERSONAS)."""
    try:
        persona_code = enterprise_persona_code(frame)  # the same one the sample files are written for
    except ValueError as exc:
        raise DemoLoadError(str(exc)) from exc
    first_county = sorted(k for k in bodies if k.startswith("county-"))[0]
    return {
        ("operator", None): bodies["operator"],
        ("government", 1): bodies["province"],
        ("government", 2): bodies["city"],
        ("government", 3): bodies[first_county],
        ("enterprise", None): enterprises[persona_code],
        ("third_party", "verifier"): bodies["verifier-1"],
        ("third_party", "consultancy"): bodies["consultancy-1"],
        ("grid", None): bodies["grid"],
    }
