"""Registry of the real public data files: path, sha256, size and source URL.

Every file of the shared data mirror (``$CARBONLAB_DATA_DIR``, ``MANIFEST.csv``)
is listed here with the SHA-256 of its bytes and the raw-file URL of the GitHub
repository it was copied from, at the commit it was copied at. This is metadata,
not data: no value from the files is stored in the package.

- :func:`data_dir` finds the local mirror (``CARBONLAB_DATA_DIR``, else
  ``../shared/data`` beside the repository).
- :func:`check_file` is called by every loader before it reads a file: a
  missing file, a hash mismatch or an unreadable workbook is a
  :class:`~carbonlab._util.DataError` that names the file.
- :func:`verify` checks the whole mirror; :func:`fetch` downloads files with
  pooch (``known_hash`` checked) on a machine with internet access.

The two ``gcam-china/`` CSVs of the mirror were written from a code index's
stored text (same byte length as upstream); if upstream's bytes ever differ,
:func:`fetch` reports a hash mismatch for them rather than accept other bytes.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from carbonlab._util import DataError, ParameterError, repo_root, sha256_file

__all__ = [
    "ENV_VAR",
    "Entry",
    "REGISTRY",
    "data_dir",
    "entry",
    "registry_table",
    "check_file",
    "verify",
    "fetch",
]

ENV_VAR = "CARBONLAB_DATA_DIR"
_RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"

# (source repository, commit the files were copied at)
_OC = ("Open-Earth-Foundation/OpenClimate", "822037b737999c397f58b442a5a31e4098dd42e1")
_GC = ("umd-cgs/gcam-china", "99a28acdb391c52e880400adf12a079b954e500b")
_HK = ("Daifei-Huang/gcam-hk-v8test", "2cc6bf0f8858a05a5c31139c7cacad5fafa2d0aa")

# path in the mirror, sha256, bytes, (repo, commit), path in the source repository
_ROWS: list[tuple[str, str, int, tuple[str, str], str]] = [
    ("ceads-cities/README.md", "4c0d16fc3974862c546579d0a6e1a51ec4870e0abfdc1b9e8febd2fcb9d35041", 1987, _OC, "harmonize/data/raw/CEADS_china_cities/README.md"),
    ("ceads-cities/The_Emission_Inventories_for_290_Chinese_Cities_from_1997_to_2019.xlsx", "5794f4b3e7f4a9be6badd8e91b498ea2ab90069126e31e2491648f74867f89d0", 233068, _OC, "harmonize/data/raw/CEADS_china_cities/The_Emission_Inventories_for_290_Chinese_Cities_from_1997_to_2019.xlsx"),
    ("ceads-national/China_CO2_Inventory_1997-2019_(IPCC_Sectoral_Emissions).xlsx", "a2b3963410307e9ee4ad50be309925483aa82a89291894231739617cf7c45ef7", 335532, _OC, "harmonize/data/raw/CEADS_china/China_CO2_Inventory_1997-2019_(IPCC_Sectoral_Emissions).xlsx"),
    ("ceads-national/README.md", "9b63a5154a56a657527d8a84cbe81383ad053f75b6d3b6fabdb153f14a1b2c4f", 1778, _OC, "harmonize/data/raw/CEADS_china/README.md"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_1998.xlsx", "b58458355176c52970053d64c9b607799754b5e0cc0dce362ec2218a527e682e", 279726, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_1998.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_1999.xlsx", "410087caf8e4b5021110d9b785efeb4dee12e2551aac8408ed3ea0aecaad21fc", 281592, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_1999.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2000.xlsx", "979ef41e84d35abff39863df4d5c69ccc142957a1efa37bdab126d850a7403db", 278009, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2000.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2001.xlsx", "a0c20eec88dd8555eee6d9ce4fab019df392048acdb2c11b3f54e708c7a1238c", 274369, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2001.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2002.xlsx", "51a594e6e16f0e8413c41d5b131eca63bd0076adabb504e95a52ca4db9b7b193", 273835, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2002.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2003.xlsx", "93703ce508ea26cc106066a995a6a76108a66f853e0b42c9b4977140026c96b4", 282359, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2003.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2004.xlsx", "2b2e55326473f03ec406232abb3be849aa703d464ef04f71db710403e22d1d03", 285630, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2004.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2005.xlsx", "441f083ce0396bb9c0ca868e7d8baacca42bddc0d99e38561b85fd68a9f6cd69", 289248, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2005.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2006.xlsx", "76c3d43b5202e12b26be0b4f94a5190421e3e83c1b2e899f7d627b10ba1ec199", 291576, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2006.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2007.xlsx", "c728f41ed984273a43e62b8fe6ed7feff7eb3507cbe948e185849580b0c57f8a", 293451, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2007.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2008.xlsx", "0dfe061b14facfbcfcff60d0a5467d25d4a7b40766fe1bc39552e913bb2abf90", 298344, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2008.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2009.xlsx", "84d9d1fa227644b251ced362cc7986ddfce3bad6ebfd0f6ca83e4f9a2d24d8c2", 295972, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2009.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2010.xlsx", "ff548443377d491eb090b67c4891b2a6680c53b011721d3ab4cafeeb54cd3934", 297196, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2010.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2011.xlsx", "f643f994051397c4dc35c50eea96c1df915127a6667706f36b07de0c66cf04bf", 294461, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2011.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2012.xlsx", "3b34f85eb82fb7169ac48dc86ceeae9aba91d1e210532febdbc518fffd0eb338", 295762, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2012.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2013.xlsx", "722ef5fbfdbd41af7837b19994d55a110be731bfce3703da60f333fb11c05c5d", 295308, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2013.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2014.xlsx", "fa91bcbff5c06db5eb75341a46e4361d2fe57a5015761937424e39d41b7d9230", 294346, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2014.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2015.xlsx", "0bcf34929d09d1cb4211302169f6bffc487214ed67196220b13f520970511f3f", 292937, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2015.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2016.xlsx", "dc8209ac08708cd77133b23a5eb782b9d1d8238c22beeab6ae300778bf66db03", 287456, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2016.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2017.xlsx", "c69579634a2663fccc6a9258cd576f9f5c6729d6cad9f2a348848efdd3b5faf5", 288122, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2017.xlsx"),
    ("ceads-provinces/Emission_inventories_for_30_provinces_1997.xlsx", "6895b6f1dfa58c1c33af132676055d8a75f65b5d6db004061c49671680501b9d", 280889, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_inventories_for_30_provinces_1997.xlsx"),
    ("ceads-provinces/README.md", "bfee0550ef08aace3ac5b68417e6ced279984fcf810b00ffdf76077510eb3e47", 2452, _OC, "harmonize/data/raw/CEADS_china_provinces/README.md"),
    ("gcam-china-hk/ABSPI_intra_province_electricity_trade.csv", "2078d5a52c0269d6acbc3660309e68af87d83d18f867b7a5392e015294630e8c", 301911, _HK, "input/gcamdata/inst/extdata/gcam-china/ABSPI_intra_province_electricity_trade.csv"),
    ("gcam-china-hk/CPSY_GWh_province_F_elec_out.csv", "83d403aebce4f97e7153cf97276fa3fb76bb97a496f6ceeb50ea4de6e6d0f5bc", 39278, _HK, "input/gcamdata/inst/extdata/gcam-china/CPSY_GWh_province_F_elec_out.csv"),
    ("gcam-china-hk/China_Compendium_of_Statistics.csv", "76b30ccf09ba53f1b14866e95ccab8cab406b71ce268428b19f4c9bdfd5bc64b", 8745, _HK, "input/gcamdata/inst/extdata/gcam-china/China_Compendium_of_Statistics.csv"),
    ("gcam-china-hk/NBS_CESY_mappings.xlsx", "dd8970c8f36063e39f0f6addf02cb542cfa73cf89620fde9ea7b00c8d47817a1", 11953, _HK, "input/gcamdata/inst/extdata/gcam-china/NBS_CESY_mappings.xlsx"),
    ("gcam-china-hk/NBS_CESY_material.csv", "83b8615abbcb83ce8e0f1983dc32c020e028f2c814fbab46dce9460b4fb82918", 888, _HK, "input/gcamdata/inst/extdata/gcam-china/NBS_CESY_material.csv"),
    ("gcam-china-hk/NBS_CESY_process.csv", "2294b617741e6d19bc05af3776e764e37a0f97de6350f9aabb1ab4250d824c1a", 1348, _HK, "input/gcamdata/inst/extdata/gcam-china/NBS_CESY_process.csv"),
    ("gcam-china-hk/gdp_mil10usd_province.csv", "e7f28edec761bc1eb99f06b02bd9fdbc0dbb6609427e293aaf168981c24c2482", 50048, _HK, "input/gcamdata/inst/extdata/gcam-china/gdp_mil10usd_province.csv"),
    ("gcam-china-hk/population_thous_province.csv", "c041de558727f14eb9c9b920077bb22c1c0bfa7f73e228fdba8dcde81a2de011", 48799, _HK, "input/gcamdata/inst/extdata/gcam-china/population_thous_province.csv"),
    ("gcam-china-hk/province_names_mappings.csv", "89cf15f25160d98e85096066127905e23dc77e3a53736e0eb2637b0b232a727e", 1925, _HK, "input/gcamdata/inst/extdata/gcam-china/province_names_mappings.csv"),
    ("gcam-china-hk/urban_pop_share_province.csv", "60b292842687dd86509c6a5182bd41dd7dd1098342ab095c1f531ca6b71d7a58", 48321, _HK, "input/gcamdata/inst/extdata/gcam-china/urban_pop_share_province.csv"),
    ("gcam-china-hk/urban_pop_share_province_Yh.csv", "a8bbafd94252652b30a041b2dc52dc4e4d4ad866a4a5cd1758991f4da5d89aac", 16514, _HK, "input/gcamdata/inst/extdata/gcam-china/urban_pop_share_province_Yh.csv"),
    ("gcam-china/China_Statistics_Yearbook.csv", "a8fd8f8ac572961be5581b34a3e8f2a4901d8accfc5d7cb6936208eed9c0b083", 4323, _GC, "input/gcamdata/inst/extdata/gcam-china/China_Statistics_Yearbook.csv"),
    ("gcam-china/GDP_raw.csv", "846043a85910eb004eb382bf444ad63eafe6dc09d5fa5984bab4b88df7188a4d", 13235, _GC, "input/gcamdata/inst/extdata/gcam-china/GDP_raw.csv"),
]


@dataclass(frozen=True)
class Entry:
    """One registered file."""

    path: str
    sha256: str
    size: int
    repo: str
    commit: str
    source_path: str

    @property
    def url(self) -> str:
        """Raw-file URL of the source repository at the recorded commit."""
        return _RAW.format(repo=self.repo, commit=self.commit, path=quote(self.source_path))


REGISTRY: dict[str, Entry] = {
    p: Entry(p, h, n, src[0], src[1], sp) for p, h, n, src, sp in _ROWS
}
"""Registered files by their path relative to the data directory."""


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The local mirror of the real data.

    Parameters
    ----------
    path
        Explicit directory; if None, ``$CARBONLAB_DATA_DIR``, else
        ``../shared/data`` beside the repository root when that exists.

    Raises
    ------
    DataError
        If no directory is given or found, or the one given does not exist.
    """
    if path is None:
        env = os.environ.get(ENV_VAR)
        if env:
            path = env
        else:
            fallback = repo_root().parent / "shared" / "data"
            if fallback.is_dir():
                return fallback.resolve()
            raise DataError(
                f"no real-data directory: set {ENV_VAR} to a local mirror "
                f"or run `carbonlab data fetch` (looked for {fallback})"
            )
    d = Path(path).expanduser()
    if not d.is_dir():
        raise DataError(f"real-data directory {d} does not exist ({ENV_VAR})")
    return d.resolve()


