"""Tables of the evidence store.

``fact`` is the tidy core: one value per (area, geography vintage, measure,
period, release).  Every other table also carries the ``release_id`` of the
file it came from, and ``release`` holds the provenance of each id.

Column contracts for :class:`keycities.sources.Source` readers (the store adds
``release_id`` and, for ``fact``, ``geography_vintage`` from the release; the
readers' side is :data:`keycities.sources.base.READER_COLUMNS`):

fact
    area_code, measure, period (int, reference year), value (float), unit
area
    code, name, vintage_start (int), vintage_end (int or null = current),
    country_code, country_name, region_code, region_name (null outside England)
change
    old_code, old_name, new_code, new_name, type ('merger' | 'new_code' |
    'termination' | 'split'), year (int, first vintage of the new state)
alias
    alias, code
boundary
    code, name, geojson (geometry as GeoJSON text, WGS84 lon/lat)
postcode_place, postcode_place_oac, postcode_place_note
    postcode districts and sectors (``level``) with their profile, OAC shares and
    notes, derived from the package data at build time
    (:mod:`keycities.sources.postcode_places`)
indicator
    one row per indicator and release: label, unit, source, caveats
    (:data:`keycities.sources._indicator.META_COLUMNS`)
indicator_value
    one row per indicator, area and period (an ISO 8601 interval, with its
    first and last day), value and published 95% interval; the store adds the
    LAD boundary vintage of each period's codes
    (:func:`keycities.geography.areas.vintage_of_codes`)

``release_history`` keeps one row per load of a release (its id, file hash, reader
version, time and rows), never deleted: which version of every release was in
force on a date, for exports pinned "as published on" that date.
"""

from __future__ import annotations

SCHEMA_VERSION = 3

DDL: dict[str, str] = {
    "release": """
        CREATE TABLE IF NOT EXISTS release (
            id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            publisher VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            url VARCHAR NOT NULL,
            landing_page VARCHAR,
            published DATE NOT NULL,
            reference_period VARCHAR NOT NULL,
            geography_vintage INTEGER,
            licence VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            mirror_path VARCHAR,
            notes VARCHAR,
            reader_version VARCHAR NOT NULL,
            loaded_at TIMESTAMP NOT NULL,
            row_count BIGINT NOT NULL
        )""",
    "release_history": """
        CREATE TABLE IF NOT EXISTS release_history (
            id VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            reader_version VARCHAR NOT NULL,
            loaded_at TIMESTAMP NOT NULL,
            row_count BIGINT NOT NULL
        )""",
    "fact": """
        CREATE TABLE IF NOT EXISTS fact (
            area_code VARCHAR NOT NULL,
            geography_vintage INTEGER NOT NULL,
            measure VARCHAR NOT NULL,
            period INTEGER NOT NULL,
            value DOUBLE,
            unit VARCHAR NOT NULL,
            release_id VARCHAR NOT NULL
        )""",
    "area": """
        CREATE TABLE IF NOT EXISTS area (
            code VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            vintage_start INTEGER,
            vintage_end INTEGER,
            country_code VARCHAR,
            country_name VARCHAR,
            region_code VARCHAR,
            region_name VARCHAR,
            release_id VARCHAR NOT NULL
        )""",
    "change": """
        CREATE TABLE IF NOT EXISTS change (
            old_code VARCHAR NOT NULL,
            old_name VARCHAR,
            new_code VARCHAR NOT NULL,
            new_name VARCHAR,
            type VARCHAR NOT NULL,
            year INTEGER NOT NULL,
            release_id VARCHAR NOT NULL
        )""",
    "alias": """
        CREATE TABLE IF NOT EXISTS alias (
            alias VARCHAR NOT NULL,
            code VARCHAR NOT NULL,
            release_id VARCHAR NOT NULL
        )""",
    "boundary": """
        CREATE TABLE IF NOT EXISTS boundary (
            code VARCHAR NOT NULL,
            name VARCHAR,
            geography_vintage INTEGER NOT NULL,
            geojson VARCHAR NOT NULL,
            release_id VARCHAR NOT NULL
        )""",
    "postcode_profile": """
        CREATE TABLE IF NOT EXISTS postcode_profile (
            code VARCHAR NOT NULL,
            geography_vintage INTEGER NOT NULL,
            postcodes BIGINT NOT NULL,
            postcodes_with_grid BIGINT NOT NULL,
            easting DOUBLE,
            northing DOUBLE,
            lon DOUBLE,
            lat DOUBLE,
            oac_matched BIGINT NOT NULL,
            release_id VARCHAR NOT NULL
        )""",
    "oac_share": """
        CREATE TABLE IF NOT EXISTS oac_share (
            code VARCHAR NOT NULL,
            level VARCHAR NOT NULL,
            oac_code VARCHAR NOT NULL,
            oac_name VARCHAR NOT NULL,
            postcodes BIGINT NOT NULL,
            share DOUBLE NOT NULL,
            release_id VARCHAR NOT NULL
        )""",
    "postcode_place": """
        CREATE TABLE IF NOT EXISTS postcode_place (
            code VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            level VARCHAR NOT NULL,
            postcodes BIGINT NOT NULL,
            postcodes_with_grid BIGINT NOT NULL,
            easting DOUBLE,
            northing DOUBLE,
            grid VARCHAR,
            lon DOUBLE,
            lat DOUBLE,
            main_lad VARCHAR,
            main_lad_share DOUBLE,
            lads BIGINT,
            oac_matched BIGINT NOT NULL,
            oac_coverage DOUBLE,
            release_id VARCHAR NOT NULL
        )""",
    "postcode_place_oac": """
        CREATE TABLE IF NOT EXISTS postcode_place_oac (
            code VARCHAR NOT NULL,
            level VARCHAR NOT NULL,
            oac_code VARCHAR NOT NULL,
            oac_name VARCHAR NOT NULL,
            postcodes BIGINT NOT NULL,
            share DOUBLE NOT NULL,
            release_id VARCHAR NOT NULL
        )""",
    "postcode_place_note": """
        CREATE TABLE IF NOT EXISTS postcode_place_note (
            level VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            note VARCHAR NOT NULL,
            release_id VARCHAR NOT NULL
        )""",
    "indicator": """
        CREATE TABLE IF NOT EXISTS indicator (
            indicator VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            subtitle VARCHAR,
            unit VARCHAR,
            measure VARCHAR,
            decimals INTEGER,
            source_org VARCHAR,
            source_date DATE,
            source_url VARCHAR,
            description VARCHAR,
            caveats VARCHAR,
            experimental BOOLEAN,
            release_id VARCHAR NOT NULL
        )""",
    "indicator_value": """
        CREATE TABLE IF NOT EXISTS indicator_value (
            indicator VARCHAR NOT NULL,
            area_code VARCHAR NOT NULL,
            geography_vintage INTEGER,
            period VARCHAR NOT NULL,
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            value DOUBLE,
            lower DOUBLE,
            upper DOUBLE,
            status VARCHAR,
            note VARCHAR,
            release_id VARCHAR NOT NULL
        )""",
    "split_weight": """
        CREATE TABLE IF NOT EXISTS split_weight (
            code VARCHAR NOT NULL,
            geography_vintage INTEGER NOT NULL,
            weight DOUBLE NOT NULL,
            basis VARCHAR NOT NULL,
            release_id VARCHAR NOT NULL
        )""",
}
