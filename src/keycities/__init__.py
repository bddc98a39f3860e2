"""keycities: an open evidence engine for networks of UK places.

The Python API returns pandas DataFrames::

    import keycities
    keycities.build()
    keycities.headline("key-cities", at="2021-06-01", year=2019)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keycities._util.version import VERSION

if TYPE_CHECKING:
    from keycities.api import build, headline, network_members, resolve_place

__all__ = ["build", "headline", "network_members", "resolve_place"]
__version__ = VERSION


def __getattr__(name: str) -> Any:
    # The API pulls in pandas, DuckDB and pydantic; import it only when used so
    # `keycities --help` and sub-modules start quickly.
    if name in __all__:
        from keycities import api

        return getattr(api, name)
    raise AttributeError(f"module 'keycities' has no attribute {name!r}")
