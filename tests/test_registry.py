"""core/registry: named parts with parameters (attachment policies, routing modes, sensor
layouts), read from the same ``name:key=value`` text in the CLI and in scenarios."""

from __future__ import annotations

import pytest

from leosim.core.registry import Param, Registry, number, whole
from leosim.errors import ParameterError


class LayoutError(ParameterError):
    pass


def make_registry() -> Registry:
    r = Registry("sensor layout", LayoutError)
    r.register("ring", lambda n, radius_km, height_m: ("ring", n, radius_km, height_m),
               (Param("n", whole, help="sensors"), Param("radius_km", number, help="km"),
                Param("height_m", number, 10.0, "m")), help="a circle")
    return r


def test_positional_and_named_parameters_give_the_same_part():
    r = make_registry()
    assert r.make("ring:6:3") == r.make("ring:n=6,radius_km=3") == ("ring", 6, 3.0, 10.0)
    assert r.make("RING:n=6,radius-km=3,height_m=30") == ("ring", 6, 3.0, 30.0)
    assert r.entry("ring").usage() == "ring:n=...,radius_km=...,height_m=10"


@pytest.mark.parametrize(
    "spec, needle",
    [
        ("star:6", "unknown sensor layout 'star'; expected one of: ring"),
        ("ring:6", "parameter 'radius_km' is missing"),
        ("ring:n=6,radius_km=3,colour=red", "unknown parameter 'colour'"),
        ("ring:n=6,n=7,radius_km=3", "given twice"),
        ("ring:6:3:10:4", "4 values for 3 parameters"),
        ("ring:six:3", "n = 'six' is not valid"),
    ],
)
def test_bad_specs_raise_the_registrys_own_error_with_the_text_received(spec, needle):
    with pytest.raises(LayoutError) as e:
        make_registry().make(spec)
    assert needle in str(e.value)


def test_registering_a_name_twice_is_a_programming_error():
    r = make_registry()
    with pytest.raises(ValueError):
        r.register("ring", lambda: None)


def test_the_real_registries_list_their_parts_with_parameters():
    from leosim.models.exposure import SENSOR_LAYOUTS
    from leosim.network.attachment import POLICIES
    from leosim.network.modes import MODES

    assert {"free", "max-elevation", "longest-visible", "scheduled"} <= set(POLICIES.names)
    assert {"isl", "bent-pipe", "hybrid"} <= set(MODES.names)
    assert {"ring", "grid", "drone"} <= set(SENSOR_LAYOUTS.names)
    assert "interval" in POLICIES.entry("scheduled").usage()


# ------------------------------------------------ issue 13: numbers as the registries read them
@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "Infinity", "1_000", "١٢", "１２", "0x1F", "1e", "", " ",
                                  "1e400", "9" * 41, "9" * 4301, "1,5", "--1", "²"])
def test_number_refuses_what_float_would_take_or_choke_on(text):
    with pytest.raises(ValueError):
        number(text)


@pytest.mark.parametrize("text, value", [("2.5", 2.5), ("-1e3", -1000.0), (" 6 ", 6.0), (".5", 0.5), ("+7.", 7.0)])
def test_number_reads_plain_decimals(text, value):
    assert number(text) == value


@pytest.mark.parametrize("text", ["6.5", "1e16", "99999999999999999", "-1e300", "nan", "9" * 4301])
def test_whole_refuses_fractions_and_magnitudes_over_1e15(text):
    with pytest.raises(ValueError):
        whole(text)
    assert whole("6.0") == 6 and whole("1e15") == 10**15


def test_a_long_spec_is_cut_in_the_message():
    with pytest.raises(LayoutError) as e:
        make_registry().make("ring:" + "9" * 100_000 + ":3")
    assert "n = '99999" in str(e.value) and len(str(e.value)) < 600
    with pytest.raises(LayoutError) as e:
        make_registry().make("x" * 100_000)
    assert "(100,002 characters)" in str(e.value) and len(str(e.value)) < 600


@pytest.mark.parametrize(
    "spec", ["scheduled:interval=1e-300s", "scheduled:interval=0.01s", "scheduled:interval=2d",
             "scheduled:interval=15s,offset=15s", "scheduled:interval=10s,offset=12s"],
)
def test_scheduled_interval_and_offset_are_bounded(spec):
    # benchmarks/fuzz.py found 1e-300 s accepted (a reconfiguration per step of any run);
    # an offset is within one interval
    from leosim.errors import ParameterError
    from leosim.network.attachment import POLICIES

    with pytest.raises(ParameterError, match="expected an interval from 0.1 s to 1 day and an offset from 0 to less"):
        POLICIES.make(spec)


@pytest.mark.parametrize("text", ["1,2,1e308", "6,1,20001", "6,1,-501"])
def test_a_typed_place_has_the_files_altitude_range(text):
    # the ground readers refused these altitudes; a place typed as LAT,LON,ALT did not
    from leosim.errors import PlaceError
    from leosim.ground.places import resolve_place

    with pytest.raises(PlaceError, match="altitude_m must be between -500 and 20,000 metres"):
        resolve_place(text)
    assert resolve_place("6,1,8849").altitude_m == 8849.0  # Everest's summit is a place
