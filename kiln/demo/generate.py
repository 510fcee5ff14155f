"""Generate the demo city's data: deterministic, vectorised, Polars frames out. No Django here.

One seed gives byte-identical output. Each stage draws from its own generator
(``PCG64(SeedSequence([seed, stage]))``), so changing one stage leaves the others' numbers alone.

The pipeline:

1. enterprises: sector mix (largest-remainder allocation), county, credit code, name;
2. facilities: counts and capacities per sector; unit-based sectors get their size from capacity;
3. streams: one per (enterprise or facility, item) with an annual level (flows) or a mean (parameters);
4. rows: streams x months, shaped by the seasonal calendar, growth, overhauls and noise;
5. problems planted in the rows (see ``kiln.demo.problems``);
6. grid meter readings from the same true electricity, and economic data from approximate emissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from kiln.demo import city, names, problems, seasons
from kiln.demo.sectors import APPROXIMATE, KEY_EMITTER_CO2, KEY_EMITTER_TCE, SECTORS, Sector
from kiln.engine.items import ITEMS

GENERATOR_VERSION = "2"  # bump when the same seed starts giving different data
ACTIVITY_COLUMNS = ("credit_code", "period", "item", "quantity", "unit", "source", "facility", "note")
SOURCES = ("meter", "invoice", "lab", "estimate", "grid")

# Reported spellings of canonical units: (spelling, multiplier from canonical, decimals, probability).
# An enterprise keeps one spelling per unit, as its ledger would.
SPELLINGS = {
    "MWh": (("MWh", 1.0, 3, 0.80), ("kWh", 1000.0, 0, 0.15), ("万kWh", 0.1, 4, 0.05)),
    "1e4Nm3": (("1e4Nm3", 1.0, 3, 0.90), ("万Nm3", 1.0, 3, 0.06), ("万m3", 1.0, 3, 0.04)),
    "t": (("t", 1.0, 2, 0.93), ("吨", 1.0, 2, 0.07)),
    "GJ": (("GJ", 1.0, 1, 1.0),),
}
CANONICAL = tuple(SPELLINGS)

MINOR_ITEMS = ("diesel", "gasoline", "lpg", "electricity_green_self")
OVERHAUL_LEVEL = 0.35  # output of a facility in its overhaul month
STAGES = ("enterprises", "facilities", "streams", "rows", "problems", "meters", "economy")


@dataclass(frozen=True)
class DemoConfig:
    enterprises: int = 500
    years: tuple[int, ...] = (2023, 2024, 2025)
    seed: int = 42
    metered: str = "daily"  # "daily" or "monthly" grid readings

    def __post_init__(self):
        if self.enterprises < 1:
            raise ValueError("at least one enterprise is needed")
        if not self.years or list(self.years) != list(range(self.years[0], self.years[-1] + 1)):
            raise ValueError("years must be consecutive")
        if self.metered not in ("daily", "monthly"):
            raise ValueError("metered is 'daily' or 'monthly'")

    @classmethod
    def ending(cls, end_year: int, n_years: int, **kwargs) -> DemoConfig:
        return cls(years=tuple(range(end_year - n_years + 1, end_year + 1)), **kwargs)


@dataclass
class DemoData:
    config: DemoConfig
    regions: pl.DataFrame  # code, name, name_en, level, parent_code
    organisations: pl.DataFrame  # non-enterprise bodies (government, third parties, grid, operator)
    enterprises: pl.DataFrame
    facilities: pl.DataFrame
    activity: pl.DataFrame  # interchange format: ACTIVITY_COLUMNS
    metered_electricity: pl.DataFrame  # credit_code, date, kwh (daily) or credit_code, period, kwh
    economic: pl.DataFrame  # credit_code, year, value_added_10k_cny, output_value_10k_cny
    injected_problems: pl.DataFrame  # credit_code, period, item, kind, facility
    counts: dict[str, int] = field(default_factory=dict)


def _rng(seed: int, stage: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, STAGES.index(stage)])))


def _choose(rng: np.random.Generator, choices, n: int) -> np.ndarray:
    """Draw ``n`` values from ((value, probability), ...)."""
    values = np.array([v for v, _ in choices])
    p = np.array([w for _, w in choices], dtype=float)
    return values[rng.choice(len(values), size=n, p=p / p.sum())]


def _enum(values) -> pl.Enum:
    return pl.Enum(list(values))


def _gather(categories, dtype: pl.Enum, index: np.ndarray, name: str) -> pl.Series:
    """A column of ``categories[index]`` stored as an Enum (a small integer per row); -1 gives null."""
    cats = pl.Series(name, list(categories), dtype=dtype)
    idx = pl.Series(np.asarray(index, dtype=np.int64))
    if (np.asarray(index) < 0).any():
        idx = pl.select(pl.when(idx >= 0).then(idx)).to_series()
    return cats.gather(idx).alias(name)


# ---------------------------------------------------------------- 1. enterprises


def allocate(n: int) -> np.ndarray:
    """Enterprises per sector: shares by largest remainder, then each sector's minimum honoured."""
    shares = np.array([s.share for s in SECTORS])
    raw = shares / shares.sum() * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    for i, sector in enumerate(SECTORS):
        while counts[i] < sector.minimum:
            donor = int(np.argmax(np.where(np.arange(len(counts)) == i, -1, counts)))
            counts[donor] -= 1
            counts[i] += 1
    return counts


