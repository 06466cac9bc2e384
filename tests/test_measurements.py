"""Readers of the real Starlink latency measurements, and the latency world map.

The real files come from the workspace's shared data folder beside the repository
(``../shared/data``; provenance in its READMEs); tests that need them skip when it is
absent, so the suite runs in any clone. Malformed input is written to ``tmp_path``.
"""

from __future__ import annotations

import numpy as np
import pytest

from leosim.errors import InputFileError, ParameterError
from leosim.formats import measurements as m

try:
    ROOT = m.calibration_root()
except InputFileError as exc:  # a clone without ../shared/data
    ROOT = None
    WHY = str(exc)
else:
    WHY = ""

needs_data = pytest.mark.skipif(ROOT is None, reason=f"calibration data absent: {WHY}")


# ------------------------------------------------------------------- the real files
@needs_data
def test_country_metrics_file():
    rows = m.read_country_metrics(ROOT / m.COUNTRY_METRICS)
    assert len(rows) == 68
    assert all(r.p20_ms >= r.p50_ms >= r.p80_ms for r in rows)
    by_iso3 = {r.iso3: r for r in rows}
    arg = by_iso3["ARG"]
    assert arg.country == "AR"
    assert arg.p50_ms == pytest.approx(26.3, abs=0.04)  # 26.33547019958496 in the file
    assert arg.p50_ms == pytest.approx(26.33547019958496, abs=0.01)
    # every alpha-3 code converts (XKX, Kosovo, through the special case)
    assert m.unconverted_countries(rows) == ()
    assert by_iso3["XKX"].country == "XK"
    assert len({r.country for r in rows}) == 68
    assert arg.where.endswith(":3")  # line 1 is the header, ALA is line 2


@needs_data
def test_state_metrics_file():
    june = m.read_state_metrics(ROOT / m.STATE_METRICS)
    assert len(june) == 51 and {r.month for r in june} == {"202506"}
    assert len({r.state for r in june}) == 51 and "DC" in {r.state for r in june}
    maine = next(r for r in june if r.name == "Maine")
    assert maine.state == "ME"
    assert maine.p50_ms == pytest.approx(26.657442092895508, abs=1e-9)
    assert maine.p20_ms >= maine.p50_ms >= maine.p80_ms
    both = m.read_state_metrics(ROOT / m.STATE_METRICS, month=None)
    assert len(both) == 102 and {r.month for r in both} == {"202506", "202507"}
    with pytest.raises(InputFileError, match=r"no rows for month 202501; the file has 202506, 202507"):
        m.read_state_metrics(ROOT / m.STATE_METRICS, month="202501")
    with pytest.raises(ParameterError, match="YYYYMM"):
        m.read_state_metrics(ROOT / m.STATE_METRICS, month="2025-06")


@needs_data
def test_maine_trace_matches_the_readme():
    # measurements/README.md: "Starlink rows: 17,938 (p5/p50/p95 = 33.1/44.2/79.7 ms)"
    trace = m.read_ping_trace(ROOT / m.MAINE_PING)
    assert len(trace) == 17_938 and trace.operator == "starlink"
    assert float(np.median(trace.rtt_ms)) == pytest.approx(44.2, abs=0.05)
    assert np.percentile(trace.rtt_ms, [5, 95]) == pytest.approx([33.1, 79.7], abs=0.05)
    assert np.all(np.diff(trace.time_s) >= 0)
    # 2024-05-27 10:59 to 2024-05-29 16:48 US/Eastern (UTC-4), the whole trip
    assert 1716821940 <= trace.time_s[0] and trace.time_s[-1] <= 1717015680 + 60
    assert not trace.rtt_ms.flags.writeable
    assert len(m.read_ping_trace(ROOT / m.MAINE_PING, operator="StarLink")) == 17_938
    with pytest.raises(InputFileError, match=r"no rows for operator 'oneweb'; the file has att .*starlink .*verizon"):
        m.read_ping_trace(ROOT / m.MAINE_PING, operator="oneweb")


@needs_data
def test_probe_summary_file():
    probes = m.read_probe_summary(ROOT / m.PROBE_SUMMARY)
    assert len(probes) == 25 and len({p.probe_id for p in probes}) == 25
    assert sum(p.pop is not None for p in probes) == 17  # the README's "17 of 25"
    first = probes[0]
    assert (first.probe_id, first.place, first.pop) == (17979, "Blainslie, Scotland, UK", None)
    assert (first.latitude_deg, first.longitude_deg, first.median_ms) == (55.7333, -2.8167, 38.54)
    moe = next(p for p in probes if p.probe_id == 19983)
    assert moe.pop == "sydyaus1" and moe.samples == 97
    assert all(p.min_ms <= p.p5_ms <= p.median_ms <= p.p95_ms for p in probes)


