"""Where an address lies when it has no point of its own: between the known numbers of its
street, else its postcode's or town's centroid.

``Laugavegur 16, 101 Reykjavík``, which the register lacks, lies halfway from
Laugavegur 15 to Laugavegur 17 (the nearest lower and higher numbers with points on
Laugavegur in 101); a third of the way when 15 and 18 are the neighbours. Streets are
grouped by country, road key and postcode key, and again by country, road key and town
key for addresses given without a postcode.
Built with numpy at load (~0.2 s for the default index's 139,000 points).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from address.errors import DataNotReadyError
from address.gazetteer import locality_centroid, postcode_centroid
from address.verification import Location, Precision

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "Locator",
    "SharedPoints",
    "StreetPoints",
    "centroid",
    "distance_km",
    "house_number_value",
    "nearest",
    "on_globe",
]

_SEP = "\x1f"
_EARTH_RADIUS_M = 6_371_000.0
_LEADING_DIGITS = r"^(\d{1,9})"
_LEADING_NUMBER = re.compile(_LEADING_DIGITS)


def house_number_value(key: str | None) -> float | None:
    """The number a house number key starts with: ``"12b"`` -> 12.0, ``"4250 1 2"`` ->
    4250.0; ``None`` without leading digits."""
    digits = _LEADING_NUMBER.match(key) if key else None
    return float(digits.group(1)) if digits else None


def _street_key(country: Any, road: Any, area: Any) -> str:
    return f"{country}{_SEP}{road}{_SEP}{area}"


@dataclass(frozen=True, slots=True)
class StreetPoints:
    """Known points grouped by street (country, road key, area key), sorted by number
    within each street, numbered rows first."""

    groups: dict[str, int]
    bounds: NDArray[np.int64]
    numbered: NDArray[np.int64]
    """End of each street's rows with a number."""
    numbers: NDArray[np.float64]
    points: NDArray[np.float64]
    means: NDArray[np.float64]

    @classmethod
    def build(
        cls, keys: pd.Series[Any], numbers: NDArray[np.float64], points: NDArray[np.float64]
    ) -> StreetPoints:
        """Group rows by street key (null keys left out), vectorised."""
        known = keys.notna().to_numpy()
        codes, uniques = pd.factorize(keys[known])
        numbers, points = numbers[known], points[known]
        order = np.lexsort((numbers, codes))  # NaN numbers sort last in each street
        codes, numbers, points = codes[order], numbers[order], points[order]
        size = len(uniques)
        bounds = np.searchsorted(codes, np.arange(size + 1))
        counts = np.diff(bounds)
        numbered = bounds[:-1] + np.bincount(codes[~np.isnan(numbers)], minlength=size).astype(
            np.int64
        )
        sums = np.add.reduceat(points, bounds[:-1], axis=0) if size else np.empty((0, 2))
        return cls(
            dict(zip(uniques.tolist(), range(size), strict=True)),
            bounds.astype(np.int64),
            numbered.astype(np.int64),
            numbers,
            points,
            sums / np.maximum(counts, 1)[:, None],
        )

    def estimate(self, key: str, number: float | None) -> tuple[float, float] | None:
        """A point for ``number`` on the street: interpolated between the nearest lower
        and higher known numbers, the one neighbour's point when only one side is known,
        the street's mean point without a usable number; ``None`` for an unknown street."""
        group = self.groups.get(key)
        if group is None:
            return None
        start, end = int(self.bounds[group]), int(self.numbered[group])
        numbers = self.numbers[start:end]
        if number is None or not len(numbers):
            lat, lon = self.means[group]
            return float(lat), float(lon)
        below = int(np.searchsorted(numbers, number, "right"))  # numbers <= number
        above = int(np.searchsorted(numbers, number, "left"))  # first number >= number
        low = self._mean_of(start, numbers, numbers[below - 1]) if below else None
        high = self._mean_of(start, numbers, numbers[above]) if above < len(numbers) else None
        if low is None or high is None:
            point = low if high is None else high
            assert point is not None
            return float(point[0]), float(point[1])
        n_low, n_high = numbers[below - 1], numbers[above]
        share = 0.0 if n_high == n_low else (number - n_low) / (n_high - n_low)
        lat, lon = low + share * (high - low)
        return float(lat), float(lon)

    def _mean_of(
        self, start: int, numbers: NDArray[np.float64], value: float
    ) -> NDArray[np.float64]:
        """Mean point of the street's rows numbered ``value`` ("12", "12a" and "12b")."""
        first = int(np.searchsorted(numbers, value, "left"))
        last = int(np.searchsorted(numbers, value, "right"))
        mean: NDArray[np.float64] = self.points[start + first : start + last].mean(axis=0)
        return mean