@dataclass
class _Enterprises:
    sector: np.ndarray
    county: np.ndarray
    codes: np.ndarray
    industry: np.ndarray
    variant: np.ndarray
    names: np.ndarray
    names_en: np.ndarray
    founded: np.ndarray  # datetime64[D]
    address: np.ndarray
    spelling_draw: np.ndarray  # (n, len(CANONICAL)) uniform draws choosing unit spellings
    basis: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.sector)


def _enterprises(n: int, rng: np.random.Generator) -> _Enterprises:
    sector = rng.permutation(np.repeat(np.arange(len(SECTORS)), allocate(n)))
    county = _choose(rng, [(i, c.industry_weight) for i, c in enumerate(city.COUNTIES)], n)
    county_codes = np.array([c.code for c in city.COUNTIES])[county]
    # Organisation codes since Oct 2015 start "MA"; older enterprises keep their GB 11714 code.
    bodies = names.organisation_bodies(rng, n, new_share=0.35)
    codes = names.credit_codes("9", "1", county_codes, bodies)
    for _ in range(10):  # the code is unique in the registry
        clash = ~pl.Series(codes).is_first_distinct().to_numpy()
        if not clash.any():
            break
        codes[clash] = names.credit_codes(
            "9", "1", county_codes[clash], names.organisation_bodies(rng, int(clash.sum()), 0.35)
        )
    order = np.argsort(codes, kind="stable")  # files list enterprises by county, then code
    sector, county, codes, bodies = sector[order], county[order], codes[order], bodies[order]
    new_style = bodies[:, 0] == names.BODY_VALUE["M"]

    industry = np.empty(n, dtype=object)
    variant = np.empty(n, dtype=object)
    words_zh = np.empty(n, dtype=object)
    words_en = np.empty(n, dtype=object)
    for s, spec in enumerate(SECTORS):
        members = np.flatnonzero(sector == s)
        industry[members] = _choose(rng, spec.industries, len(members))
        variant[members] = _choose(rng, spec.variants, len(members))
        word = rng.integers(0, len(spec.words), len(members))
        words_zh[members] = np.array([w for w, _ in spec.words], dtype=object)[word]
        words_en[members] = np.array([w for _, w in spec.words], dtype=object)[word]

    # Place in the name: the city, the province, or the county.
    place = rng.choice(3, size=n, p=[0.5, 0.2, 0.3])
    county_short = np.array([c.short for c in city.COUNTIES], dtype=object)[county]
    county_short_en = np.array([c.short_en for c in city.COUNTIES], dtype=object)[county]
    place_zh = np.where(
        place == 0, city.CITY_NAME[0][:-1], np.where(place == 1, "浙江", county_short)
    ).astype(object)
    place_en = np.where(
        place == 0, city.CITY_NAME[1], np.where(place == 1, "Zhejiang", county_short_en)
    ).astype(object)
    name_zh, name_en = names.enterprise_names(rng, place_zh, place_en, words_zh, words_en)

    # Founded before the code reform for legacy codes, after it for "MA" codes.
    old = rng.integers(np.datetime64("1985-01-01").astype(int), np.datetime64("2015-09-30").astype(int), n)
    new = rng.integers(np.datetime64("2015-10-01").astype(int), np.datetime64("2022-12-31").astype(int), n)
    founded = np.where(new_style, new, old).astype("datetime64[D]")

    county_full = np.array([city.CITY_NAME[0] + c.name for c in city.COUNTIES], dtype=object)[county]
    road = np.array(city.ROADS, dtype=object)[rng.integers(0, len(city.ROADS), n)]
    number = rng.integers(1, 999, n).astype(str).astype(object)
    address = (county_full + road + number + "号").astype(str)
    return _Enterprises(
        sector,
        county,
        codes,
        industry.astype(str),
        variant.astype(str),
        name_zh,
        name_en,
        founded,
        address,
        rng.random((n, len(CANONICAL))),
    )


