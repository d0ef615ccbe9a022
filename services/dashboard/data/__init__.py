"""Boundaries of North Sumatra's regencies/cities and kecamatan, drawn by the dashboard's map.

Source: `cahyadsn/wilayah_boundaries` (db/kab/wilayah_boundaries_kab_12.sql and
db/kec/wilayah_boundaries_kec_12.sql, MIT licence, (c) 2024-2025 Cahya DSN), converted to GeoJSON
(WGS84 lon/lat, 5 decimals; properties `code`, `name`, `label_point`). Named `*.geo.json` so the
package data rule for `*.json` ships them. See README.md here.
"""