class Locator:
    """Locations for rows without a point and for addresses no row is.

    Example: ``locator.estimate("IS", "laugavegur", "16", "101", "reykjavik", "101",
    "Reykjavík")`` is a ``Precision.STREET`` location between Laugavegur 15 and 17.
    """

    def __init__(self, rows: pd.DataFrame, lat: NDArray[np.float64], lon: NDArray[np.float64]):
        """Index the live rows of ``rows`` (index rows with keys) that have a point."""
        known = ~(np.isnan(lat) | np.isnan(lon)) & ~rows["deleted"].to_numpy(dtype=bool)
        frame = rows.loc[known, ["country", "road_key", "postcode_key", "city_key", "hn_key"]]
        numbers = pd.to_numeric(
            frame["hn_key"].str.extract(_LEADING_DIGITS)[0], errors="coerce"
        ).to_numpy(dtype=np.float64, na_value=np.nan)
        points = np.column_stack([lat[known], lon[known]])
        street = frame["country"].astype("string") + _SEP + frame["road_key"] + _SEP
        self._by_postcode = StreetPoints.build(street + frame["postcode_key"], numbers, points)
        self._by_town = StreetPoints.build(street + frame["city_key"], numbers, points)
        area = frame["country"].astype("string") + _SEP + frame["postcode_key"]
        middles = (
            pd.DataFrame({"area": area.to_numpy(object), "lat": points[:, 0], "lon": points[:, 1]})
            .dropna(subset=["area"])
            .groupby("area")[["lat", "lon"]]
            .median()
        )
        self._postcodes: dict[str, tuple[float, float]] = {
            str(key): (float(row.lat), float(row.lon)) for key, row in middles.iterrows()
        }

    def street(
        self,
        country: str,
        road: str | None,
        number: str | None,
        postcode: str | None,
        town: str | None,
    ) -> tuple[float, float] | None:
        """A point on a street given by keys (``"laugavegur"``, ``"16"``, ``"101"``,
        ``"reykjavik"``): within its postcode, else within its town."""
        if not road:
            return None
        value = house_number_value(number)
        for streets, area in ((self._by_postcode, postcode), (self._by_town, town)):
            if area and (point := streets.estimate(_street_key(country, road, area), value)):
                return point
        return None

    def postcode(self, country: str, postcode: str | None) -> Location | None:
        """The middle (median) of the known points in a postcode given by its key, e.g.
        ``postcode("IS", "451")``: nearer the addresses than the gazetteer's centroid of a
        wide rural postcode."""
        point = self._postcodes.get(_SEP.join((country, postcode))) if postcode else None
        return Location(point[0], point[1], Precision.POSTCODE) if point else None

    def estimate(
        self,
        country: str,
        road: str | None,
        number: str | None,
        postcode: str | None,
        town: str | None,
        postcode_text: str | None,
        town_text: str | None,
    ) -> Location | None:
        """The street estimate from keys, else the middle of the postcode's known points,
        else the gazetteer's centroid of the postcode or town as written (``"101"``,
        ``"Reykjavík"``), else ``None``."""
        if point := self.street(country, road, number, postcode, town):
            return Location(point[0], point[1], Precision.STREET)
        return self.postcode(country, postcode) or centroid(country, postcode_text, town_text)


def centroid(country: str, postcode: str | None, town: str | None) -> Location | None:
    """The postcode's centroid, else the town's: ``centroid("IS", "101", None)`` is
    ``Location(64.14, -21.90, Precision.POSTCODE)``; ``None`` when the gazetteer knows
    neither or is not set up (a location is extra information, never a reason to fail)."""
    try:
        if postcode and (point := postcode_centroid(country, postcode)):
            return Location(point[0], point[1], Precision.POSTCODE)
        if town and (point := locality_centroid(country, town)):
            return Location(point[0], point[1], Precision.LOCALITY)
    except DataNotReadyError:
        return None
    return None