# ---------------------------------------------------------------- 2. facilities


@dataclass
class _Facilities:
    enterprise: np.ndarray
    spec: np.ndarray  # (sector index, facility index) flattened to an int
    kind: np.ndarray
    code: np.ndarray
    name: np.ndarray
    name_en: np.ndarray
    capacity: np.ndarray
    basis: np.ndarray
    main: np.ndarray  # bool: a main facility whose capacity sets the enterprise's size
    overhaul: np.ndarray  # (n, years) month of year (0-11) of the overhaul, -1 for none
    note: np.ndarray  # overhaul note ("" for none)


def _facility_specs():
    for s, sector in enumerate(SECTORS):
        for f, spec in enumerate(sector.facilities):
            yield s, f, sector, spec


def _facilities(ent: _Enterprises, n_years: int, rng: np.random.Generator) -> _Facilities:
    parts: dict[str, list] = {
        k: [] for k in ("enterprise", "spec", "ordinal", "capacity_value", "basis", "main")
    }
    specs = list(_facility_specs())
    for key, (s, f, sector, spec) in enumerate(specs):
        members = np.flatnonzero(ent.sector == s)
        if spec.variants:
            members = members[np.isin(ent.variant[members], spec.variants)]
        counts = _choose(rng, spec.count, len(members)).astype(int)
        owner = np.repeat(members, counts)
        ordinal = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts) + 1
        if spec.capacities:
            capacity = _choose(rng, spec.capacities, len(owner)).astype(float)
            load = np.clip(rng.lognormal(0, sector.utilisation, len(owner)), 0.75, 1.15)
            basis = capacity * spec.basis_per_capacity * load
        else:
            capacity = np.full(len(owner), np.nan)
            basis = np.full(len(owner), np.nan)  # filled once the enterprise's size is known
        parts["enterprise"].append(owner)
        parts["spec"].append(np.full(len(owner), key))
        parts["ordinal"].append(ordinal)
        parts["capacity_value"].append(capacity)
        parts["basis"].append(basis)
        parts["main"].append(np.full(len(owner), f == 0 and bool(spec.capacities)))
    # Each enterprise's facilities together, in recipe order.
    order = np.lexsort(
        (np.concatenate(parts["ordinal"]), np.concatenate(parts["spec"]), np.concatenate(parts["enterprise"]))
    )
    enterprise, spec_key, ordinal, capacity_value, basis, main = (
        np.concatenate(parts[k])[order]
        for k in ("enterprise", "spec", "ordinal", "capacity_value", "basis", "main")
    )

    # Enterprise size: from main facilities' capacity, or lognormal for light and process industry.
    ent_basis = np.bincount(enterprise[main], weights=basis[main], minlength=len(ent))
    for s, sector in enumerate(SECTORS):
        if sector.size is not None:
            members = np.flatnonzero(ent.sector == s)
            size = sector.size
            ent_basis[members] = np.clip(
                rng.lognormal(np.log(size.median), size.sigma, len(members)), size.low, size.high
            )
    ent.basis = ent_basis
    # Other facilities share their enterprise's basis equally between those of the same kind.
    per_spec = (
        pl.DataFrame({"e": enterprise, "k": spec_key}).select(pl.len().over("e", "k")).to_series().to_numpy()
    )
    unset = np.isnan(basis)
    basis[unset] = ent_basis[enterprise[unset]] / per_spec[unset]

    spec_of = [spec for _, _, _, spec in specs]
    kinds = np.array([sp.kind for sp in spec_of], dtype=object)[spec_key]
    prefix = np.array([sp.code for sp in spec_of], dtype=object)[spec_key]
    ordinal_text = ordinal.astype(str).astype(object)
    # Names from templates like "{n}号机组": the part before and after the number, per spec.
    before_zh, after_zh = (
        np.array([sp.name_zh.split("{n}")[i] for sp in spec_of], dtype=object) for i in (0, 1)
    )
    before_en, after_en = (
        np.array([sp.name_en.split("{n}")[i] for sp in spec_of], dtype=object) for i in (0, 1)
    )
    name_zh = (before_zh[spec_key] + ordinal_text + after_zh[spec_key]).astype(str)
    name_en = (before_en[spec_key] + ordinal_text + after_en[spec_key]).astype(str)

    unit = np.array([sp.capacity_unit for sp in spec_of], dtype=object)[spec_key]
    shown = np.where(
        np.isnan(capacity_value),
        basis * np.array([sp.capacity_per_basis for sp in spec_of])[spec_key],
        capacity_value,
    )
    shown = np.where(shown >= 1000, np.round(shown, -2), np.round(shown))
    capacity = np.where(
        (unit != "") & (shown > 0),
        np.char.add(np.char.add(shown.astype(np.int64).astype(str), " "), unit.astype(str)),
        "",
    )

    note = np.array([sp.overhaul_note for sp in spec_of], dtype=object)[spec_key].astype(str)
    overhaul = np.where(note[:, None] != "", rng.integers(2, 11, (len(enterprise), n_years)), -1)
    return _Facilities(
        enterprise,
        spec_key,
        kinds.astype(str),
        (prefix + ordinal_text).astype(str),
        name_zh,
        name_en,
        capacity.astype(str),
        basis,
        main,
        overhaul,
        note,
    )