# ----------------------------------------------------------------- malformed input
HEADER = "iso3,latency_p20_ms,latency_p50_ms,latency_p80_ms\n"


def _write(tmp_path, text, name="metrics.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_country_metrics_non_number(tmp_path):
    path = _write(tmp_path, HEADER + "ARG,31.1,26.3,23.1\nCHL,30.0,fast,22.0\n")
    with pytest.raises(InputFileError, match=rf"{path.name}:3: p50 'fast' is not a number; expected .*ms"):
        m.read_country_metrics(path)


def test_country_metrics_missing_column(tmp_path):
    path = _write(tmp_path, "iso3,latency_p20_ms,latency_p80_ms\nARG,31.1,23.1\n")
    with pytest.raises(InputFileError, match=rf"{path.name}:1: header has columns .*; missing p50"):
        m.read_country_metrics(path)


def test_country_metrics_out_of_order(tmp_path):
    path = _write(tmp_path, HEADER + "ARG,20.1,26.3,23.1\n")
    with pytest.raises(InputFileError, match=rf"{path.name}:2: country ARG: p20 20.1, p50 26.3, p80 23.1 .*p20 >= p50 >= p80"):
        m.read_country_metrics(path)


def test_country_metrics_bad_and_unknown_codes(tmp_path):
    bad = _write(tmp_path, HEADER + "AR,31.1,26.3,23.1\n", "bad.csv")
    with pytest.raises(InputFileError, match=r"bad.csv:2: iso3 'AR' is not an ISO 3166-1 alpha-3 code"):
        m.read_country_metrics(bad)
    twice = _write(tmp_path, HEADER + "ARG,31.1,26.3,23.1\narg,31.1,26.3,23.1\n", "twice.csv")
    with pytest.raises(InputFileError, match=r"twice.csv:3: iso3 'arg' is given twice \(first at .*twice.csv:2\)"):
        m.read_country_metrics(twice)
    unknown = _write(tmp_path, HEADER + "QQQ,31.1,26.3,23.1\nXKX,26.0,23.6,21.8\n", "unknown.csv")
    rows = m.read_country_metrics(unknown)
    assert [r.country for r in rows] == [None, "XK"]  # kept, not dropped
    assert m.unconverted_countries(rows) == ("QQQ",)


def test_state_metrics_malformed(tmp_path):
    header = "name,country_iso2,date,latency_p20,latency_p50,latency_p80\n"
    path = _write(tmp_path, header + "Maine,US,202506,30.0,26.6,24.4\nGondor,US,202506,30.0,26.6,24.4\n")
    with pytest.raises(InputFileError, match=rf"{path.name}:3: name 'Gondor' is not a US state"):
        m.read_state_metrics(path)
    path = _write(tmp_path, header + "Maine,US,202506,30.0,26.6,x\n", "nan.csv")
    with pytest.raises(InputFileError, match=r"nan.csv:2: p80 'x' is not a number"):
        m.read_state_metrics(path)
    path = _write(tmp_path, header + "Maine,US,202506,24.0,26.6,24.4\n", "order.csv")
    with pytest.raises(InputFileError, match=r"order.csv:2: state 'Maine': p20 24.0, p50 26.6, p80 24.4"):
        m.read_state_metrics(path)


def test_ping_trace_malformed(tmp_path):
    header = "time,rtt_ms,operator\n"
    path = _write(tmp_path, header + "2024-05-29T12:01:02.2-04:00,45.9,starlink\n2024-05-29T12:01:03-04:00,n/a,starlink\n")
    with pytest.raises(InputFileError, match=rf"{path.name}:3: rtt_ms 'n/a' is not a number"):
        m.read_ping_trace(path)
    path = _write(tmp_path, header + "2024-05-29 12:01:02,45.9,Starlink\n", "naive.csv")
    with pytest.raises(InputFileError, match=r"naive.csv:2: time '2024-05-29 12:01:02' has no UTC offset"):
        m.read_ping_trace(path)
    path = _write(tmp_path, header + "noon,45.9,starlink\n", "noon.csv")
    with pytest.raises(InputFileError, match=r"noon.csv:2: time 'noon' is not a time"):
        m.read_ping_trace(path)
    # rows of other operators are not checked; unix seconds are accepted; sorted by time
    path = _write(tmp_path, header + "20,41.0,Starlink\n10,40.0,STARLINK\n5,bad,att\n", "ok.csv")
    trace = m.read_ping_trace(path)
    assert trace.time_s.tolist() == [10.0, 20.0] and trace.rtt_ms.tolist() == [40.0, 41.0]
    assert trace.operator == "Starlink"
    path = _write(tmp_path, "time,rtt_ms\n1,2\n", "nocol.csv")
    with pytest.raises(InputFileError, match=r"nocol.csv:1: header has columns time,rtt_ms; missing operator"):
        m.read_ping_trace(path)


def test_probe_summary_malformed(tmp_path):
    header = "prb_id,place_hgreenstein,lat_hgreenstein,lon_hgreenstein,ripe_pop_ptr_2026,n_valid,min_rtt_ms,p5_minrtt_ms,median_minrtt_ms,p95_minrtt_ms\n"
    path = _write(tmp_path, header + '1,"A, B",95.0,1.0,,97,20,21,30,60\n')
    with pytest.raises(InputFileError, match=rf"{path.name}:2: lat 95.0 is out of range; expected a number from -90 to 90"):
        m.read_probe_summary(path)
    path = _write(tmp_path, header + '1,"A, B",50.0,1.0,,97,20,31,30,60\n', "order.csv")
    with pytest.raises(InputFileError, match=r"order.csv:2: min, p5, median, p95 20, 31, 30, 60 ms are not in order"):
        m.read_probe_summary(path)
    path = _write(tmp_path, header + '1,"A, B",50.0,1.0,lndngbr1,97,20,21,30,60\n', "ok.csv")
    (probe,) = m.read_probe_summary(path)
    assert (probe.place, probe.pop, probe.samples) == ("A, B", "lndngbr1", 97)


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(InputFileError, match=r"no such file"):
        m.read_country_metrics(tmp_path / "absent.csv")
    path = _write(tmp_path, HEADER)
    with pytest.raises(InputFileError, match=r"no data rows after the header"):
        m.read_country_metrics(path)


def test_calibration_root_on_an_empty_folder(tmp_path):
    with pytest.raises(InputFileError) as err:
        m.calibration_root(tmp_path)
    message = str(err.value)
    assert "shared/data/starlink_network" in message and str(tmp_path) in message
    assert "only to refit" in message and "not to run leosim" in message
    data = tmp_path / "shared" / "data"
    (data / "starlink_network").mkdir(parents=True)
    (tmp_path / "repo" / "src").mkdir(parents=True)
    assert m.calibration_root(tmp_path / "repo" / "src") == data.resolve()


def test_calibration_root_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(m.DATA_ENV, str(tmp_path))
    with pytest.raises(InputFileError, match=r"has no starlink_network folder.*only to refit"):
        m.calibration_root()
    (tmp_path / "starlink_network").mkdir()
    assert m.calibration_root() == tmp_path.resolve()


# --------------------------------------------------------------------------- the map
def _image(path):
    image = pytest.importorskip("matplotlib.image").imread(path)
    return image


def test_latency_map(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("shapely")
    from leosim.present.latency_maps import latency_map

    published = {"AR": 26.3, "CL": 24.0, "DE": 31.0, "GB": 30.5, "ID": 35.0, "MN": 60.0, "KZ": 58.0, "PH": 33.0,
                 "FJ": 45.0, "RU": 70.0, "XK": 23.6, "TV": 80.0}
    predicted = {code: v + (3.0 if i % 2 else -8.0) for i, (code, v) in enumerate(published.items())}
    predicted.update({"US": 28.0, "ZA": 140.0, "LS": 10.0, "BR": float("nan")})

    alone = latency_map(tmp_path / "alone.png", predicted, title="predicted only")
    both = latency_map(tmp_path / "both.png", predicted, published, title="predicted and published",
                       label="median ping, ms")
    assert alone == tmp_path / "alone.png" and both == tmp_path / "both.png"
    for path, min_width in ((alone, 900), (both, 1500)):
        assert path.stat().st_size > 10_000
        image = _image(path)
        height, width = image.shape[:2]
        assert width >= min_width and 300 <= height < width
        assert np.unique(image.reshape(-1, image.shape[-1])[::97], axis=0).shape[0] > 20  # not one flat colour
    assert _image(both).shape[1] > _image(alone).shape[1]


def test_latency_map_without_overlap(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("shapely")
    from leosim.present.latency_maps import latency_map

    path = latency_map(tmp_path / "none.png", {}, {"AR": 26.3}, title="nothing predicted")
    assert path.stat().st_size > 10_000