def on_globe(lat: float, lon: float) -> bool:
    """Whether a point is in WGS84's range: ``on_globe(64.14597, -21.93096)`` is true,
    ``on_globe(91.0, 0.0)`` false."""
    return abs(lat) <= 90.0 and abs(lon) <= 180.0


def distance_km(
    lat1: NDArray[np.floating[Any]],
    lon1: NDArray[np.floating[Any]],
    lat2: NDArray[np.floating[Any]],
    lon2: NDArray[np.floating[Any]],
) -> NDArray[np.float64]:
    """Great-circle distances in km between points given in degrees, element-wise (NaN
    where a point is NaN): Laugavegur 12b to Anamosa, IA is about 5,100 km."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2
    h = h + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    distance: NDArray[np.float64] = (
        2 * _EARTH_RADIUS_M / 1000 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
    )
    return distance


SHARED_SPREAD_M = 100.0
"""An address text several rows share is placed at their middle: as a premise while every
row lies within this of it, else only as a street ("Kiðjaberg, 805 Selfoss" names 123
summer-house plots up to 2 km apart)."""


@dataclass(frozen=True, slots=True)
class SharedPoints:
    """Per row: the middle of the points of its address text when other rows share that
    text (NaN otherwise), and whether they spread wider than :data:`SHARED_SPREAD_M`."""

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    wide: NDArray[np.bool_]

    @classmethod
    def build(
        cls,
        keys: pd.Series[Any],
        countries: NDArray[np.str_],
        lat: NDArray[np.float64],
        lon: NDArray[np.float64],
    ) -> SharedPoints:
        """Example: the rows of "Kiðjaberg, 805 Selfoss" get their mean point and
        ``wide``; "Laugavegur 12b, 101 Reykjavík" (one row) gets NaN."""
        shared = cls(np.full(len(lat), np.nan), np.full(len(lat), np.nan), np.zeros(len(lat), bool))
        located = ~(np.isnan(lat) | np.isnan(lon))
        text = countries.astype(object) + _SEP + keys.astype(str).to_numpy(object)
        frame = pd.DataFrame({"text": text[located], "lat": lat[located], "lon": lon[located]})
        frame.index = np.flatnonzero(located)
        repeated = frame[frame.duplicated("text", keep=False)]
        if repeated.empty:
            return shared
        middle = repeated.groupby("text")[["lat", "lon"]].transform("mean")
        spread_m = 1000 * distance_km(
            repeated["lat"].to_numpy(), repeated["lon"].to_numpy(),
            middle["lat"].to_numpy(), middle["lon"].to_numpy(),
        )  # fmt: skip
        by_text = pd.Series(spread_m, index=repeated.index).groupby(repeated["text"].to_numpy())
        rows = repeated.index.to_numpy()
        shared.lat[rows] = middle["lat"].to_numpy()
        shared.lon[rows] = middle["lon"].to_numpy()
        shared.wide[rows] = (by_text.transform("max") > SHARED_SPREAD_M).to_numpy()
        return shared

    def location(self, row: int) -> Location | None:
        """Where a row's address text lies when other rows share it, else ``None``."""
        if np.isnan(self.lat[row]):
            return None
        precision = Precision.STREET if self.wide[row] else Precision.PREMISE
        return Location(float(self.lat[row]), float(self.lon[row]), precision)

    def forget(self, row: int) -> None:
        """The row got a point of its own (a delivery): it is placed there from now on."""
        self.lat[row] = self.lon[row] = np.nan


def nearest(
    rows: NDArray[np.int64],
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    at: tuple[float, float],
    k: int,
    radius_m: float,
) -> list[tuple[int, float]]:
    """``(row, metres)`` of up to ``k`` of ``rows`` within ``radius_m`` of ``at``, nearest
    first (equirectangular distance, exact enough within a few km)."""
    lat0, lon0 = at
    span = np.degrees(radius_m / _EARTH_RADIUS_M)
    near = rows[np.abs(lat[rows] - lat0) <= span]
    scale = np.cos(np.radians(lat0))
    dy = np.radians(lat[near] - lat0)
    dx = np.radians((lon[near] - lon0 + 180.0) % 360.0 - 180.0) * scale
    metres = _EARTH_RADIUS_M * np.hypot(dx, dy)
    inside = metres <= radius_m
    near, metres = near[inside], metres[inside]
    order = np.argsort(metres, kind="stable")[:k]
    return [(int(r), float(m)) for r, m in zip(near[order], metres[order], strict=True)]
