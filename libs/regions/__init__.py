"""Region codes of North Sumatra (Kemendagri and BPS), from a table packaged with Lindung."""

from libs.regions.regions import (
    PROVINCE_CODE,
    Region,
    all_regions,
    region_by_bps,
    region_by_code,
)

__all__ = ["PROVINCE_CODE", "Region", "all_regions", "region_by_bps", "region_by_code"]
