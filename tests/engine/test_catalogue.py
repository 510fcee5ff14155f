"""The item catalogue and units keep their public names; the engine imports no Django."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kiln.engine import items, units


def test_public_names():
    assert items.ITEMS["raw_coal"].unit == "t"
    assert items.is_known("raw_coal") and items.is_known("raw_coal.ncv")
    assert (
        not items.is_known("raw_coal.cao")
        and not items.is_known("nothing")
        and not items.is_known("raw_coal.")
    )
    assert "ncv" in items.PARAMETERS
    assert units.normalise("万 Nm³") == "1e4Nm3"
    assert units.factor("kWh", "MWh") == 1e-3
    assert units.factor("MWh", "t") is None
    assert units.GJ_PER_TCE == 29.3076


def test_items_sharing_parameters_share_a_formula():
    for item in items.ITEMS.values():
        base = items.ITEMS[item.parameter_item]
        if item.parameter_base and item.formula in ("clinker",):
            assert base.formula == item.formula


def test_every_item_and_parameter_has_a_canonical_unit():
    for code in [*items.ITEMS, *items.parameter_codes()]:
        assert items.canonical_unit(code) in units.CANONICAL_UNITS, code


@pytest.mark.parametrize(
    ("unit", "canonical", "factor"),
    [
        ("kg", "t", 1e-3),
        ("万吨", "t", 1e4),
        ("Nm3", "1e4Nm3", 1e-4),
        ("亿立方米", "1e4Nm3", 1e4),
        ("万千瓦时", "MWh", 10.0),
        ("MJ/Nm3", "GJ/1e4Nm3", 10.0),
        ("kJ/kg", "GJ/t", 1e-3),
        ("tC/TJ", "tC/GJ", 1e-3),
        ("%", "fraction", 1e-2),
        ("MWh", "GJ", 3.6),
        ("kg/t", "t/t", 1e-3),
    ],
)
def test_conversions(unit, canonical, factor):
    assert units.factor(unit, canonical) == pytest.approx(factor)


def test_engine_imports_neither_django_nor_settings():
    code = (
        "import sys; import kiln.engine.emissions, kiln.engine.aggregate, kiln.engine.validation, "
        "kiln.engine.reference, kiln.engine.io, kiln.engine.factorset; "
        "bad = [m for m in sys.modules if m.startswith('django') or m == 'kiln.settings']; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
