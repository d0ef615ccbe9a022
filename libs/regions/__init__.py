"""Region codes of North Sumatra (Kemendagri and BPS), its kecamatan and desa/kelurahan, from
tables packaged with Lindung."""

from libs.regions.places import (
    Desa,
    Kecamatan,
    all_desa,
    all_kecamatan,
    desa_of_kecamatan,
    desa_of_regency,
    find_desa,
    find_kecamatan,
    kecamatan_by_code,
    kecamatan_numbers,
    kecamatan_of_nik,
    kecamatan_of_regency,
    place_key,
)
from libs.regions.regions import (
    PROVINCE_CODE,
    Region,
    all_regions,
    region_by_bps,
    region_by_code,
)

__all__ = [
    "PROVINCE_CODE",
    "Desa",
    "Kecamatan",
    "Region",
    "all_desa",
    "all_kecamatan",
    "all_regions",
    "desa_of_kecamatan",
    "desa_of_regency",
    "find_desa",
    "find_kecamatan",
    "kecamatan_by_code",
    "kecamatan_numbers",
    "kecamatan_of_nik",
    "kecamatan_of_regency",
    "place_key",
    "region_by_bps",
    "region_by_code",
]