# ---------------------------------------------------------------- 3. streams


@dataclass
class _Streams:
    enterprise: np.ndarray
    facility: np.ndarray  # -1: reported for the enterprise as a whole
    item: np.ndarray  # item code (with ".parameter" for parameters)
    unit: np.ndarray  # unit as reported
    scale: np.ndarray  # canonical -> reported unit
    decimals: np.ndarray
    source: np.ndarray
    parameter: np.ndarray  # bool
    level: np.ndarray  # flows: annual canonical quantity in the first year; parameters: mean, reported unit
    noise: np.ndarray
    profile: np.ndarray  # index into seasons.PROFILE_NAMES

    def take(self, order: np.ndarray) -> _Streams:
        return _Streams(**{k: v[order] for k, v in self.__dict__.items()})


def _carriers(ent: _Enterprises, fac: _Facilities, s: int, variants, at: str, share: float, rng):
    """Who reports a flow or parameter: (enterprise, facility, basis) arrays."""
    members = np.flatnonzero(ent.sector == s)
    if variants:
        members = members[np.isin(ent.variant[members], variants)]
    if share < 1.0:
        members = members[rng.random(len(members)) < share]
    if not at:
        return members, np.full(len(members), -1), ent.basis[members]
    sector_keys = [k for k, (ks, _, _, _) in enumerate(_facility_specs()) if ks == s]
    hosts = np.flatnonzero(
        np.isin(fac.spec, sector_keys) & (fac.kind == at) & np.isin(fac.enterprise, members)
    )
    return fac.enterprise[hosts], hosts, fac.basis[hosts]


def _order_key(sector: Sector, item: str) -> int:
    """Rows of one enterprise-month: flows in recipe order, each followed by its parameters."""
    base, _, _ = item.partition(".")
    flows = [f.item for f in sector.flows]
    position = flows.index(base) if base in flows else len(flows)
    if item == base:
        return position * 10
    return position * 10 + 1 + [p.item for p in sector.parameters].index(item)


