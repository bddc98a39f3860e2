"""keycities: an open evidence engine for networks of UK places.

The Python API returns pandas DataFrames::

    import keycities
    keycities.build()
    keycities.headline("key-cities", at="2021-06-01", year=2019)
"""

from keycities.api import build, headline, network_members, resolve_place

__all__ = ["build", "headline", "network_members", "resolve_place"]
__version__ = "0.1.0"
