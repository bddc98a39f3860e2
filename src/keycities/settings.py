"""Settings in one place.

Only this module reads the environment.  The CLI callback builds one
:class:`Settings`; library code receives it as an argument.

Environment variables
---------------------
KEYCITIES_STORE
    Path of the DuckDB evidence store (default: the user data directory,
    e.g. ``~/.local/share/keycities/keycities.duckdb``).
KEYCITIES_MIRROR
    A local mirror of the official files (a directory laid out as the
    catalog's ``mirror_path`` entries).  When set, files are copied from it
    instead of downloaded.
KEYCITIES_CACHE
    Where fetched official files are kept (default: the user cache directory).
KEYCITIES_OFFLINE
    ``1`` to never try the official URLs (only the mirror and the cache).
KEYCITIES_HTTP_TIMEOUT
    Seconds before a download is abandoned (default 60).
KEYCITIES_DEBUG
    ``1`` to show the full traceback of an unexpected error in the CLI.
KEYCITIES_WORKSPACE
    The SQLite file of accounts, the edited register, proposals and the audit
    trail (default: beside the store, ``keycities.workspace.sqlite``).
KEYCITIES_SECURE_COOKIES
    ``1`` when the app is served over HTTPS (behind a proxy): session cookies
    are then marked Secure.
KEYCITIES_TRUSTED_PROXIES
    Addresses or networks (comma-separated, e.g. ``127.0.0.1,10.0.0.0/8``) of the
    reverse proxies in front of the web app.  Only a request arriving from one of
    them has its ``X-Forwarded-For`` header believed, to know the client's address
    (login limits and jobs are per address); by default no one's is.
KEYCITIES_WARM
    ``0`` for ``keycities serve`` not to build what every visitor needs (the network
    page, the claims audit, the place features) in the background at start-up
    (default ``1``: the first visitors do not wait for it).
KEYCITIES_JOB_SECONDS
    Seconds one background computation of the web app (twinning postcode
    places, a testbed) may run before it is stopped (default 600; time spent
    waiting for the worker does not count).
KEYCITIES_CLUSTER
    Address of a Dask scheduler (``tcp://HOST:8786``) on which the grids of
    independent fits behind ``testbed choose``, ``design`` and the placebo runs
    are computed (default: none, local processes).  ``--cluster`` wins.
KEYCITIES_WORKERS
    Local processes for those grids when no cluster is given (default 2).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_store() -> Path:
    return Path(platformdirs.user_data_dir("keycities")) / "keycities.duckdb"


def _default_cache() -> Path:
    return Path(platformdirs.user_cache_dir("keycities")) / "official"


class Settings(BaseSettings):
    """Where the store, the mirror and the download cache live."""

    model_config = SettingsConfigDict(env_prefix="KEYCITIES_", extra="ignore")

    store: Path = Field(default_factory=_default_store)
    mirror: Path | None = None
    cache: Path = Field(default_factory=_default_cache)
    offline: bool = False
    http_timeout: float = 60.0
    debug: bool = False
    workspace: Path | None = None
    secure_cookies: bool = False
    trusted_proxies: str = ""
    warm: bool = True
    job_seconds: float = Field(default=600.0, gt=0)
    cluster: str | None = None
    workers: int = Field(default=2, ge=1, le=256)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError: not one
        return value

    @property
    def proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """:attr:`trusted_proxies` as networks (a bare address is a network of one)."""
        return tuple(ipaddress.ip_network(p.strip(), strict=False)
                     for p in self.trusted_proxies.split(",") if p.strip())

    @property
    def workspace_path(self) -> Path:
        """The workspace file: as set, or ``<store>.workspace.sqlite`` beside the store."""
        return self.workspace or self.store.with_name(self.store.stem + ".workspace.sqlite")
