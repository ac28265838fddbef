"""Tests of the real-data layer: registry, CEADs and GCAM-China loaders, bad inputs.

The real files are read from $CARBONLAB_DATA_DIR (../shared/data in CI). Bad-input
tests copy a real file into tmp_path, damage it there and expect a DataError
naming the file (and the row/column or cell). Nothing here is committed data.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlab._util import DataError, ParameterError, repo_root, sha256_file
from carbonlab.data import cities, real, registry
from carbonlab.data.schemas import DRIVERS
from carbonlab.regions import PROVINCES, grid_region


def _real_dir() -> Path:
    env = os.environ.get("CARBONLAB_DATA_DIR")
    return Path(env) if env else repo_root().parent / "shared" / "data"


REAL = _real_dir()
pytestmark = pytest.mark.skipif(
    not (REAL / "MANIFEST.csv").is_file(),
    reason=f"real-data mirror not found at {REAL} (set CARBONLAB_DATA_DIR)",
)


def _copy(tmp_path: Path, *rels: str) -> Path:
    root = tmp_path / "data"
    for rel in rels:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REAL / rel, root / rel)
        os.chmod(root / rel, 0o644)
    return root


def _csv_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _first_data_line(lines: list[str]) -> int:
    """0-based index of the header line of a GCAM CSV (after the # comments)."""
    return next(i for i, line in enumerate(lines) if not line.startswith("#"))


def _manifest() -> list[dict[str, str]]:
    with open(REAL / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- registry


def _check_registry_against(root: Path) -> list[str]:
    """Every registered file has its manifest row (same hash, size, source); returns the
    manifest paths the registry does not know (reported, not a failure)."""
    with open(root / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        rows = {r["path"]: r for r in csv.DictReader(fh)}
    local = {e.path for e in registry.REGISTRY.values() if not e.repo}
    assert local == {"targets-sources.md"}
    for e in registry.REGISTRY.values():
        if not e.repo:
            continue
        r = rows[e.path]
        assert (e.sha256, e.size, e.repo, e.commit, e.source_path) == (
            r["sha256"], int(r["bytes"]), r["source_repo"], r["commit"], r["source_path"]
        )
        assert e.url.startswith(f"https://raw.githubusercontent.com/{r['source_repo']}/{r['commit']}/")
    tab = registry.registry_table()
    assert len(tab) == len(registry.REGISTRY) and tab["path"].is_unique
    return sorted(set(rows) - set(registry.REGISTRY))


def test_registry_matches_manifest():
    _check_registry_against(REAL)
    # the issue-22 files are registered (one per folder named)
    for rel in ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2022.xlsx",
                "ceads-energy-provinces/Energy_Inventory_30_Provinces_1997.xlsx",
                "ceads-national-v2/China_Energy_Inventory_1997-2022.xlsx",
                "nbs-provinces/population_1949-2024.xlsx",
                "owid-un-wpp/population-with-un-projections.csv"):
        assert rel in registry.REGISTRY


def test_a_new_file_in_the_mirror_is_reported_not_failed(tmp_path, capsys):
    """The mirror may gain files: the registry checks those it knows and lists the rest."""
    from carbonlab import cli

    root = tmp_path / "data"
    for e in registry.REGISTRY.values():
        (root / e.path).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(REAL / e.path, root / e.path)
    manifest = (REAL / "MANIFEST.csv").read_text(encoding="utf-8")
    (root / "new-source").mkdir()
    (root / "new-source" / "dummy.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (root / "MANIFEST.csv").write_text(
        manifest + "new-source/dummy.csv,someone/repo,dummy.csv," + "0" * 40 + ","
        + sha256_file(root / "new-source" / "dummy.csv") + ",8,dummy,,,\n", encoding="utf-8")
    assert _check_registry_against(root) == ["new-source/dummy.csv"]
    assert registry.unknown_files(root) == ["new-source/dummy.csv"]
    assert registry.verify(root)["ok"].all()
    assert cli.main(["data", "verify", "--data-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "1 file(s) not in the registry" in out and "new-source/dummy.csv" in out


def test_mirror_only_file_is_verified_but_not_fetched(tmp_path):
    assert registry.REGISTRY["targets-sources.md"].sha256 == sha256_file(REAL / "targets-sources.md")
    with pytest.raises(ParameterError, match="targets-sources.md: written for the data mirror"):
        registry.fetch(tmp_path, paths=["targets-sources.md"])


@pytest.mark.parametrize("rel", ["techme/RDPatentAuthority.rda", "cesy2008/4.xls",
                                 "nbs-provinces/gdp_1949-2024.xlsx",
                                 "owid-un-wpp/population-with-un-projections.csv",
                                 "shu-ces/merged_provincial_data.json", "targets-sources.md"])
def test_cli_verify_refuses_a_tampered_new_file(tmp_path, rel, capsys):
    from carbonlab import cli

    root = tmp_path / "data"
    for e in registry.REGISTRY.values():
        (root / e.path).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(REAL / e.path, root / e.path)
    (root / rel).unlink()
    data = bytearray((REAL / rel).read_bytes())
    data[len(data) // 3] ^= 0x01
    (root / rel).write_bytes(bytes(data))
    assert cli.main(["data", "verify", "--data-dir", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert rel in err and "\n" not in err


def test_verify_real_mirror_all_ok():
    v = registry.verify(REAL)
    assert list(v.columns) == ["path", "expected", "actual", "ok"]
    assert v["ok"].all(), v.loc[~v["ok"], "path"].tolist()


def test_verify_reports_missing_and_tampered(tmp_path):
    rel = real.URBAN_FILE
    root = _copy(tmp_path, rel)
    with open(root / rel, "r+b") as fh:
        fh.seek(500)
        b = fh.read(1)
        fh.seek(500)
        fh.write(bytes([b[0] ^ 1]))
    v = registry.verify(root).set_index("path")
    assert not v.loc[rel, "ok"] and v.loc[rel, "actual"] == sha256_file(root / rel)
    assert pd.isna(v.loc[real.CSY_POP_FILE, "actual"]) and not v.loc[real.CSY_POP_FILE, "ok"]


def test_data_dir_env_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path))
    assert registry.data_dir() == tmp_path.resolve()
    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(DataError, match="nope"):
        registry.data_dir()
    with pytest.raises(DataError, match="does not exist"):
        real.population(data_dir=tmp_path / "absent")


def test_missing_file_names_it(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match=r"China_Statistics_Yearbook\.csv: data file not found"):
        real.population(data_dir=tmp_path / "data")


def test_tampered_file_hash_mismatch_names_file_and_both_hashes(tmp_path):
    rel = real.NATIONAL_FILE
    root = _copy(tmp_path, rel)
    data = bytearray((root / rel).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (root / rel).write_bytes(bytes(data))
    expected = registry.REGISTRY[rel].sha256
    actual = sha256_file(root / rel)
    with pytest.raises(DataError) as exc:
        real.ceads_national(data_dir=root, release="v1")
    msg = str(exc.value)
    assert str(root / rel) in msg and expected in msg and actual in msg
    assert "\n" not in msg


def test_truncated_xlsx_is_a_dataerror_not_a_zip_traceback(tmp_path):
    rel = real.CITIES_FILE
    root = _copy(tmp_path, rel)
    data = (root / rel).read_bytes()
    (root / rel).write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="sha256 mismatch"):
        real.ceads_cities(data_dir=root)
    with pytest.raises(DataError, match=r"The_Emission_Inventories.*not a readable xlsx") as exc:
        real.ceads_cities(data_dir=root, verify=False)
    assert exc.value.__cause__ is None


def _fake_downloader(url, output_file, pooch_obj):
    rel = next(e.path for e in registry.REGISTRY.values() if e.url == url)
    shutil.copyfile(REAL / rel, output_file)


def test_fetch_with_monkeypatched_downloader(tmp_path):
    paths = [real.URBAN_FILE, real.FLOWS_FILE]
    got = registry.fetch(tmp_path / "mirror", paths=paths, downloader=_fake_downloader)
    assert [p.resolve() for p in got] == [(tmp_path / "mirror" / p).resolve() for p in paths]
    for p in paths:
        assert sha256_file(tmp_path / "mirror" / p) == registry.REGISTRY[p].sha256
    # the fetched mirror is usable by the loaders
    u = real.urbanisation(data_dir=tmp_path / "mirror")
    pd.testing.assert_frame_equal(u, real.urbanisation(data_dir=REAL))


def test_fetch_bad_download_and_bad_path(tmp_path):
    def wrong_bytes(url, output_file, pooch_obj):
        Path(output_file).write_bytes(b"not the file")

    with pytest.raises(DataError, match=r"urban_pop_share_province_Yh\.csv: download from https://"):
        registry.fetch(tmp_path, paths=[real.URBAN_FILE], downloader=wrong_bytes)
    assert not (tmp_path / real.URBAN_FILE).exists()
    with pytest.raises(ParameterError, match="not a registered data file"):
        registry.fetch(tmp_path, paths=["ceads-provinces/nope.xlsx"])


# --------------------------------------------------------------------------- CEADs


def test_province_totals_shape_and_identities():
    tot = real.ceads_province_totals(REAL)  # the book's release, 2001-2022
    assert tot.shape == (660, 3)
    assert set(tot["region"]) == set(PROVINCES)
    assert sorted(tot["year"].unique()) == list(range(2001, 2023))
    assert not tot.duplicated(["region", "year"]).any()
    fuels = real.ceads_province_fuels(REAL)
    assert fuels.shape == (30 * 22 * 18, 4)
    assert set(fuels["fuel"]) == set(real.CEADS_FUELS) | {"process"}
    # scope-2 and other-energy columns are zero, so fuels + process = scope-1 total
    s = fuels.groupby(["region", "year"])["emissions_mt"].sum()
    np.testing.assert_allclose(s.loc[list(zip(tot["region"], tot["year"], strict=True))].to_numpy(),
                               tot["emissions_mt"].to_numpy(), rtol=1e-9)
    sec = real.ceads_province_sectors(REAL)
    assert sec["sector"].nunique() == 47
    by_fuel = sec.groupby(["region", "year", "fuel"], observed=True)["emissions_mt"].sum()
    f = fuels.set_index(["region", "year", "fuel"])["emissions_mt"]
    np.testing.assert_allclose(by_fuel.loc[f.index].to_numpy(), f.to_numpy(), rtol=1e-9, atol=1e-9)
    power = real.ceads_power_sector_emissions(REAL).set_index(["region", "year"])["emissions_mt"]
    t = tot.set_index(["region", "year"])["emissions_mt"]
    assert (power >= 0).all() and (power <= t).all() and (power > 0).mean() > 0.99
    assert {g["region"] for g in tot.attrs["no_energy_data"]} == {"Hainan", "Ningxia"}
    assert max(g["year"] for g in tot.attrs["no_energy_data"]) < 2005  # before the panel


def test_national_totals_as_stated():
    nat = real.ceads_national(REAL).set_index("year")["emissions_mt"]
    assert list(nat.index) == list(range(1997, 2023))
    assert round(nat[1997]) == 2924 and round(nat[2019]) == 9795
    # provinces (30, no Tibet) carry most but not all of the national total
    prov = real.ceads_province_totals(REAL).groupby("year")["emissions_mt"].sum()
    share = prov.loc[2005:2017] / nat.loc[2005:2017]
    assert ((share > 0.85) & (share < 1.15)).all()


def test_loaders_return_copies():
    a = real.ceads_national(REAL)
    a.loc[0, "emissions_mt"] = -1.0
    a.attrs["units"]["emissions_mt"] = "changed"
    b = real.ceads_national(REAL)
    assert b.loc[0, "emissions_mt"] > 0 and b.attrs["units"]["emissions_mt"] == "Mt CO2"


def test_cities_coverage_and_crosswalk():
    c = real.ceads_cities(REAL)
    assert len(c) == 3929 and c["city_zh"].nunique() == 290
    assert list(c.columns) == ["city", "city_zh", "province", "year", "emissions_mt", "pilot_year"]
    n = c.groupby("year").size()
    assert {y: n[y] for y in (1997, 2000, 2005, 2010, 2015, 2019)} == {
        1997: 7, 2000: 107, 2005: 157, 2010: 257, 2015: 245, 2019: 170}
    assert c.loc[c["year"] == 1995, "city_zh"].tolist() == ["贵州贵阳"]
    assert c.loc[c["city_zh"] == "安徽巢湖", "year"].max() == 2010
    assert set(c["city_zh"]) == set(cities.CITY_NAMES)
    assert c.groupby("city_zh")["city"].nunique().eq(1).all() and c.groupby("city")["city_zh"].nunique().eq(1).all()
    assert set(c["province"]) <= set(PROVINCES)
    assert c.loc[c["city_zh"] == "内蒙古包头", "province"].iloc[0] == "Inner Mongolia"
    assert c["pilot_year"].isna().all()
    # the wide sheet agrees with the long one
    m = pd.read_excel(REAL / real.CITIES_FILE, sheet_name="emission matrix")
    assert int(m.iloc[:, 1:].notna().to_numpy().sum()) == len(c)


def test_city_crosswalk_helpers():
    t = cities.city_table()
    assert len(t) == 290 and t["city"].is_unique
    assert cities.resolve_city("安庆") == "安徽安庆"
    assert cities.resolve_city("Suzhou (Anhui)") == "安徽宿州"
    with pytest.raises(ParameterError, match="ambiguous"):
        cities.resolve_city("Suzhou")
    with pytest.raises(ParameterError, match="no province prefix"):
        cities.province_of("西藏拉萨")


# --------------------------------------------------------------------------- GCAM-China


def test_population_sources_and_heilongjiang_repair():
    pop = real.population(REAL)
    assert pop.shape == (30 * 45, 3) and set(pop["region"]) == set(PROVINCES)
    reps = pop.attrs["repairs"]
    assert [(r["region"], r["year"]) for r in reps] == [("Heilongjiang", 2013)]
    raw = pd.read_csv(REAL / real.CSY_POP_FILE, comment="#").set_index("Region")
    hl = raw.loc["Heilongjiang"]
    assert reps[0]["published"] == hl["2013"]
    v = pop.set_index(["region", "year"])["population_10k"]
    assert v["Heilongjiang", 2013] == (hl["2012"] + hl["2014"]) / 2
    assert v["Beijing", 2010] == raw.loc["Beijing", "2010"]  # yearbook from 2000
    comp = pd.read_csv(REAL / real.COMPENDIUM_FILE, comment="#").set_index("Region")
    assert v["Beijing", 1999] == comp.loc["Beijing", "1999"]  # compendium before


def test_urbanisation_and_gdp():
    u = real.urbanisation(REAL)
    assert u.shape == (30 * 47, 3) and u["urban"].between(0, 1).all()
    assert "Hong Kong" not in set(u["region"])
    g = real.gdp_real(REAL)
    assert g["gdp_musd2010"].isna().sum() == 3  # Hainan 1975-1977 blank
    assert (g.dropna()["gdp_musd2010"] > 0).all()


def test_generation_units_missing_years_and_hk_dropped():
    gen = real.generation_by_fuel(REAL)
    assert set(gen["region"]) == set(PROVINCES)
    assert sorted(gen["year"].unique()) == list(range(1994, 2018)) + [2021]
    miss = gen.loc[gen["year"].isin([2003, 2006])]
    assert len(miss) == 60 and miss.drop(columns=["region", "year"]).isna().all().all()
    raw = pd.read_csv(REAL / real.CPSY_FILE, comment="#")
    r = raw.loc[(raw["province.name"] == "Shanxi") & (raw["year"] == 2015)].iloc[0]
    g = gen.loc[(gen["region"] == "Shanxi") & (gen["year"] == 2015)].iloc[0]
    assert g["coal_gwh"] == pytest.approx(100 * r["coal"])
    assert g["other_gwh"] == pytest.approx(100 * (r["other"] + r["geothermal"]))
    assert (gen.dropna()[[c for c in gen.columns if c.endswith("_gwh")]] >= 0).all().all()
    assert [(x["region"], x["year"]) for x in gen.attrs["repairs"]] == [("Hainan", 2009)]


def test_net_imports_balance_and_signs():
    ni = real.net_electricity_imports(REAL)
    assert sorted(ni["year"].unique()) == list(range(2005, 2020)) and len(ni) == 30 * 15
    by_year = ni.groupby("year")[["net_import_gwh", "inflow_gwh"]].sum()
    # only trade with HK, Tibet and abroad is left over: small against the flows ...
    assert (by_year["net_import_gwh"].abs() < 0.1 * by_year["inflow_gwh"]).all()
    # ... and exactly minus (exports abroad + net imports of HK and Tibet), from the raw file
    raw = pd.read_csv(REAL / real.FLOWS_FILE, comment="#")
    raw = raw.loc[(raw["from.region"] != raw["to.region"]) & (raw["year"] <= 2019)]
    out_ = {"HK", "XZ"}
    resid = (raw.loc[raw["to.region"] == "Export"].groupby("year")["value"].sum()
             + raw.loc[raw["to.region"].isin(out_)].groupby("year")["value"].sum()
             - raw.loc[raw["from.region"].isin(out_)].groupby("year")["value"].sum())
    np.testing.assert_allclose(by_year["net_import_gwh"], -resid.reindex(by_year.index), rtol=1e-9)
    v = ni.set_index(["region", "year"])["net_import_gwh"]
    assert (v["Beijing"] > 0).all()
    assert (v["Inner Mongolia"] < 0).all() and (v["Shanxi"] < 0).all()
    np.testing.assert_allclose(ni["net_import_gwh"], ni["inflow_gwh"] - ni["outflow_gwh"])
    full = real.net_electricity_imports(REAL, include_copies=True)
    assert full.loc[full["copy_of_2019"], "year"].unique().tolist() == [2020, 2021]
    y19, y21 = (full.loc[full["year"] == y].set_index("region") for y in (2019, 2021))
    # copies of 2019, except the flows to Hong Kong that the HK fork re-estimated
    np.testing.assert_array_equal(y19["inflow_gwh"], y21["inflow_gwh"])
    differ = set(y19.index[y19["outflow_gwh"] != y21["outflow_gwh"]])
    assert differ <= {"Guangdong", "Guangxi", "Guizhou", "Yunnan"}
    np.testing.assert_allclose(y19["net_import_gwh"], y21["net_import_gwh"], rtol=1e-2)


def test_grid_mapping_agrees_with_regions():
    gm = real.grid_mapping(REAL)
    assert len(gm) == 30 and set(gm["region"]) == set(PROVINCES)
    for region, grid in zip(gm["region"], gm["grid"], strict=True):
        assert grid == grid_region(region), region


def test_real_panel_is_ce1_plus_ce2_with_process_apart():
    from carbonlab.data import panel as rp

    p = rp.real_panel(REAL)
    y0, y1 = p.attrs["years"]
    s0, s1 = p.attrs["span"]
    assert (s0, s1) == (int(p["year"].min()), int(p["year"].max())) and s0 <= y0 <= y1 <= s1
    assert len(p) == 30 * (s1 - s0 + 1) and not p.duplicated(["region", "year"]).any()
    inside = p["year"].between(y0, y1)
    assert p.loc[inside, p.attrs["drivers"]].notna().all().all()
    assert p[p.attrs["forecast_drivers"]].notna().all().all()
    assert len(p.attrs["forecast_drivers"]) >= 3 and (s0, s1) == (2005, 2022)
    assert p.attrs["release"] == "v2" and (y0, y1) == (2012, 2022)
    np.testing.assert_allclose(p["emissions_mt"], p["ce1_mt"] + p["ce2_mt"], rtol=1e-12)
    # CE1 = CEADs' 17 fossil fuels, process CO2 not in it
    fuels = real.ceads_province_fuels(REAL)
    tot = real.ceads_province_totals(REAL).set_index(["region", "year"])["emissions_mt"]
    m = p.set_index(["region", "year"])
    np.testing.assert_allclose(m["ce1_mt"] + m["process_mt"], tot.reindex(m.index), rtol=1e-9)
    assert (m["process_mt"] > 0).any()
    beijing = fuels[(fuels["region"] == "Beijing") & (fuels["fuel"] != "process")]
    assert m.loc[("Beijing", y1), "ce1_mt"] == pytest.approx(
        beijing[beijing["year"] == y1]["emissions_mt"].sum())
    # 13 drivers through 2022, each real or a documented proxy; the other five (students,
    # trade, college, environmental spending, garbage) have no public provincial file
    assert len(p.attrs["drivers"]) >= 13
    assert set(p.attrs["unavailable"]) <= {"student", "ltrade", "college", "lenvfund", "garbage"}
    assert set(p.attrs["drivers"]) | set(p.attrs["unavailable"]) == set(DRIVERS)
    cov = p.attrs["coverage"].set_index("driver")
    assert set(cov.index) == set(DRIVERS)
    for d in p.attrs["drivers"]:
        assert cov.loc[d, "status"] in ("real", "proxy")
        assert cov.loc[d, "first_year"] <= y0 and cov.loc[d, "last_year"] >= y1
    for d in p.attrs["unavailable"]:
        assert cov.loc[d, "status"] == "unavailable" and cov.loc[d, "how"]
    assert {"lcar", "fossil", "lindustry", "lconsume"} <= set(p.attrs["proxies"])
    for col in ("urban", "fossil", "gas", "tertrate"):
        assert p[col].dropna().between(0, 1).all()
    # electricity-only factors sit below the with-heat ones wherever a province has heat
    f = rp.electricity_only_grid_factors(REAL)
    assert (f["factor_tco2_per_mwh"] <= f["with_heat_tco2_per_mwh"]).all()
    assert (f["factor_tco2_per_mwh"] < f["with_heat_tco2_per_mwh"]).mean() > 0.9
    assert f.loc[f["year"].between(y0, y1), "factor_tco2_per_mwh"].between(0.3, 1.2).all()
    # Beijing imports (CE > CE1), Shanxi exports (CE < CE1)
    assert m.loc[("Beijing", y1), "ce2_mt"] > 0 > m.loc[("Shanxi", y1), "ce2_mt"]
    pd.testing.assert_frame_equal(p, rp.real_panel(REAL))


def test_heat_shares_2007_from_cesy():
    from carbonlab.data import panel as rp

    hs = rp.heat_shares_2007(REAL).set_index("region")
    assert len(hs) == 30 and hs["heat_share"].between(0, 1).all()
    # Beijing's power-and-heat sector is heat-heavy, Guangdong's is not
    assert hs.loc["Beijing", "heat_share"] > 0.3 > hs.loc["Guangdong", "heat_share"]


# --------------------------------------------------------------------------- bad inputs (CSV)


def _edit_csv(root: Path, rel: str, edit) -> int:
    """Apply ``edit(lines, header_index)`` to a copied CSV; return the header index."""
    path = root / rel
    lines = _csv_lines(path)
    h = _first_data_line(lines)
    edit(lines, h)
    path.write_text("".join(lines), encoding="utf-8")
    return h


def _set_cell(lines: list[str], i: int, col: int, value: str) -> None:
    parts = lines[i].rstrip("\n").split(",")
    parts[col] = value
    lines[i] = ",".join(parts) + "\n"


def test_csv_missing_column(tmp_path):
    root = _copy(tmp_path, real.URBAN_FILE)

    def drop_2000(lines, h):
        j = lines[h].rstrip("\n").split(",").index("2000")
        for i in range(h, len(lines)):
            parts = lines[i].rstrip("\n").split(",")
            del parts[j]
            lines[i] = ",".join(parts) + "\n"

    _edit_csv(root, real.URBAN_FILE, drop_2000)
    with pytest.raises(DataError, match=r"urban_pop_share_province_Yh\.csv: missing column\(s\) 2000"):
        real.urbanisation(data_dir=root, verify=False)


def test_csv_duplicate_row(tmp_path):
    root = _copy(tmp_path, real.CSY_POP_FILE, real.COMPENDIUM_FILE)
    h = _edit_csv(root, real.CSY_POP_FILE, lambda lines, h: lines.insert(h + 3, lines[h + 2]))
    line = h + 4  # 1-based number of the inserted line
    with pytest.raises(DataError, match=rf"China_Statistics_Yearbook\.csv, line {line}, column Region: duplicate row"):
        real.population(data_dir=root, verify=False)


def test_csv_unknown_province(tmp_path):
    root = _copy(tmp_path, real.URBAN_FILE)
    h = _edit_csv(root, real.URBAN_FILE, lambda lines, h: _set_cell(lines, h + 1, 0, "Atlantis"))
    with pytest.raises(DataError, match=rf"urban_pop_share_province_Yh\.csv, line {h + 2}, column province\.name: unknown region 'Atlantis'"):
        real.urbanisation(data_dir=root, verify=False)


def test_csv_nan_value(tmp_path):
    root = _copy(tmp_path, real.URBAN_FILE)
    h = _edit_csv(root, real.URBAN_FILE, lambda lines, h: _set_cell(lines, h + 5, 30, ""))
    col = _csv_lines(root / real.URBAN_FILE)[h].split(",")[30]
    with pytest.raises(DataError, match=rf"line {h + 6}, column {col}: missing"):
        real.urbanisation(data_dir=root, verify=False)


def test_csv_share_above_one(tmp_path):
    root = _copy(tmp_path, real.URBAN_FILE)
    h = _edit_csv(root, real.URBAN_FILE, lambda lines, h: _set_cell(lines, h + 2, 40, "1.5"))
    with pytest.raises(DataError, match=rf"urban_pop_share_province_Yh\.csv, line {h + 3}, column \d+: share outside \[0, 1\]"):
        real.urbanisation(data_dir=root, verify=False)


def test_csv_negative_generation_and_flow(tmp_path):
    root = _copy(tmp_path, real.CPSY_FILE, real.FLOWS_FILE, real.MAPPING_FILE)
    h = _edit_csv(root, real.CPSY_FILE, lambda lines, h: _set_cell(lines, h + 12, 3, "-5"))
    with pytest.raises(DataError, match=rf"CPSY_GWh_province_F_elec_out\.csv, line {h + 13}, column hydro: negative"):
        real.generation_by_fuel(data_dir=root, verify=False)
    h = _edit_csv(root, real.FLOWS_FILE, lambda lines, h: _set_cell(lines, h + 2, 2, "-1"))
    with pytest.raises(DataError, match=rf"ABSPI_intra_province_electricity_trade\.csv, line {h + 3}, column value: negative"):
        real.net_electricity_imports(data_dir=root, verify=False)


def test_csv_missing_column_generation_and_unknown_code(tmp_path):
    root = _copy(tmp_path, real.CPSY_FILE, real.FLOWS_FILE, real.MAPPING_FILE)
    _edit_csv(root, real.CPSY_FILE, lambda lines, h: lines.__setitem__(h, lines[h].replace("hydro", "hydr0")))
    with pytest.raises(DataError, match=r"CPSY_GWh_province_F_elec_out\.csv: missing column\(s\) hydro"):
        real.generation_by_fuel(data_dir=root, verify=False)
    h = _edit_csv(root, real.FLOWS_FILE, lambda lines, h: _set_cell(lines, h + 4, 0, "ZZ"))
    with pytest.raises(DataError, match=rf"line {h + 5}, column from\.region: unknown region code 'ZZ'"):
        real.net_electricity_imports(data_dir=root, verify=False)


def test_csv_duplicate_flow(tmp_path):
    root = _copy(tmp_path, real.FLOWS_FILE, real.MAPPING_FILE)
    h = _edit_csv(root, real.FLOWS_FILE, lambda lines, h: lines.insert(h + 2, lines[h + 1]))
    with pytest.raises(DataError, match=rf"line {h + 3}: duplicate flow"):
        real.net_electricity_imports(data_dir=root, verify=False)


# --------------------------------------------------------------------------- bad inputs (xlsx)


def _edit_xlsx(path: Path, sheet: str, edit) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    edit(wb[sheet])
    wb.save(path)


def _province_1997(tmp_path: Path) -> tuple[Path, Path]:
    rel = real.province_file(1997, "v1")
    root = _copy(tmp_path, rel)
    return root, root / rel


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda ws: ws.__setitem__("C10", 999.0), r"cell W10: scope-1 total .* differs from the sum of columns B-V"),
        (lambda ws: ws.__setitem__("W4", ws["W4"].value + 1.0), r"cell W4: scope-1 total"),
        (lambda ws: ws.__setitem__("D20", None), r"cell D20: missing value"),
        (lambda ws: ws.__setitem__("D20", "abc"), r"cell D20: not a number"),
        (lambda ws: ws.__setitem__("D20", -0.5), r"cell D20: negative value"),
        (lambda ws: ws.delete_cols(3), r"expected 51 rows x 23 columns \(A-W\), found 51 x 22"),
        (lambda ws: ws.delete_rows(12), r"expected 51 rows x 23 columns \(A-W\), found 50 x 23"),
        (lambda ws: ws.__setitem__("C1", "Coke"), r"cell C1: expected header 'Cleaned Coal'"),
        (lambda ws: ws.__setitem__("A12", "Mining"), r"cell A12: expected sector"),
    ],
    ids=["sector-cell", "total-cell", "nan", "text", "negative", "drop-column", "drop-row",
         "bad-header", "bad-sector"],
)
def test_province_workbook_bad_cells(tmp_path, edit, pattern):
    root, path = _province_1997(tmp_path)
    _edit_xlsx(path, "Beijing1997", edit)
    with pytest.raises(DataError, match=rf"provinces_1997\.xlsx, sheet 'Beijing1997'[,:] {pattern}"):
        real.ceads_province_totals(data_dir=root, verify=False, release="v1")


def test_province_workbook_unknown_and_duplicate_province(tmp_path):
    root, path = _province_1997(tmp_path)
    _edit_xlsx(path, "Beijing1997", lambda ws: setattr(ws, "title", "Atlantis1997"))
    with pytest.raises(DataError, match=r"sheet 'Atlantis1997': unknown region 'Atlantis'"):
        real.ceads_province_totals(data_dir=root, verify=False, release="v1")
    root, path = _province_1997(tmp_path / "b")
    _edit_xlsx(path, "Tianjin1997", lambda ws: setattr(ws, "title", "Peking1997"))
    with pytest.raises(DataError, match=r"provinces_1997\.xlsx, sheet '(Peking|Beijing)1997': duplicate sheet for Beijing"):
        real.ceads_province_totals(data_dir=root, verify=False, release="v1")


def test_cities_bad_rows(tmp_path):
    rel = real.CITIES_FILE
    root = _copy(tmp_path, rel)
    path = root / rel

    def dup(ws):
        ws.append([c.value for c in ws[5]])

    _edit_xlsx(path, "emission vector", dup)
    with pytest.raises(DataError, match=r"sheet 'emission vector', row 3931: duplicate of row 5"):
        real.ceads_cities(data_dir=root, verify=False)
    root = _copy(tmp_path / "b", rel)
    _edit_xlsx(root / rel, "emission vector", lambda ws: ws.__setitem__("B7", "西藏拉萨"))
    with pytest.raises(DataError, match=r"sheet 'emission vector', cell B7: city '西藏拉萨': no province prefix"):
        real.ceads_cities(data_dir=root, verify=False)
    root = _copy(tmp_path / "c", rel)
    _edit_xlsx(root / rel, "emission vector", lambda ws: ws.__setitem__("D9", -3.0))
    with pytest.raises(DataError, match=r"cell D9: negative value"):
        real.ceads_cities(data_dir=root, verify=False)


# --------------------------------------------------------------------------- issue-14 loaders


def test_nbs_series_and_spot_checks():
    from carbonlab.data import nbs

    s = nbs.nbs_series(REAL).set_index(["region", "year"])
    assert len(s) == 360 and s.notna().all().all()
    assert s.loc[("Beijing", 2015), "urban_population_10k"] / s.loc[("Beijing", 2015), "population_10k"] \
        == pytest.approx(0.8671, abs=1e-9)
    p = nbs.nbs_power(REAL)
    assert p["nonthermal_share"].between(0, 1).all() and len(p) == 360
    c = nbs.consumption_per_capita(REAL).set_index(["region", "year"])["consumption_yuan"]
    assert c[("Beijing", 2019)] == 43038 and c[("Shanghai", 2019)] == 45605
    assert sorted(c.index.get_level_values("year").unique()) == list(range(2016, 2025))
    sc = nbs.shu_ces(REAL).set_index(["region", "year"])
    assert sc.loc[("Beijing", 2020), "disposable_income_yuan"] == 69434
    assert sc.xs(2024, level="year")["civil_vehicles_10k"].isna().all()


def test_techme_tables_fix_spaces_and_typos():
    from carbonlab.data import techme

    pat = techme.techme_item("RDPatentAuthority", "发明", "inv", REAL).set_index(["region", "year"])
    assert pat.loc[("Beijing", 2020), "inv"] == 63266
    per_year = pat.reset_index().groupby("year")["region"].nunique()
    assert (per_year == 30).all()  # 2010 padded names and 2012 typos all resolved
    edu = techme.techme_item("PublicBudget", "教育", "edu", REAL).set_index(["region", "year"])
    assert edu.loc[("Beijing", 2020), "edu"] == pytest.approx(1138.29)
    with pytest.raises(ParameterError, match="unknown techme table"):
        techme.techme_table("Nope", REAL)


def test_cesy2008_balance_and_spot_check():
    from carbonlab.accounting import emission_factors
    from carbonlab.data import cesy2008

    b = cesy2008.energy_balance("北京", REAL)
    m = b.set_index(["item", "fuel"])["quantity"]
    assert m[("final_consumption", "gasoline")] == pytest.approx(324.72)
    assert m[("non_energy_use", "gasoline")] == pytest.approx(0.66)
    comb = cesy2008.combustion_2007(REAL)
    assert len(comb) == 30 * 17 and (comb["quantity"] >= 0).all()
    g = comb[(comb["region"] == "Beijing") & (comb["fuel"] == "gasoline")].iloc[0]
    mt = g["quantity"] * 1e7 * emission_factors("ndrc2011").loc["gasoline", "tco2_per_base"] / 1e6
    assert mt == pytest.approx(9.48, abs=0.01)  # README: 9.48 Mt without non-energy use
    assert any(r["region"] == "Shaanxi" for r in comb.attrs["repairs"])
    cf = cesy2008.conversion_factors(REAL).set_index("name")
    assert cf.loc["原煤", "ncv_kj"] == 20908 and cf.loc["天然气", "per"] == "m3"


def test_cesy2008_wrong_province_file_names_cell(tmp_path):
    from carbonlab.data import cesy2008

    root = _copy(tmp_path, "cesy2008/2.xls")
    shutil.copyfile(root / "cesy2008/2.xls", root / "cesy2008/1.xls")
    with pytest.raises(DataError, match=r"1\.xls, cell A1: balance of Tianjin, expected Beijing"):
        cesy2008.energy_balance("Beijing", root, verify=False)


def test_ipcc_efdb_defaults_rows():
    from carbonlab.data import ipcc_efdb

    d = ipcc_efdb.ipcc2006_defaults("Other Bituminous Coal", REAL)
    assert (d["ncv_tj_per_gg"], d["carbon_content_kg_per_gj"], d["cef_kg_per_tj"]) == (25.8, 25.8, 94600)
    assert (d["row_ncv_tj_per_gg"], d["row_carbon_content_kg_per_gj"]) == (11036, 11089)
    ng = ipcc_efdb.ipcc2006_defaults("Natural Gas", REAL)
    assert ng["carbon_content_kg_per_gj"] == 15.3 and ng["row_carbon_content_kg_per_gj"] == 11102
    with pytest.raises(ParameterError, match="no IPCC 2006 default"):
        ipcc_efdb.ipcc2006_defaults("Liquefied Natural Gas", REAL)


def test_ipcc2006_factor_rows_match_the_efdb_file():
    from carbonlab.data import ipcc_efdb
    from carbonlab.data.factors import load_fuel_factors

    names = {"raw_coal": "Other Bituminous Coal", "coke": "Coke Oven Coke", "crude_oil": "Crude Oil",
             "gasoline": "Motor Gasoline", "kerosene": "Other Kerosene", "diesel": "Diesel Oil",
             "fuel_oil": "Residual Fuel Oil", "lpg": "Liquefied Petroleum Gases",
             "natural_gas": "Natural Gas", "blast_furnace_gas": "Blast Furnace Gas",
             "converter_gas": "Oxygen Steel Furnace Gas", "coke_oven_gas": "Coke Oven Gas"}
    tab = load_fuel_factors("ipcc2006").set_index("fuel")
    for fuel, name in names.items():
        try:
            d = ipcc_efdb.ipcc2006_defaults(name, REAL)
        except ParameterError:
            d = ipcc_efdb.ipcc2006_defaults(name + " and Lignite Coke", REAL)
        assert tab.loc[fuel, "carbon_content_tc_per_tj"] == pytest.approx(d["carbon_content_kg_per_gj"]), fuel
        assert tab.loc[fuel, "cef_tco2_per_tj"] == pytest.approx(d["cef_kg_per_tj"] / 1e3), fuel
        if tab.loc[fuel, "ncv_unit"] == "kJ/kg":
            assert tab.loc[fuel, "ncv"] == pytest.approx(d["ncv_tj_per_gg"] * 1e3), fuel


def test_targets_flags_sources_and_national_defaults():
    from carbonlab.data import load_targets, targets

    pub = targets.published_targets(REAL)
    assert pub.attrs["national"] == {2025: 0.20, 2030: 0.25}
    bj = pub[pub["region"] == "Beijing"]
    assert set(bj["measure"]) == {"renewable"}
    assert pub.loc[pub["status"] == "lead", "confirmed"].eq(False).all()
    conf = targets.confirmations()
    rec = pub[pub["status"] == "lead, confirmed"]
    assert rec["confirmed"].all() and len(rec) == len(conf)  # every confirmation matched a lead
    assert rec["source"].str.startswith("http").all()
    assert pub.loc[pub["status"] == "quoted", "confirmed"].all()
    assert (pub["source"].str.len() > 0).all()
    t = load_targets("ceads", REAL)
    assert len(t) == 60 and set(t["driver"]) == {"fossil"}
    d = t[t["status"] == "national default"]
    assert len(d) and not d["confirmed"].any()
    assert set(d.loc[d["year"] == 2025, "value"]) == {0.20}
    sc = t.set_index(["region", "year"])
    assert sc.loc[("Sichuan", 2030), "value"] == pytest.approx(0.435)


def test_consumption_csv_bad_cell_names_line_and_column(tmp_path):
    from carbonlab.data import nbs

    rel = nbs.CONSUMPTION_FILE
    root = _copy(tmp_path, rel)
    text = (root / rel).read_text(encoding="utf-8-sig")
    text = text.replace("43038", "43o38", 1)
    (root / rel).write_text(text, encoding="utf-8-sig")
    with pytest.raises(DataError, match=r"分省年度数据消费支出\.csv, line \d+, column \d+ \(2019\): not a number") as exc:
        nbs.consumption_per_capita(root, verify=False)
    assert "\n" not in str(exc.value)
    with pytest.raises(DataError, match="sha256 mismatch"):
        nbs.consumption_per_capita(root)


def test_shu_ces_bad_json_is_a_dataerror(tmp_path):
    from carbonlab.data import nbs

    rel = nbs.SHU_CES_FILE
    root = _copy(tmp_path, rel)
    (root / rel).write_text('{"北京市": [{"年份": "2005", "民用汽车拥有量(万辆)": -1}]', encoding="utf-8")
    with pytest.raises(DataError, match="merged_provincial_data.json: not valid JSON"):
        nbs.shu_ces(root, verify=False)


def test_forecasting_inputs_fit_the_chapters():
    from carbonlab.data import panel as rp
    from carbonlab.models import rolling_origin_splits

    fi = rp.forecasting_inputs(REAL)
    p, drivers = fi["panel"], fi["drivers"]
    assert set(drivers) == set(p.attrs["forecast_drivers"]) and len(drivers) >= 3
    assert p[list(drivers)].notna().all().all()
    assert not set(p.attrs["drivers"]) - set(drivers) & set(p.columns)  # other drivers dropped
    assert len(rolling_origin_splits(p, n_folds=3, horizon=2)) == 3  # enough years for selection
    assert set(fi["targets"]["region"]) == set(PROVINCES)
    # population: the panel carries the UN WPP path the scenarios' rule follows
    from carbonlab.scenarios import population_path

    assert fi["population_projection"] is None and 2030 in p.attrs["national_population"]
    pop = population_path(p)
    assert pop["year"].max() == 2030 and "UN WPP 2024" in pop.attrs["rule"]


def test_other_gas_origin_split_conserves_volume():
    from carbonlab.accounting import _study_rows
    from carbonlab.data import cesy2008

    o = cesy2008.other_gas_origin_2007(REAL).set_index("region")
    assert o["manufactured_share"].dropna().between(0, 1).all()
    assert o.loc["Beijing", "manufactured_share"] == 1.0  # no steel-works gas in Beijing's 2007 balance
    assert 0 < cesy2008.other_gas_origin_2007(REAL).attrs["national_share"] < 1
    comb = cesy2008.combustion_2007(REAL)
    rows = _study_rows(comb)
    og = rows[rows["source_fuel"] == "other_gas"]
    assert set(og["fuel"]) == {"other_gas", "blast_furnace_gas", "converter_gas"}
    np.testing.assert_allclose(og["quantity"].sum(), comb.loc[comb["fuel"] == "other_gas", "quantity"].sum())