def _streams(ent: _Enterprises, fac: _Facilities, rng: np.random.Generator) -> _Streams:
    cols: dict[str, list] = {k: [] for k in (*_Streams.__dataclass_fields__, "order")}

    def add(enterprise, facility, item, **values):
        """Append streams for these carriers; scalar values apply to all of them."""
        n = len(enterprise)
        values.update(enterprise=enterprise, facility=facility, item=np.full(n, item, dtype=object))
        values["profile"] = seasons.PROFILE_NAMES.index(values["profile"])
        for key, value in values.items():
            cols[key].append(np.full(n, value) if np.ndim(value) == 0 else value)

    for s, sector in enumerate(SECTORS):
        means: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        for p in sector.parameters:
            owner, host, _ = _carriers(ent, fac, s, p.variants, p.at, 1.0, rng)
            mean = rng.uniform(p.low, p.high, len(owner))
            means[(p.item, p.at)] = (host if p.at else owner, mean)
            add(
                owner,
                host,
                p.item,
                unit=p.unit,
                scale=1.0,
                decimals=p.decimals,
                source=SOURCES.index(p.source),
                parameter=True,
                level=mean,
                noise=p.noise,
                profile=sector.profile,
                order=_order_key(sector, p.item),
            )
        for flow in sector.flows:
            if flow.share <= 0:
                continue
            owner, host, basis = _carriers(ent, fac, s, flow.variants, flow.at, flow.share, rng)
            annual = (
                basis * flow.per_basis * rng.lognormal(0, flow.spread, len(owner))
                if flow.spread
                else basis * flow.per_basis
            )
            if flow.divide_by:  # GJ of heat demand -> tonnes of this fuel at its own NCV
                keys, mean = means[(flow.divide_by, flow.at)]
                annual = annual / mean[np.searchsorted(keys, host if flow.at else owner)]
            canonical = ITEMS[flow.item].unit
            spellings = SPELLINGS.get(canonical, ((canonical, 1.0, 3, 1.0),))
            cumulative = np.cumsum([sp[3] for sp in spellings])
            draw = (
                ent.spelling_draw[owner, CANONICAL.index(canonical)]
                if canonical in CANONICAL
                else np.zeros(len(owner))
            )
            choice = np.minimum(
                np.searchsorted(cumulative / cumulative[-1], draw, side="right"), len(spellings) - 1
            )
            unit = np.array([sp[0] for sp in spellings], dtype=object)[choice]
            scale = np.array([sp[1] for sp in spellings])[choice]
            # At least four significant digits in a typical month; never fewer decimals than the unit's.
            typical = np.maximum(annual * scale / 12, 1e-9)
            decimals = np.clip(
                4 - np.floor(np.log10(typical)), np.array([sp[2] for sp in spellings])[choice], 6
            )
            source = np.full(len(owner), SOURCES.index(flow.source))
            if flow.item == "electricity_purchased":  # the meter, or the monthly bill
                source = np.where(rng.random(len(owner)) < 0.4, SOURCES.index("invoice"), source)
            elif flow.source == "invoice":  # small users sometimes estimate fuel from purchases
                source = np.where(rng.random(len(owner)) < 0.05, SOURCES.index("estimate"), source)
            add(
                owner,
                host,
                flow.item,
                unit=unit,
                scale=scale,
                decimals=decimals.astype(int),
                source=source,
                parameter=False,
                level=annual,
                noise=flow.noise,
                profile=flow.profile or sector.profile,
                order=_order_key(sector, flow.item),
            )

    streams = _Streams(**{k: np.concatenate(cols[k]) for k in _Streams.__dataclass_fields__})
    streams.item, streams.unit = streams.item.astype(str), streams.unit.astype(str)
    order = np.concatenate(cols["order"])
    # Drop flows too small to report (a few kilograms of LPG a month), never electricity.
    big_enough = (
        streams.parameter
        | (streams.level * streams.scale / 12 >= 0.05)
        | (streams.item == "electricity_purchased")
    )
    streams, order = streams.take(np.flatnonzero(big_enough)), order[big_enough]
    # Enterprise, then its own rows before its facilities', then recipe order.
    arranged = np.lexsort((order, streams.facility, streams.enterprise))
    return streams.take(arranged)


# ---------------------------------------------------------------- 4. rows


def _year_factors(ent: _Enterprises, n_years: int, rng: np.random.Generator) -> np.ndarray:
    growth = np.array([s.growth for s in SECTORS])[ent.sector] + rng.normal(0, 0.04, len(ent))
    years = np.arange(n_years)
    shock = np.exp(rng.normal(0, 0.03, (len(ent), n_years)))
    return (1 + growth[:, None]) ** years[None, :] * shock