def entry(path: str) -> Entry:
    """The registry entry of ``path`` (relative to the data directory)."""
    key = Path(path).as_posix()
    if key not in REGISTRY:
        raise ParameterError(f"path {path!r} is not a registered data file (see registry_table())")
    return REGISTRY[key]


def registry_table() -> pd.DataFrame:
    """One row per registered file: path, sha256, bytes, repo, commit, url."""
    rows = [(e.path, e.sha256, e.size, e.repo, e.commit, e.url) for e in REGISTRY.values()]
    return pd.DataFrame(rows, columns=["path", "sha256", "bytes", "repo", "commit", "url"])


_HASHES: dict[tuple[str, int, int], str] = {}


def _sha256_cached(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = sha256_file(path)
    return _HASHES[key]


def check_file(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    verify_hash: bool = True,
) -> Path:
    """Check one data file before a loader reads it; return its absolute path.

    Parameters
    ----------
    path
        Path relative to ``root`` (or absolute inside it).
    root
        Data directory (see :func:`data_dir`).
    verify_hash
        Compare the file's SHA-256 with the registry (registered files only).

    Raises
    ------
    DataError
        File missing; SHA-256 differs from the registry (both hashes named);
        an ``.xlsx`` that is not a readable zip archive (truncated or corrupt).
    """
    base = data_dir(root)
    p = Path(path)
    full = p if p.is_absolute() else base / p
    try:
        rel = full.relative_to(base).as_posix()
    except ValueError:
        rel = None
    if not full.is_file():
        raise DataError(f"{full}: data file not found (run `carbonlab data fetch` or set {ENV_VAR})")
    if verify_hash and rel in REGISTRY:
        actual = _sha256_cached(full)
        expected = REGISTRY[rel].sha256
        if actual != expected:
            raise DataError(
                f"{full}: sha256 mismatch, expected {expected}, found {actual} "
                "(file modified or corrupt; re-fetch it)"
            )
    if full.suffix.lower() == ".xlsx":
        try:
            with zipfile.ZipFile(full) as zf:
                bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise DataError(f"{full}: not a readable xlsx workbook ({exc})") from None
        if bad is not None:
            raise DataError(f"{full}: corrupt xlsx workbook (member {bad} fails its CRC check)")
    return full


def verify(root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Hash every registered file of the mirror.

    Returns
    -------
    DataFrame
        path, expected, actual (None when the file is missing), ok (bool).
    """
    base = data_dir(root)
    rows = []
    for e in REGISTRY.values():
        f = base / e.path
        actual = _sha256_cached(f) if f.is_file() else None
        rows.append((e.path, e.sha256, actual, actual == e.sha256))
    return pd.DataFrame(rows, columns=["path", "expected", "actual", "ok"])


def fetch(
    dest: str | os.PathLike[str],
    paths: Iterable[str] | None = None,
    downloader: Callable[..., object] | None = None,
) -> list[Path]:
    """Download registered files into ``dest`` with pooch, checking their SHA-256.

    Parameters
    ----------
    dest
        Target data directory (created if needed); files keep their registry paths.
    paths
        Registered paths to fetch (default: all).
    downloader
        A pooch downloader ``(url, output_file, pooch)``; default chosen by pooch.

    Returns
    -------
    list of Path
        The local files. Files already present with the right hash are not fetched again.

    Raises
    ------
    ParameterError
        An unregistered path.
    DataError
        A download fails or its hash differs (the file and URL are named).
    """
    import pooch

    targets = list(REGISTRY.values()) if paths is None else [entry(p) for p in paths]
    dest = Path(dest)
    out = []
    for e in targets:
        rel = Path(e.path)
        folder = dest / rel.parent
        folder.mkdir(parents=True, exist_ok=True)
        try:
            got = pooch.retrieve(
                e.url,
                known_hash=f"sha256:{e.sha256}",
                fname=rel.name,
                path=folder,
                downloader=downloader,
                progressbar=False,
            )
        except ValueError as exc:  # pooch's hash mismatch
            msg = " ".join(str(exc).split())
            raise DataError(f"{dest / rel}: download from {e.url} failed its check: {msg}") from None
        except Exception as exc:  # network errors of any kind
            raise DataError(f"{dest / rel}: download from {e.url} failed ({type(exc).__name__}: {exc})") from None
        out.append(Path(got))
    return out
