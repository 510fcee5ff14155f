import sys
import types

import polars as pl
import pytest

from kiln.demo.generate import DemoConfig, generate

YEARS = (2023, 2024)
# The small demo the command tests build, the whole chain through the database.
ARGS = ("--enterprises", "30", "--years", "1", "--seed", "3")


@pytest.fixture(scope="session")
def city():
    """A small city, two years: enough enterprises for every kind of injected problem."""
    return generate(DemoConfig(enterprises=150, years=YEARS, seed=11))


@pytest.fixture(scope="session")
def activity(city):
    """Activity with plain string columns and each quantity in its item's canonical unit."""
    from kiln.engine import items, units

    frame = city.activity.with_columns(pl.col(pl.Enum).cast(pl.String))
    pairs = frame.select("item", "unit").unique()
    factors = {(i, u): units.factor(u, items.canonical_unit(i)) for i, u in pairs.iter_rows()}
    lookup = pl.DataFrame(
        [(i, u, f) for (i, u), f in factors.items()], schema=["item", "unit", "factor"], orient="row"
    )
    return frame.join(lookup, on=["item", "unit"], how="left").with_columns(
        canonical=pl.col("quantity") * pl.col("factor")
    )


@pytest.fixture
def reference_data(monkeypatch):
    """Stand-in for kiln.registry.reference while that module does not exist yet (tests only)."""
    try:
        import kiln.registry.reference  # noqa: F401
    except ImportError:
        from kiln.demo.sectors import industry_codes
        from kiln.registry.models import Industry, Region

        def load_reference_data():
            nation, _ = Region.objects.get_or_create(
                code="000000", defaults={"name": "中华人民共和国", "level": 0}
            )
            Region.objects.get_or_create(
                code="330000", defaults={"name": "浙江省", "level": 1, "parent": nation}
            )
            for code in industry_codes():
                Industry.objects.get_or_create(code=code, defaults={"name": code, "level": 2})

        module = types.ModuleType("kiln.registry.reference")
        module.load_reference_data = load_reference_data
        monkeypatch.setitem(sys.modules, "kiln.registry.reference", module)


@pytest.fixture
def demo(db, reference_data, tmp_path, capsys):
    """``kiln demo-data`` run once for the test; its directory, with what it printed in ``stdout.txt``."""
    from django.core.management import call_command

    out = tmp_path / "demo"
    call_command("demo_data", *ARGS, "--out", str(out))
    out.joinpath("stdout.txt").write_text(capsys.readouterr().out, encoding="utf-8")
    return out