def _overhaul_levels(fac: _Facilities, ent: _Enterprises, n_months: int):
    """Per facility-month and per enterprise-month activity level during overhauls (1 = normal)."""
    facility_level = np.ones((len(fac.enterprise), n_months))
    f, y = np.nonzero(fac.overhaul >= 0)
    facility_level[f, y * 12 + fac.overhaul[f, y]] = OVERHAUL_LEVEL
    # The enterprise as a whole loses the overhauled facility's share of its output.
    loss = np.zeros((len(ent), n_months))
    main = fac.main[f]
    share = fac.basis[f[main]] / ent.basis[fac.enterprise[f[main]]]
    np.add.at(
        loss, (fac.enterprise[f[main]], (y * 12 + fac.overhaul[f, y])[main]), (1 - OVERHAUL_LEVEL) * share
    )
    return facility_level, np.clip(1 - loss, OVERHAUL_LEVEL, 1)


def generate(config: DemoConfig) -> DemoData:
    calendar = seasons.build(config.years)
    n_years, n_months = len(config.years), calendar.n_months

    ent = _enterprises(config.enterprises, _rng(config.seed, "enterprises"))
    fac = _facilities(ent, n_years, _rng(config.seed, "facilities"))
    st = _streams(ent, fac, _rng(config.seed, "streams"))

    # Rows ordered by enterprise, then month, then the enterprise's streams.
    rng = _rng(config.seed, "rows")
    per_ent = np.bincount(st.enterprise, minlength=len(ent))
    block = per_ent * n_months
    row_ent = np.repeat(np.arange(len(ent), dtype=np.int32), block)
    pos = np.arange(len(row_ent), dtype=np.int64) - np.repeat(np.cumsum(block) - block, block)
    k = per_ent[row_ent]
    row_month = (pos // k).astype(np.int32)
    row_stream = ((np.cumsum(per_ent) - per_ent)[row_ent] + pos % k).astype(np.int32)
    del pos, k

    year_factor = _year_factors(ent, n_years, rng)
    facility_level, enterprise_level = _overhaul_levels(fac, ent, n_months)
    flow = ~st.parameter[row_stream]
    z = rng.standard_normal(len(row_ent))
    noise = st.noise[row_stream]
    host = st.facility[row_stream]
    level = np.where(
        host >= 0, facility_level[np.maximum(host, 0), row_month], enterprise_level[row_ent, row_month]
    )
    true = (
        st.level[row_stream]
        * year_factor[row_ent, row_month // 12]
        * level
        * calendar.monthly[st.profile[row_stream], row_month]
        * np.exp(noise * z - noise**2 / 2)
    )
    # Parameters scatter around their mean; they are not shaped by season or output.
    true = np.where(flow, true, st.level[row_stream] * (1 + noise * z))
    del z, noise, level

    # What the enterprise writes down: the meter's electricity within about 1 %, in its own unit.
    electricity_stream = st.item == "electricity_purchased"
    electricity = electricity_stream[row_stream]
    reported = true * st.scale[row_stream]
    slip = np.clip(rng.normal(0, 0.01, int(electricity.sum())), -0.03, 0.03)
    reported[electricity] *= 1 + slip
    decimals = st.decimals[row_stream]
    reported = np.round(reported * 10.0**decimals) / 10.0**decimals

    # Overhaul months carry a note on the overhauled facility's rows.
    notes = sorted(set(fac.note) - {""})
    facility_note = np.where(fac.note == "", -1, np.searchsorted(notes, fac.note))
    overhauling = (host >= 0) & flow & (facility_level[np.maximum(host, 0), row_month] < 1)
    note_index = np.where(overhauling, facility_note[np.maximum(host, 0)], -1)

    # ------------------------------------------------------------ 5. problems
    # Problems go where screening looks first: electricity, coal, gas, heat and output, not the
    # few tonnes of diesel a small plant's forklifts burn.
    solid_fuels = [
        code for code, item in ITEMS.items() if item.category == "fuel" and item.energy_type == "coal"
    ]
    slip_prone = (electricity_stream & (st.unit == "MWh")) | (
        np.isin(st.item, solid_fuels) & (st.unit == "t")
    )
    major = ~np.isin(st.item, MINOR_ITEMS)
    injection = problems.inject(
        _rng(config.seed, "problems"),
        problems.Rows(
            quantity=reported,
            decimals=decimals,
            stream=row_stream,
            electricity=electricity,
            per_mwh_or_t=slip_prone[row_stream],
            flow=flow & major[row_stream],
            parameter_name=np.array([item.partition(".")[2] for item in st.item]),
            calm=(row_month % 12 >= 2) & (note_index < 0),
        ),
        len(ent),
    )

    # ------------------------------------------------------------ frames
    code_enum = _enum(ent.codes)
    items = sorted(set(st.item))
    units = sorted(set(st.unit))
    facility_codes = sorted(set(fac.code))
    item_index = np.searchsorted(items, st.item)[row_stream]
    facility_index = np.where(host >= 0, np.searchsorted(facility_codes, fac.code)[np.maximum(host, 0)], -1)
    activity = pl.DataFrame(
        [
            _gather(ent.codes, code_enum, row_ent, "credit_code"),
            _gather(calendar.periods, _enum(calendar.periods), row_month, "period"),
            _gather(items, _enum(items), item_index, "item"),
            pl.Series("quantity", reported),
            _gather(units, _enum(units), np.searchsorted(units, st.unit)[row_stream], "unit"),
            _gather(SOURCES, _enum(SOURCES), st.source[row_stream], "source"),
            _gather(facility_codes, _enum(facility_codes), facility_index, "facility"),
            _gather(notes, _enum(notes), note_index, "note"),
        ]
    )
    # The facility tells apart the rows of plants with several kilns or units.
    planted_host = host[injection.rows]
    truth = pl.DataFrame(
        {
            "credit_code": ent.codes[row_ent[injection.rows]],
            "period": np.array(calendar.periods)[row_month[injection.rows]],
            "item": st.item[row_stream[injection.rows]].astype(str),
            "kind": injection.kinds.astype(str),
            "facility": pl.Series(
                np.where(planted_host >= 0, fac.code[np.maximum(planted_host, 0)], None).tolist(),
                dtype=pl.String,
            ),
        }
    ).sort("credit_code", "period", "item", "facility", nulls_last=False)
    # Duplicates come back at the end, as a second upload of the same rows would.
    activity = pl.concat([activity.filter(pl.Series(injection.keep)), activity[injection.duplicates]])
    del reported, host, flow, item_index, facility_index, note_index

    # ------------------------------------------------------------ 6. meters and economy
    metered = _metered(
        ent,
        st,
        calendar,
        row_ent[electricity],
        row_month[electricity],
        true[electricity],
        row_stream[electricity],
        config.metered,
        _rng(config.seed, "meters"),
    )
    economic, enterprise_extra = _economy(ent, st, year_factor, config.years, _rng(config.seed, "economy"))

    enterprises = pl.DataFrame(
        {
            "credit_code": ent.codes,
            "name": ent.names,
            "name_en": ent.names_en,
            "region_code": np.array([c.code for c in city.COUNTIES])[ent.county],
            "industry_code": ent.industry,
            "sector": np.array([s.key for s in SECTORS])[ent.sector],
            "size": enterprise_extra["size"],
            "key_emitter": enterprise_extra["key_emitter"],
            "founded": ent.founded,
            "address": ent.address,
            "approx_co2_t": np.round(enterprise_extra["co2"]),
        }
    )
    facilities = pl.DataFrame(
        {
            "credit_code": ent.codes[fac.enterprise],
            "code": fac.code,
            "name": fac.name,
            "name_en": fac.name_en,
            "kind": fac.kind,
            "capacity": fac.capacity,
        }
    )
    data = DemoData(
        config=config,
        regions=_regions(),
        organisations=_organisations(),
        enterprises=enterprises,
        facilities=facilities,
        activity=activity,
        metered_electricity=metered,
        economic=economic,
        injected_problems=truth,
    )
    data.counts = {
        "enterprises": enterprises.height,
        "key_emitters": int(enterprises["key_emitter"].sum()),
        "facilities": facilities.height,
        "activity_rows": activity.height,
        "metered_rows": metered.height,
        "economic_rows": economic.height,
        "injected_problems": truth.height,
    }
    return data


def _metered(ent, st, calendar, owner, month, true_mwh, stream, mode, rng) -> pl.DataFrame:
    """Grid meter readings from the same true electricity the enterprise reports from."""
    code_enum = _enum(ent.codes)
    profile = st.profile[stream]
    if mode == "monthly":
        kwh = np.round(true_mwh * 1000 * np.exp(rng.normal(0, 0.002, len(true_mwh)))).astype(np.int64)
        return pl.DataFrame(
            [
                _gather(ent.codes, code_enum, owner, "credit_code"),
                _gather(calendar.periods, _enum(calendar.periods), month, "period"),
                pl.Series("kwh", kwh),
            ]
        )
    # Daily: every (enterprise, month) row spread over its days by the profile's daily shares.
    days_per_month = np.bincount(calendar.day_month, minlength=calendar.n_months)
    first_day = np.cumsum(days_per_month) - days_per_month
    span = days_per_month[month]
    row = np.repeat(np.arange(len(owner)), span)
    day = first_day[month][row] + np.arange(len(row)) - np.repeat(np.cumsum(span) - span, span)
    share = calendar.daily[profile[row], day]
    kwh = np.round(true_mwh[row] * 1000 * share * np.exp(rng.normal(0, 0.03, len(row)))).astype(np.int64)
    return pl.DataFrame(
        [  # already in (enterprise, date) order
            _gather(ent.codes, code_enum, owner[row], "credit_code"),
            pl.Series("date", calendar.days[day]),
            pl.Series("kwh", kwh),
        ]
    )


def _economy(ent, st, year_factor, years, rng):
    """Value added from approximate emissions and a drawn carbon intensity (tCO2 / 10^4 CNY)."""
    flows = ~st.parameter
    co2_factor = np.array([APPROXIMATE.get(i, (0.0, 0.0))[0] for i in st.item])
    tce_factor = np.array([APPROXIMATE.get(i, (0.0, 0.0))[1] for i in st.item])
    co2 = np.zeros((len(ent), len(years)))
    tce = np.zeros((len(ent), len(years)))
    np.add.at(
        co2, st.enterprise[flows], (st.level * co2_factor)[flows][:, None] * year_factor[st.enterprise[flows]]
    )
    np.add.at(
        tce, st.enterprise[flows], (st.level * tce_factor)[flows][:, None] * year_factor[st.enterprise[flows]]
    )

    sector_intensity = np.array([s.intensity for s in SECTORS])[ent.sector]
    intensity = np.clip(sector_intensity * rng.lognormal(0, 0.45, len(ent)), 0.1, 10.0)
    # Value added grows a little faster than emissions: intensity falls ~3 % a year.
    improving = 0.97 ** np.arange(len(years))
    value_added = co2 / (intensity[:, None] * improving[None, :]) * rng.lognormal(0, 0.03, co2.shape)
    ratio = np.clip(
        np.array([s.value_added_ratio for s in SECTORS])[ent.sector] * rng.lognormal(0, 0.15, len(ent)),
        0.08,
        0.6,
    )
    output = value_added / ratio[:, None]
    economic = pl.DataFrame(
        {
            "credit_code": np.repeat(ent.codes, len(years)),
            "year": np.tile(np.asarray(years, dtype=np.int32), len(ent)),
            "value_added_10k_cny": np.round(value_added.ravel(), 1),
            "output_value_10k_cny": np.round(output.ravel(), 1),
        }
    )
    # Size class for industry (统计上大中小微型企业划分办法): head count and revenue (10^4 CNY) both count.
    revenue = output[:, 0]
    per_worker = np.array([s.revenue_per_worker for s in SECTORS])[ent.sector] * rng.lognormal(
        0, 0.3, len(ent)
    )
    workers = revenue / per_worker
    size = np.where(
        (workers >= 1000) & (revenue >= 40_000),
        "large",
        np.where(
            (workers >= 300) & (revenue >= 2_000),
            "medium",
            np.where((workers >= 20) & (revenue >= 300), "small", "micro"),
        ),
    )
    key = (co2.max(axis=1) >= KEY_EMITTER_CO2) | (tce.max(axis=1) >= KEY_EMITTER_TCE)
    return economic, {"size": size, "key_emitter": key, "co2": co2[:, 0]}


def _regions() -> pl.DataFrame:
    rows = city.regions()
    return pl.DataFrame(rows, schema=["code", "name", "name_en", "level", "parent_code"], orient="row")


def _organisations() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "key": b.key,
                "kind": b.kind,
                "name": b.name,
                "name_en": b.name_en,
                "region_code": b.region,
                "credit_code": b.credit_code,
                "agency_type": b.agency_type,
                "accreditation_no": b.accreditation_no,
                "accreditation_scope": b.accreditation_scope,
                "accredited_until": b.accredited_until,
                "address": b.address,
            }
            for b in city.BODIES
        ]
    )
