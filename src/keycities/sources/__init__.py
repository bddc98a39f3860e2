"""Official data sources: one module per publisher/dataset, one interface."""

from keycities.sources.base import (
    FakeFetcher,
    Fetcher,
    HttpFetcher,
    MirrorFetcher,
    Release,
    SimpleSource,
    Source,
    fetch_release,
    sha256_file,
)

__all__ = [
    "FakeFetcher",
    "Fetcher",
    "HttpFetcher",
    "MirrorFetcher",
    "Release",
    "SimpleSource",
    "Source",
    "fetch_release",
    "sha256_file",
]
