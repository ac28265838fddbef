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
    "unknown_files",
    "fetch",
]

ENV_VAR = "CARBONLAB_DATA_DIR"
_RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"

# (source repository, commit the files were copied at)
_OC = ("Open-Earth-Foundation/OpenClimate", "822037b737999c397f58b442a5a31e4098dd42e1")
_GC = ("umd-cgs/gcam-china", "99a28acdb391c52e880400adf12a079b954e500b")
_HK = ("Daifei-Huang/gcam-hk-v8test", "2cc6bf0f8858a05a5c31139c7cacad5fafa2d0aa")
# repositories of the files added in issue 14 (commit per file, see the mirror's README)
_TM = "huhuaping/techme"
_SC = "ahia11/SHU-CES---ttc-platform"
_NE = "Liushenwuzhu-Alpaca/province-economy"
_WK = "Wack520/academic-data-hunter"
_CY = "zhangda1021/data"
_EF = "atmoschem/pega"
# issue 22: the 2001-2022 CEADs release, energy inventories, NBS provincial series, UN WPP
_TJ = ("fallingsnow1111/TJJM", "071ff1169dac65d432598b89c3ed961c1bbf6387")
_UN = ("sudip70/stats", "a009be989e038568e4698a3fe659d3e8ec7ac3dd")

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
    ('cesy2008/0401.xls', "ece8839f0f7cb520231492a7f303066f24e7f47dee9218e9667c9d95b618cbb3", 45568, (_CY, "113fd3b77fb3ae1b0cb142891eba72e6800b49ed"), 'ChinaBalancedSAM/energydata/rawdata/0401.xls'),
    ('cesy2008/0402.xls', "24ee04a2ddbf7761625794161741be18c40cdd750187973fb5343e12aa7b631d", 31232, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/0402.xls'),
    ('cesy2008/1.xls', "3b1a7ad388da7669ebdf6b6489260deba18419c88937e59f35ce2bad426df237", 58368, (_CY, "113a38881acc84e2675cc5a7f2533a843908dfb3"), 'ChinaBalancedSAM/energydata/rawdata/1.xls'),
    ('cesy2008/10.xls', "402309ebd375d712e329f23fc2dac43589b321307b4002a7ac178c6b8865d8bf", 29696, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/10.xls'),
    ('cesy2008/11.xls', "51b3d0fc7a28a4e658cd5c90edb041a79b8be45498f73cac48b321da963c8002", 31232, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/11.xls'),
    ('cesy2008/12.xls', "7fcbd9d8751824af0bf30d3884fa01d54252d234fd674b2f19375afc58520668", 30208, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/12.xls'),
    ('cesy2008/13.xls', "5bf8df2e91c28d6c52fb10a7e82b41edd31865c367339ea36a10e049821346d1", 28672, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/13.xls'),
    ('cesy2008/14.xls', "ca37d41b059910910f0ae587c40fe9b3129c11e134a41fd487d80f5ecbc990ea", 29184, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/14.xls'),
    ('cesy2008/15.xls', "3c48a288538187c39d3b71090be2fba3dd6a14fe93669ff9a82d87876363a008", 31232, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/15.xls'),
    ('cesy2008/16.xls', "1abe2be1332af73bf7be414ddad6b78cad275adeac0109179a5edb3f5e0be03f", 29184, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/16.xls'),
    ('cesy2008/17.xls', "c1d0b016c3ca71e35d58f983a207054a0f578147ee7768d80bceb3c4f0d982fb", 28672, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/17.xls'),
    ('cesy2008/18.xls', "4e118799564f17da0496fe4ad3b2cae28a66bbd57e55a073844bf7f8ebcb898e", 29696, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/18.xls'),
    ('cesy2008/19.xls', "428d446bc5a6c44aa19f3491594a877235151eba5d1d91e92e551cb3797c869d", 30208, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/19.xls'),
    ('cesy2008/2.xls', "eb093e5b4c4bc0a568a77b49265d58a87bae514d1f582b35c7b80101725fb83b", 39936, (_CY, "895b083d3a464f635a8dc44bdf77dcbcf085a668"), 'ChinaBalancedSAM/energydata/rawdata/2.xls'),
    ('cesy2008/20.xls', "90b4fc5b10cd302fa66e1fcb650a769e652e484ab224a221a5f2c3966f93a3fc", 29696, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/20.xls'),
    ('cesy2008/21.xls', "37c38d0296ebe4ef901553a7feaece40c3fffc0412882f16255fc4bc575de592", 28160, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/21.xls'),
    ('cesy2008/22.xls', "b09c8f8e6fa05b5045c23d2cfdef4903704f6092cdc1c45803470cb7b7359282", 28672, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/22.xls'),
    ('cesy2008/23.xls', "90cc60e00066e37ad372c7ff5b284b37448d2ae1abd655a2bded05274a0ded03", 28672, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/23.xls'),
    ('cesy2008/24.xls', "8ab0693418c72c8a2ee56d34e39e5a8b6edf8bc8abb7cca4160aa062f556fa9f", 29184, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/24.xls'),
    ('cesy2008/25.xls', "fd71bee4a89e8fbb226743111344b167b67ad392b52af6810a7bc24223b20dd5", 31232, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/25.xls'),
    ('cesy2008/26.xls', "6321d38917e808eb6604789fc5c2eb4f3075f092fcba6e4272615c8a0f52b6cd", 29184, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/26.xls'),
    ('cesy2008/27.xls', "33996eda8fa3911f7e1a83b7c6038d09418e2fb453c90050e22211fd56392423", 29184, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/27.xls'),
    ('cesy2008/28.xls', "d287761c3e3be85165b59588eb255f0f4d5004cef28ff8986058d29934690675", 31232, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/28.xls'),
    ('cesy2008/29.xls', "e14dab61c2d98af04928bac651b420f16a7cd3f9010112d7236e22c6dfd6c005", 29184, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/29.xls'),
    ('cesy2008/3.xls', "bea9650ff32452748ab85cf9530c5140de9239b8a39c5167587e259365cea8cb", 31232, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/3.xls'),
    ('cesy2008/30.xls', "e71dd51a60ba1cf9b06f6b1d13ce3ba0c9dd355000f440f08e6fd424d2b61dff", 29696, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/30.xls'),
    ('cesy2008/4.xls', "8aac388935121aa0487dd33b567c28ccb17dceb7403b6018ce11245c254807f9", 29184, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/4.xls'),
    ('cesy2008/5.xls', "c5a51f7110c7d7f96f5d5ef94e914b445e6a7cce07f517241facaaade09b6e43", 31744, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/5.xls'),
    ('cesy2008/6.xls', "4293883381898aec0c58ec13e91b4ab8b439a6a0f118cf894749f723128ec19f", 29696, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/6.xls'),
    ('cesy2008/7.xls', "4b9dbfdb2892ff77057328a072835d3ee14f7855f98a12fce59c44a876c2c970", 29696, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/7.xls'),
    ('cesy2008/8.xls', "7fff9c4aa1a97080646cde81df4d86c6c0420ab247b13e57c61d888a6686675e", 29184, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/8.xls'),
    ('cesy2008/9.xls', "75e2279dc97300216a90e6de10e6df09bc4db07b8a8a7a7361740fdcc5cbdd57", 30208, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/9.xls'),
    ('cesy2008/fu04.xls', "015f9e20264156db883d221044c3520ef77d0f87cb0b456dc7ebdcd05fdd8ca6", 22016, (_CY, "096fc4805f8e58bd3d04783475a1d1d04a31f3d6"), 'ChinaBalancedSAM/energydata/rawdata/fu04.xls'),
    ('ipcc-efdb/IPCC_EFDB_output_20260207.xlsx', "78821f6f668e36337a53f53a139e89703477ab0ae130431e3ca02f261ed4321b", 2959059, (_EF, "c61aa4a5e0e82061267f773f149b456456e905c6"), 'db/IPCC_EFDB_output_20260207.xlsx'),
    ('nbs-exports/分省年度数据消费支出.csv', "8b1eab6d5bea38e1e07349bce56a84dd41ddd06367f1f9fd26a4660c1f0efe49", 2547, (_NE, "46e915f3ce81ca7d577c865f57e7f8579cdd9b83"), 'data/raw/nbs_exports/分省年度数据消费支出.csv'),
    ('nbs-wack520/cases/case01-nev-carbon/README.md', "d384c9a28e401ebfaeb8eacb759f88681d6595eaef686769f84e540be9d019f8", 2253, (_WK, "bfc6a82d71eae1b38a5818b560d4a944032676b9"), 'cases/case01-nev-carbon/README.md'),
    ('nbs-wack520/cases/case01-nev-carbon/data/panel_30prov_2012_2023.csv', "f9ed85aee5133fb6b961c8c680687581ba9010db1d906991f90452ef238da660", 58709, (_WK, "84056bf50e76ee6ec87cf0f5455dba64fbe9ce08"), 'cases/case01-nev-carbon/data/panel_30prov_2012_2023.csv'),
    ('nbs-wack520/cases/case01-nev-carbon/data/source_registry.csv', "8bf1f566bd09c9d59db20607720514876b4946cc01eb07095502e5994cf8921e", 6127, (_WK, "4c5e53f9c28805a0699c7b82b89e1d4b1c967c0b"), 'cases/case01-nev-carbon/data/source_registry.csv'),
    ('nbs-wack520/cases/case01-nev-carbon/data/数据来源说明.md', "8fb4651cf568ae8f7d487fcd14e4a3183571415e8405dc3934184ef608b959ea", 3622, (_WK, "4c5e53f9c28805a0699c7b82b89e1d4b1c967c0b"), 'cases/case01-nev-carbon/data/数据来源说明.md'),
    ('nbs-wack520/cases/case02-nev-emission-controls/README.md', "e2c7ee6cb135f2946b987e4050b88224e810ceb2896ae75f91bd6dc464c87a47", 3641, (_WK, "ce20d1f572f3aa21c7bfb66b962e667d613d67e4"), 'cases/case02-nev-emission-controls/README.md'),
    ('nbs-wack520/cases/case02-nev-emission-controls/data/nbs_freight_turnover_100m_tkm.csv', "e71215576aecf64a774eafd311c3c9498edea5203eeffffab51a0a65a18da0a9", 10639, (_WK, "4c5e53f9c28805a0699c7b82b89e1d4b1c967c0b"), 'cases/case02-nev-emission-controls/data/nbs_freight_turnover_100m_tkm.csv'),
    ('nbs-wack520/cases/case02-nev-emission-controls/data/nbs_gdp_100m_cny.csv', "24c704dbd018af8f6ded63bb2f024b39a221aac842e43f74a45ef034d077b0e3", 8873, (_WK, "4c5e53f9c28805a0699c7b82b89e1d4b1c967c0b"), 'cases/case02-nev-emission-controls/data/nbs_gdp_100m_cny.csv'),
    ('nbs-wack520/cases/case02-nev-emission-controls/data/nbs_passenger_turnover_100m_pkm.csv', "91b3c85b8071beddacccb51a645c9e47c949640b97876bd786e7a2785ca59a53", 10002, (_WK, "4c5e53f9c28805a0699c7b82b89e1d4b1c967c0b"), 'cases/case02-nev-emission-controls/data/nbs_passenger_turnover_100m_pkm.csv'),
    ('nbs-wack520/cases/case02-nev-emission-controls/data/nbs_resident_population_10k_person.csv', "7aca1f588a90cef400138d288f2212308e17eb77a686da05612d4b15659241a4", 8564, (_WK, "4c5e53f9c28805a0699c7b82b89e1d4b1c967c0b"), 'cases/case02-nev-emission-controls/data/nbs_resident_population_10k_person.csv'),
    ('nbs-wack520/cases/case02-nev-emission-controls/data/nbs_tertiary_value_added_100m_cny.csv', "b482979607dddf836d046ddf5ef8c0a8d298cb28efc89e7678e6ab19b7d7af90", 8771, (_WK, "4c5e53f9c28805a0699c7b82b89e1d4b1c967c0b"), 'cases/case02-nev-emission-controls/data/nbs_tertiary_value_added_100m_cny.csv'),
    ('nbs-wack520/cases/case02-nev-emission-controls/data/nbs_urban_population_10k_person.csv', "43fd12524b9f74d4ca3869fe695922fd65684fcdef690ac345b8c014f2442f9b", 9490, (_WK, "4c5e53f9c28805a0699c7b82b89e1d4b1c967c0b"), 'cases/case02-nev-emission-controls/data/nbs_urban_population_10k_person.csv'),
    ('nbs-wack520/cases/case02-nev-emission-controls/data/source_registry.csv', "56f4080dbeb9153ae286a84133b762c163e5483b5b37d443e995c73748c6f919", 2474, (_WK, "bfc6a82d71eae1b38a5818b560d4a944032676b9"), 'cases/case02-nev-emission-controls/data/source_registry.csv'),
    ('shu-ces/merged_provincial_data.json', "ea86a2b5049e20985f32fbdedd19958b9e9e1e580e05af42ba542980336bceaa", 312096, (_SC, "151eb23771662afbb2d75e5b16658f094f386193"), 'public/data/merged_provincial_data.json'),
    ('techme/IndustryTrade.rda', "46f0fef1ea942fff4e9759f1ef65641432b7d7a8250bac679a8a9f4ceab9e9c1", 3180, (_TM, "2b3383daf7d9aea96a40fad092843ffda7f13b24"), 'data/IndustryTrade.rda'),
    ('techme/PublicBudget.rda', "71cb2f170717c6d49e8e856c6edacc85b6a936d9e8d96ae9ce4d26185cd34e9f", 9805, (_TM, "15b3fa39d32d9b4f3d9f1884fa89b72610a4f282"), 'data/PublicBudget.rda'),
    ('techme/RDActivity.rda', "3765b24496f9e2617ecbb9ad05a781614f0659e497bdcafa28ae8c8171333838", 9599, (_TM, "4877aff0554fd8846c9352a5f0982a910092e90a"), 'data/RDActivity.rda'),
    ('techme/RDIntense.rda', "7bcad48ed2079b38f3194618fd8f89e142a16dce302232d40676657689eeb855", 3409, (_TM, "a2e8916f5d36e256e1df71b2617478057ea6c7ae"), 'data/RDIntense.rda'),
    ('techme/RDPatentAuthority.rda', "189a2e5404be0c74c31312022fa8815aed455b5279aa47603bcd132b6d5476fa", 6975, (_TM, "97cea1c75c1d1934f333f3ee811079a0433ae4c7"), 'data/RDPatentAuthority.rda'),
    ('techme/varsList.rda', "aff346372770c157d1caa009bd8f119013f4e95e864c60e858df78bcafc46bb6", 13596, (_TM, "63ca0bb2818ce28f2110267b26dd38b31a145430"), 'data/varsList.rda'),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_1997.xlsx", "761ea276ee076cc9497125bbf8118e17148087079021d283a660440f55d7886f", 323137, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_1997.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_1998.xlsx", "aa0eedf054e747e45ad122ec92ef3f396fba5b96c60ff165461c0e163d0c5987", 315717, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_1998.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_1999.xlsx", "0be78f21ab289a413b874cf030cc2aeb3d27cbea7af231cb04c7cb91b4eb76d3", 318314, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_1999.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2000.xlsx", "1c9dcaad717508a01fc7f27ed50e89aa520f118d997cbce7f4ef94cff8a40c98", 315028, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2000.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2001.xlsx", "9172198bde25704d5e0cbe92776ddee4c57efea976b8b4d6c140bea8cee2a4ba", 309490, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2001.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2002.xlsx", "4fb59f00cd626de5af63f618dd1991136c58946bf9504d69f35f1e5fa1c51586", 308641, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2002.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2003.xlsx", "4ac531b9cabceff52b1459a46b8ba25925e63df705e216a3b0194e25e8d3eb7d", 313584, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2003.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2004.xlsx", "3feb969f6314b0e0bb8f3b3b6e254b26c89c96082dc93b95e730926f0be42dc4", 323583, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2004.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2005.xlsx", "3df40e573aeff6b79657e09e84f3062757bbf7a264716db0baddc336efe1a0c9", 326119, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2005.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2006.xlsx", "359c0256d6db0a2b4c2e37c797354290d0a5b8effe31af5625ff38beaf862a56", 332898, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2006.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2007.xlsx", "c1b37d84aa85846d03e225dde48138c1c5b999cd859800c6c24edfe9389f29e2", 336399, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2007.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2008.xlsx", "abf4b69bb6eca90648433e35095bea5b862bcf7359843bdf2ad18cbb0d3da97d", 340904, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2008.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2009.xlsx", "e1f700941508ab527b24b300549355fdf27ee8d66661529afba6f9e71189ba2e", 335988, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2009.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2010.xlsx", "49fbf1613e81d91c453e7bd7893e0e516623621002b4e156a2ef0cafcb6a9299", 340794, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2010.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2011.xlsx", "045df47095b8ec57396f37bf83f5a17f0ce284e2da9eab3ab2533421bf05dd61", 332353, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2011.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2012.xlsx", "f40ccc843bee3666bb1b161174a3708e8475df26eb48cf90d60dc19e7dad70c9", 338148, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2012.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2013.xlsx", "c661a9645038bbf4029c4a48b4e89ab7611551890a7fbdb46ffe7d1ab048a4f7", 336036, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2013.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2014.xlsx", "61ffe958da1d50699c9eed2ab7147df00dc98e8ed70d9cf8626815e857faf627", 336812, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2014.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2015.xlsx", "88da90e84e8a32f478ab1354fc296278bb7580993822896bded234c70eeb9753", 329038, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2015.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2016.xlsx", "c35a79df5fbc8f317035273c14f6be03cf7709532c18a487ad0a463e8c30da7f", 332388, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2016.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2017.xlsx", "77fc12ea64ca71be805393897a6549cefa9d556a4f1c918298988f1973670821", 333199, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2017.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2018.xlsx", "3f59a597d79851bac9c7e70fcde7f89fe72506fe37e5adafa047f645800fa733", 327510, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2018.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2019.xlsx", "f56f2649661d88279ca7e5060f6424920ee531ce7a493c02ff58840a170f8fdf", 325423, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2019.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2020.xlsx", "e4bbb77bfe0b4c47d1f9e81d33d368286c68f15eed763d4060737ebaeb8f2ff3", 326493, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2020.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2021.xlsx", "d0544f31e2341259f96ef3b61cf06033efd5a40c3d76ebc8e3559edc0438727f", 331112, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2021.xlsx"),
    ("ceads-energy-provinces/Energy_Inventory_30_Provinces_2022.xlsx", "2f0de6e0a7d2baf6dc9db273ebf428594ebda8c4a077d194256c1dd75cdee285", 326771, _TJ, "Dataset/省份维度/能源相关/1997-2022分行业省级能源清单/省级能源清单_2022.xlsx"),
    ("ceads-national-v2/China_Energy_Inventory_1997-2022.xlsx", "0c97c119af45c2b0e9d9f670bc9994d1d35c5ae4ff3293722c4b27d9f069f64f", 356629, _TJ, "Dataset/国家维度/碳排放相关/中国能源清单_1997-2022.xlsx"),
    ("ceads-national-v2/China_Sectoral_CO2_Inventory_1997-2022.xlsx", "71c2bfd6443385a3062a83f327232e11a1084efb55825bbfa48206c1c1200379", 372158, _TJ, "Dataset/国家维度/碳排放相关/中国分部门核算碳排放清单_1997_-_2022.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2001.xlsx", "3d6b400a84ad516ec4becbf262dc665e4bb737b120b273e7e707473d98c3c8f0", 276862, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2001年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2002.xlsx", "ae7a7a4db45a978649d9d60f2bddb4190768b29e4b5d7fb6fed185dd463e6623", 276294, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2002年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2003.xlsx", "cbec3ca9d3e2992cd884aad6fcecc706c78cdc5d3033ea973667fcca5bdea758", 276512, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2003年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2004.xlsx", "b3a2061d3c4311f93c3cbff8d244659fdff17ca3436fc41efd8d75677ffc3703", 287939, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2004年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2005.xlsx", "64c775dfa97e1e3831f70401407c9522f9a847bddc711d3751fb8ce7d5da4c17", 291595, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2005年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2006.xlsx", "099354fbc0e6811b7cdb3709ce2f2e39d4ef656c70f09b435968bc3e35e28de4", 293907, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2006年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2007.xlsx", "86d1e53cd460ab0c9169c5ba812fc013847808192d13db848dc2bcb84589c78e", 295866, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2007年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2008.xlsx", "9ca6ec1d68c14b42b7a99cfdcacbb76e1f3c6c7d3e2507b232999612e39289b4", 300740, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2008年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2009.xlsx", "76b0147debca010015e0278c978048588f5675d34a7df2f333288fd5232f62d5", 291135, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2009年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2010.xlsx", "911ec5120543597387a45598a6570312039da1751edcec6ac94d0c16cbbacc41", 292321, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2010年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2011.xlsx", "0993ba10f0496ba503068a7ff5498c777a6bd3524ff7b6c5fde9051d5cae6022", 289599, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2011年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2012.xlsx", "7f4dfde169946e80c1e3c0d7b56b7f2ab24377dedae228525d781c901e2606ab", 290834, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2012年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2013.xlsx", "e2f984a48fbb2cde1a7de1d6ef4ec7fc101b0bb61df1ad8154b5cc1c8193e721", 290338, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2013年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2014.xlsx", "7ee77dc75e283afebf0d0040e843b131612a260303414fdb53da155f2866a63e", 289496, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2014年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2015.xlsx", "fbd8a56e281d32b5c5f7e9c5f982decbf7390336024e7c1615aeeffdb2bc6c9b", 288005, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2015年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2016.xlsx", "b915f4662823b4f68d119b8d6da32ac702871251f4d8b8a05be9e3b3494dec4d", 282498, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2016年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2017.xlsx", "98c3a747ab0ab7484b8cbf4ad62bd1d04555e477df80d8fca0a44defa452acc6", 282964, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2017年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2018.xlsx", "69ac44304418bd54dd2c841dab54b586e814de1b6f8e8216be66e79e59099824", 282461, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2018年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2019.xlsx", "950a0bc0548f8e9603beb5fab88abc19d00227b5e3a9fadc5a4d33ad66a2c9f5", 281451, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2019年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2020.xlsx", "8eb224e286ebb14ad7ded7d750a1be3378ac7a25a4dd9a75ac58d1b516660e37", 278765, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2020年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2021.xlsx", "9cb2eb37bb706d8381ba5dc3b304b046125ad7ac326b646cf69a7bc25a8c8278", 275083, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2021年30个省份排放清单.xlsx"),
    ("ceads-provinces-v2/Emission_Inventory_30_Provinces_2022.xlsx", "43a9bb9bc42f2bd3188f3860beb48efadd6ecfc762236fa4835367bb7bee35cf", 275647, _TJ, "Dataset/省份维度/碳排放相关/2001-2022省份排放清单-CEADs/2022年30个省份排放清单.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2018.xlsx", "ba2c0a6c642cb7355dd046091f90c96c56c488bfad06775ae520c2e935c38eee", 286122, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2018.xlsx"),
    ("ceads-provinces/Emission_Inventories_for_30_Provinces_2019.xlsx", "22843c4e376b990245f551227d829f0e819fbfa7736c2d4cbc19394f15cb89bc", 284888, _OC, "harmonize/data/raw/CEADS_china_provinces/Emission_Inventories_for_30_Provinces_2019.xlsx"),
    ("nbs-provinces/disposable_income_per_capita_1990-2025.xlsx", "987fcde2710102e88115588c91d641d6a48138b8b81c444edc402d3520ee1fd3", 15586, _TJ, "Dataset/省份维度/经济相关/1990-2025各省人均可支配收入数据.xlsx"),
    ("nbs-provinces/energy_consumption_1990-2019.xlsx", "237c27a5b7a1de64d696c175b15ae270e714159b5b76012f6c2338bf87c31025", 95618, _TJ, "Dataset/省份维度/能源相关/消费量.xlsx"),
    ("nbs-provinces/energy_production_1990-2023.xlsx", "7d2b4e983103d1c61f8feb9cd9f54ba6a3a40c11dfd9ab2f3ab8d08c8a5783e6", 72998, _TJ, "Dataset/省份维度/能源相关/生产量.xlsx"),
    ("nbs-provinces/gdp_1949-2024.xlsx", "cb986bceaae2a0e0b44bba58f1d8cae49f95e976c9497cb25c9411217ff2f09d", 28884, _TJ, "Dataset/省份维度/经济相关/1949-2024省级GDP.xlsx"),
    ("nbs-provinces/gdp_per_capita_1992-2025.xlsx", "43572e5803230053110d82920ac16b7228582caa5fcbda1db8ab8c3c87acbc50", 17459, _TJ, "Dataset/省份维度/经济相关/1992-2025各省人均地区生产总值数据.xlsx"),
    ("nbs-provinces/population_1949-2024.xlsx", "7041baa5a2c1f94cdea2f2ea53dc77f8403832be0d4582046b204016798ff0c7", 28342, _TJ, "Dataset/省份维度/人口相关/1949-2024省级人口.xlsx"),
    ("nbs-provinces/power_generation_by_source_1990-2023.xlsx", "4ff6c357189ce5a59e31a63b8fa56a8238d373bab70d0b60269a14f37a9a4b54", 37490, _TJ, "Dataset/省份维度/能源相关/发电量.xlsx"),
    ("nbs-provinces/rail_mileage_civil_vehicles_1990-2024.xlsx", "3e7c94ce2ab688adae57001d15d6afbb2f0b94a0a20cc6df72833532a12510ed", 25055, _TJ, "Dataset/省份维度/交通相关/1990-2024铁路里程和汽车拥有量省份数据.xlsx"),
    ("nbs-provinces/secondary_share_1996-2024.xlsx", "06f9dbf27021700c8fa2f8c48fbf9d8f5f5ef0ecf0274ff6b77b118d60490a22", 34971, _TJ, "Dataset/省份维度/经济相关/1996-2024省份第二产业占比.xlsx"),
    ("nbs-provinces/secondary_value_added_1990-2025.xlsx", "788af6efc4365565466bfb80764190ef16b1f3eb60e61c173805df5d4dc633b2", 17560, _TJ, "Dataset/省份维度/经济相关/1990-2025各省第二产业增加值数据.xlsx"),
    ("nbs-provinces/urban_population_2005-2024.xlsx", "95daffac6c911dfb73e36fff53e572f9a0e6c988d65be93feb2eed4fb7fac013", 14827, _TJ, "Dataset/省份维度/人口相关/2005-2024各省城镇人口数据.xlsx"),
    ("nbs-provinces/urbanisation_rate_1990-2025.xlsx", "c43a8a94c5187659b48a9debd8244263b7ba52bda4c32934194ebc53c402e379", 13854, _TJ, "Dataset/省份维度/人口相关/1990-2025各省城镇人口所占比重.xlsx"),
    ("owid-un-wpp/population-with-un-projections.csv", "acceae324bc543da28e2c68ac3cdea3972a5fa5978d692ffc0a39f90fe43a52b", 1172537, _UN, "data/population-with-un-projections.csv"),
]

# Files written for the mirror itself (no source repository, so not fetchable):
# path, sha256, bytes. ``targets-sources.md`` quotes the provinces' published targets.
_LOCAL_ROWS: list[tuple[str, str, int]] = [
    ("targets-sources.md", "e6b04cf72dbb9ad4a6f0e4bc5b912230a397e06defc62e473ce46b5fcce5907f", 8499),
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
        """Raw-file URL of the source repository at the recorded commit ("" for mirror-only files)."""
        if not self.repo:
            return ""
        return _RAW.format(repo=self.repo, commit=self.commit, path=quote(self.source_path))


REGISTRY: dict[str, Entry] = {
    p: Entry(p, h, n, src[0], src[1], sp) for p, h, n, src, sp in _ROWS
}
REGISTRY.update({p: Entry(p, h, n, "", "", "") for p, h, n in _LOCAL_ROWS})
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


_MIRROR_META = {"README.md", "MANIFEST.csv"}


def unknown_files(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Files of the mirror the registry does not know (relative paths, sorted).

    The mirror may gain files before carbonlab registers them: they are reported
    (``carbonlab data verify`` lists them) but never fail a check, since no loader
    reads them. The mirror's own ``README.md`` and ``MANIFEST.csv`` are not data.
    """
    base = data_dir(root)
    out = []
    for f in base.rglob("*"):
        if not f.is_file() or any(part.startswith(".") for part in f.relative_to(base).parts):
            continue
        rel = f.relative_to(base).as_posix()
        if rel not in REGISTRY and rel not in _MIRROR_META:
            out.append(rel)
    return sorted(out)


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
    local = [e.path for e in targets if not e.repo]
    if paths is not None and local:
        raise ParameterError(f"{local[0]}: written for the data mirror, no source to fetch it from")
    targets = [e for e in targets if e.repo]
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
