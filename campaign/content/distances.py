"""Distance and car travel time to the big cities, computed from the coordinates in content.

Nobody has to look these up or keep them current, and they are the same kind
of estimate for every town: the great-circle distance (haversine) between town
centres, times a road factor for the detours of real roads, at an average speed
that mixes country roads and motorway. Pages call the result an estimate
"berechnet aus der Luftlinie"; a municipality may still enter its own minutes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

EARTH_RADIUS_KM = 6371.0
# Roads in the Sauerland and Siegerland are about 1.3 times as long as the straight
# line; 75 km/h is a door-to-door average of federal roads and motorway.
ROAD_FACTOR = 1.3
AVERAGE_KMH = 75.0
# City centres (WGS84): the big cities a family commutes to or visits.
CITY_CENTRES: Mapping[str, tuple[float, float]] = MappingProxyType({
    "dortmund": (51.5136, 7.4653),
    "koeln": (50.9375, 6.9603),
    "frankfurt": (50.1109, 8.6821),
})


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def drive_minutes(km: float) -> int:
    """Estimated minutes by car for a straight-line distance, rounded to 5 minutes."""
    return max(5, 5 * round(km * ROAD_FACTOR / AVERAGE_KMH * 60 / 5))


def distances_km(lat: float, lon: float) -> dict[str, int]:
    return {city: round(haversine_km((lat, lon), centre))
            for city, centre in CITY_CENTRES.items()}


def travel_minutes(lat: float, lon: float) -> dict[str, int]:
    return {city: drive_minutes(haversine_km((lat, lon), centre))
            for city, centre in CITY_CENTRES.items()}
