"""``leosim view`` and ``leosim export --czml``: the data, the server's boundaries, the CLI's
errors, and the page itself in a real headless Chromium.

The browser test drives the page as a user does (pick endpoints from the list and by
clicking the globe, move the time slider) and checks what it shows against the engine:
the RTT against ``leosim path`` for the same instant, satellite positions against SGP4.
It needs Debian's chromium, playwright and the vendored CesiumJS (``make assets``; CI
runs it through ``make test``), and skips with the reason otherwise.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from leosim.apps.viewer import (
    KNOT_S,
    WINDOW_S,
    PortInUseError,
    ResultsDirError,
    ViewerAssetsError,
    ViewerData,
    assets_ready,
    node_site,
    safe_file,
)
from leosim.core.geodesy import look_angles

pytest.importorskip("starlette", reason="the viewer extra is not installed (pip install -e '.[viewer]')")
pytest.importorskip("uvicorn", reason="the viewer extra is not installed (pip install -e '.[viewer]')")

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# headless Chromium without a GPU renders WebGL with SwiftShader, which Chromium now
# enables only when asked (its "unsafe" is about untrusted pages on a real desktop)
BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]
SCENARIO = """
name = "viewer-small"
description = "Starlink Gen1 shell 1 over four cities, for the viewer's tests"
[constellation]
preset = "starlink-shell1"
[time]
duration = "12min"
step = "1s"
[ground]
gateways = "none"
pops = "none"
[[ground.terminals]]
places = ["London", "New York", "Tokyo", "Sydney"]
[routing]
attach = "scheduled"
[traffic]
destination = "none"
pairs = [["London", "New York"], ["Tokyo", "Sydney"]]
[outputs]
report = false
"""


def leosim(*args, ok=True, env=None, timeout=300):
    p = subprocess.run([sys.executable, "-m", "leosim", *args], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, **(env or {})})
    if ok:
        assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}"
    return p


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    f = tmp_path_factory.mktemp("scenario") / "viewer-small.toml"
    f.write_text(SCENARIO)
    return f


@pytest.fixture(scope="module")
def results(tmp_path_factory, scenario_file) -> Path:
    """A finished run of the small scenario, with a secret file beside it (not in it)."""
    from leosim.pipeline.run import run
    from leosim.scenario.load import load_scenario

    base = tmp_path_factory.mktemp("viewer")
    (base / "secret.txt").write_text("not for the viewer\n")
    scn, text, path = load_scenario(scenario_file)
    run(scn, text, base / "run", source=path, workers=1)
    return base / "run"


@pytest.fixture(scope="module")
def data(results) -> ViewerData:
    return ViewerData.from_results(results)


# ------------------------------------------------------------------------ the data
def test_window_positions_and_links_match_the_engine(data):
    w = data.window(1)
    c, net = data.constellation, data.network
    assert w["n_knots"] == WINDOW_S / KNOT_S + 3 and w["t0_s"] == WINDOW_S - KNOT_S
    q = np.frombuffer(base64.b64decode(w["positions"]), dtype="<i2").reshape(w["n_knots"], c.n_sats, 3)
    exact = c.positions(data.window_times(1))
    # int16 rounding: half a quantum per axis (219 m for a 550 km shell)
    assert np.abs(q * w["quantum_m"] - exact).max() <= w["quantum_m"] / 2 + 1e-6
    up = np.unpackbits(np.frombuffer(base64.b64decode(w["isl_up"][0]), dtype=np.uint8), bitorder="little")
    assert up[: len(net.isl)].sum() == len(net.isl)  # one shell: every +Grid link is up
    pairs = np.frombuffer(base64.b64decode(w["gsl"][0]), dtype="<u2").reshape(-1, 2)
    sites = data.sites["rows"]
    for site, sat in pairs[:50]:
        el, _, _ = look_angles(sites[site]["lat"], sites[site]["lon"], 0.0, exact[0, sat][None, :])
        assert el[0] >= net.links.min_elevation_deg - 1e-6
    assert {sites[s]["kind"] for s in pairs[:, 0]} == {"terminal"}


def test_node_site_inverts_the_node_layout():
    from leosim import Constellation, GroundSegment, Network, resolve_place
    from leosim.ground.sites import SiteKind
    from leosim.network.modes import BENT_PIPE, HYBRID

    c = Constellation.preset("starlink-shell1")
    ends = GroundSegment.from_sites([resolve_place("London"), resolve_place("Madrid", kind=SiteKind.SERVER)])
    for mode in (HYBRID, BENT_PIPE):
        net = Network(c, ends, GroundSegment.starlink_gateways(), GroundSegment.starlink_pops(), routing=mode)
        segs = {"endpoint": net.endpoints, "gateway": net.gateways, "pop": net.pops}
        for node in [-2, *range(c.n_sats - 1, net.n_nodes)]:
            kind, i = node_site(net, node)
            name = c.names[i] if kind == "satellite" else segs[kind].names[i]
            assert name == net.node_name(node), (mode.name, node)


def test_path_is_the_runs(data, results):
    """The path at a step is what the run stored for that pair and step."""
    xr = pytest.importorskip("xarray")
    ds = xr.open_zarr(results / "rtt.zarr", consolidated=False)
    for step in (0, 377):
        p = data.path(2, 3, step * data.grid.step_s)
        assert p["step"] == step and p["src_name"] == "Tokyo" and p["dst_name"] == "Sydney"
        assert p["rtt_ms"] == pytest.approx(float(ds["rtt_ms"][step, 1]), abs=1e-3)  # float32 in the store
        assert p["nodes"][0]["name"] == "Tokyo" and p["nodes"][-1]["name"] == "Sydney"
        assert all(n["sat"] is not None for n in p["nodes"][1:-1])


def test_paths_to_servers_and_gateway_links(tmp_path):
    """A terminal to its nearest PoP: the path lands at a gateway, rides fibre to the PoP
    and ends at the server; gateways' links come only when asked for."""
    f = tmp_path / "pop.toml"
    f.write_text(SCENARIO.replace('gateways = "none"\npops = "none"', 'gateways = "starlink"\npops = "starlink"')
                 .replace('destination = "none"', 'destination = "nearest-pop"').replace('"12min"', '"1min"'))
    d = ViewerData.from_scenario(f)
    assert d.source == "scenario pop.toml"
    p = json.loads(json.dumps(d.path(0, 4, 30.0)))  # London to its PoP, as JSON
    kinds = [n["kind"] for n in p["nodes"]]
    assert p["dst_name"].startswith("PoP ") and kinds[0] == "endpoint" and kinds[-2:] == ["pop", "server"]
    assert "gateway" in kinds and p["rtt_ms"] > 0
    for n in p["nodes"]:
        if n["site"] is not None:
            assert d.sites["rows"][n["site"]]["name"] == n["name"]
    def kinds_linked(w):
        pairs = np.frombuffer(base64.b64decode(w["gsl"][0]), dtype="<u2").reshape(-1, 2)
        return {d.sites["rows"][s]["kind"] for s in pairs[:, 0]}
    assert kinds_linked(d.window(0)) == {"terminal"}
    assert kinds_linked(d.window(0, gateways=True)) == {"terminal", "gateway"}


def test_czml_holds_what_cesium_needs(data):
    """Structure by the CZML guide: a document packet first, unique ids, every reference to
    an existing position, samples in time order at SGP4's positions."""
    from leosim.apps.czml import czml_packets

    packets = czml_packets(data, duration_s="10min", step_s="60s", laser_links=True)
    doc = packets[0]
    assert doc["id"] == "document" and doc["version"] == "1.0"
    assert doc["clock"]["interval"] == "2026-05-13T00:00:00.000000Z/2026-05-13T00:10:00.000000Z"
    ids = [p["id"] for p in packets]
    assert len(ids) == len(set(ids))
    kinds = {i.split("/")[0] for i in ids[1:]}
    assert kinds == {"sat", "endpoint", "path", "isl"}  # no gateways or PoPs in this scenario
    positioned = {p["id"] for p in packets if "position" in p}
    refs = [r for p in packets if "polyline" in p for iv in (
        p["polyline"].get("positions", []) if isinstance(p["polyline"].get("positions"), list)
        else [p["polyline"]["positions"]]) for r in iv["references"]]
    assert refs and all(r.endswith("#position") and r[:-9] in positioned for r in refs)
    sat = next(p for p in packets if p["id"] == "sat/7")
    assert sat["position"]["referenceFrame"] == "FIXED" and sat["position"]["interpolationDegree"] == 5
    samples = np.array(sat["position"]["cartesian"], dtype=float).reshape(-1, 4)
    assert list(samples[:, 0]) == [60.0 * k for k in range(11)]
    times = data.grid.start + (samples[:, 0] * 1e9).astype("timedelta64[ns]")
    assert np.abs(samples[:, 1:] - data.constellation.positions(times)[:, 7]).max() <= 0.5  # whole metres
    path = next(p for p in packets if p["id"] == "path/1")
    assert path["name"] == "path Tokyo -> Sydney"
    ivs = [iv["interval"] for iv in path["polyline"]["show"]]
    assert all(a.split("/")[1] == b.split("/")[0] for a, b in zip(ivs, ivs[1:]))  # contiguous
    assert path["properties"]["rtt_ms"][0]["number"] == pytest.approx(data.path(2, 3, 0.0)["rtt_ms"], abs=1e-4)


# ------------------------------------------------------------------- bad input
def test_results_dir_that_is_not_one(tmp_path, results):
    expected = "expected the output directory of `leosim run SCENARIO -o DIR` (with summary.json and scenario.toml)"
    with pytest.raises(ResultsDirError) as exc:
        ViewerData.from_results(tmp_path / "nope")
    assert str(exc.value) == f"results directory {str(tmp_path / 'nope')!r} does not exist; {expected}"
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(ResultsDirError, match="is a file, not a results directory"):
        ViewerData.from_results(f)
    with pytest.raises(ResultsDirError) as exc:
        ViewerData.from_results(tmp_path)
    assert str(exc.value) == (
        f"{str(tmp_path)!r} is not a leosim results directory: it has no summary.json or scenario.toml; {expected}"
    )
    (tmp_path / "summary.json").write_text("{not json")
    (tmp_path / "scenario.toml").write_text((results / "scenario.toml").read_text())
    with pytest.raises(ResultsDirError, match="summary.json' cannot be read: Expecting property name"):
        ViewerData.from_results(tmp_path)
    (tmp_path / "INCOMPLETE").write_text("partial")
    with pytest.raises(ResultsDirError, match="holds an unfinished run"):
        ViewerData.from_results(tmp_path)


def test_cli_errors_are_one_line(tmp_path, scenario_file):
    p = leosim("view", str(tmp_path / "nope"), "--no-browser", ok=False)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.startswith(f"error: results directory {str(tmp_path / 'nope')!r} does not exist; expected")
    p = leosim("export", "--czml", str(tmp_path / "x.json"), "--scenario", str(scenario_file), ok=False)
    assert p.returncode == 1 and p.stderr.strip() == f"error: --czml {str(tmp_path / 'x.json')!r} has suffix '.json'; expected OUT.czml"


def test_port_in_use(scenario_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError) as exc:
            from leosim.apps.viewer import _bind

            _bind("127.0.0.1", port)
        assert str(exc.value) == (
            f"port {port} on 127.0.0.1 is already in use; expected a free port (leave out --port and one is picked)"
        )
        p = leosim("view", "--scenario", str(scenario_file), "--port", str(port), "--no-browser", ok=False)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.startswith(f"error: port {port} on 127.0.0.1 is already in use")


def test_missing_assets_say_how_to_build_them(monkeypatch, tmp_path):
    import leosim.apps.viewer as viewer

    monkeypatch.setattr(viewer, "CESIUM_JS", viewer.STATIC_DIR / "vendor" / "nothing" / "Cesium.js")
    with pytest.raises(ViewerAssetsError) as exc:
        viewer.check_assets()
    assert str(exc.value) == (
        "the viewer's CesiumJS files are missing (viewer_static/vendor/nothing/Cesium.js); expected them from the "
        "npm registry: run `make assets` in a leosim checkout (needs Node.js and npm)"
    )


needs_assets = pytest.mark.skipif(not assets_ready(), reason="CesiumJS is not vendored: run `make assets` (needs npm)")


@needs_assets
def test_browser_that_cannot_open_is_a_warning(scenario_file):
    """No browser: a warning, and the server runs on until Ctrl+C."""
    env = {**os.environ, "BROWSER": "/nonexistent/browser", "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, "-m", "leosim", "view", "--scenario", str(scenario_file)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        try:
            line = proc.stdout.readline()
            assert line.startswith("leosim viewer: http://127.0.0.1:"), line + proc.stderr.read()
            url = line.split()[2]
            warning = proc.stderr.readline()
            assert warning.startswith("warning: could not open a browser (no browser could be started); open ")
            host, port = url.split("//")[1].rstrip("/").split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("GET", "/")
            assert conn.getresponse().status == 200
            conn.close()
        finally:
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=30)
        assert rc == 0 and proc.stderr.read() == "viewer stopped\n"


# ------------------------------------------------------------------- the server
def test_safe_file_stays_in_its_root(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.txt").write_text("ok")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    assert safe_file(root, "sub/ok.txt") == (root / "sub" / "ok.txt").resolve()
    for bad in ("../secret.txt", "sub/../../secret.txt", "/etc/passwd", str(tmp_path / "secret.txt"), "sub\\..\\..\\x",
                "sub/./ok.txt", "sub/ok.txt\x00", "link", "sub", "", "C:/x"):
        assert safe_file(root, bad) is None, bad


@pytest.fixture(scope="module")
def server(data):
    if not assets_ready():
        pytest.skip("CesiumJS is not vendored: run `make assets` (needs npm)")
    from leosim.apps.viewer import ViewerServer

    with ViewerServer(data) as srv:
        yield srv


def _raw_get(srv, target: str) -> tuple[int, bytes]:
    """GET exactly ``target`` (http.client sends it unnormalised)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_host=False, skip_accept_encoding=True)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_server_serves_nothing_outside_its_roots(server, results):
    assert server.host == "127.0.0.1"
    assert _raw_get(server, "/")[0] == 200
    assert _raw_get(server, "/static/viewer.js")[0] == 200
    assert _raw_get(server, "/static/vendor/cesium/Cesium.js")[0] == 200
    status, body = _raw_get(server, "/results/summary.json")
    assert status == 200 and json.loads(body)["scenario"] == "viewer-small"
    source = (ROOT / "src" / "leosim" / "__init__.py").read_bytes()[:200]  # a file beside the static root
    for target in [
        "/static/../__init__.py", "/static/../../leosim/__init__.py", "/static/%2e%2e/__init__.py",
        "/static/%2e%2e%2f__init__.py", "/static/..%2f__init__.py", "/static/%2E%2E%2F__init__.py",
        "/static/%252e%252e%252f__init__.py", "/static/..%252f__init__.py", "/static/..\\__init__.py",
        "/static/%5c..%5c__init__.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/static/" + str(ROOT / "README.md"),
        "/static/vendor/../../__init__.py", "/static/viewer.js%00.png", "/results/../secret.txt",
        "/results/%2e%2e/secret.txt", "/results/..%2fsecret.txt", "/results/%2e%2e%2fsecret.txt",
        "/results//" + str(results.parent / "secret.txt"), "/../secret.txt", "/%2e%2e/secret.txt",
        "/__init__.py", "/etc/passwd",
    ]:
        status, body = _raw_get(server, target)
        assert status in (400, 404), (target, status)
        assert b"not for the viewer" not in body and source not in body and b"root:" not in body, target


def _request(srv, target: str = "/", method: str = "GET", headers: dict | None = None) -> tuple[int, bytes]:
    """Send ``method target`` with exactly ``headers`` (Host included: none is added)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_server_answers_only_requests_addressed_to_it(server):
    """DNS rebinding: a page on evil.example that resolves its name to 127.0.0.1 sends
    Host evil.example, and another site's script sends its own Origin; both are refused
    before any route runs. Long targets are 414 (an 8,000-character path was 500)."""
    own = f"127.0.0.1:{server.port}"
    assert _request(server, "/", headers={"Host": own})[0] == 200
    assert _request(server, "/", headers={"Host": f"localhost:{server.port}"})[0] == 200
    assert _request(server, "/api/path?src=0&dst=1&t=0", headers={"Host": own, "Origin": f"http://{own}"})[0] == 200
    for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1", f"127.0.0.1:{server.port + 1}",
                 f"127.0.0.1.evil.example:{server.port}", f"127.0.0.1:{server.port}@evil.example"):
        status, body = _request(server, "/api/path?src=0&dst=1&t=0", headers={"Host": host})
        assert status == 421 and b"rtt_ms" not in body, host
    assert _request(server, "/", headers={})[0] in (400, 421)  # no Host at all: h11 refuses it first (400)
    for origin in ("http://evil.example", f"http://evil.example:{server.port}", f"https://{own}", "null",
                   f"http://{own}.evil.example"):
        status, body = _request(server, "/api/path?src=0&dst=1&t=0", headers={"Host": own, "Origin": origin})
        assert status == 403 and b"rtt_ms" not in body, origin
    assert _request(server, "/api/path", method="POST", headers={"Host": own, "Content-Length": "0"})[0] == 405
    status, body = _request(server, "/static/" + "a" * 8000, headers={"Host": own})
    assert status == 414 and b"at most 2048" in body
    assert _request(server, "/api/path?" + "x" * 8000, headers={"Host": own})[0] == 414
    assert _request(server, "/" + "a" * 8000, headers={"Host": "evil.example"})[0] == 414
    # under the limit, a name longer than the filesystem allows is 404, not 500
    assert _request(server, "/static/" + "a" * 1500, headers={"Host": own})[0] == 404
    assert _request(server, "/results/" + "/".join(["b" * 250] * 6), headers={"Host": own})[0] == 404


def test_api_refuses_bad_queries(server):
    status, body = _raw_get(server, "/api/window?k=99")
    assert status == 400 and json.loads(body) == {"error": "window 99 is outside the run; expected 0 to 1"}
    status, body = _raw_get(server, "/api/path?src=1&dst=1&t=0")
    assert status == 400 and json.loads(body)["error"] == "src and dst are both endpoint 1; expected two different endpoints"
    status, body = _raw_get(server, "/api/path?src=x&dst=1&t=0")
    assert status == 400 and json.loads(body)["error"] == "src = 'x' is not an integer; expected ?src=N"
    status, body = _raw_get(server, "/api/path?src=0&dst=9&t=0")
    assert status == 400 and json.loads(body)["error"] == "dst = 9 is not an endpoint; expected 0 to 3"


# ------------------------------------------------------------------- the layers
# a small Walker shell over London and Madrid with every layer section (as in
# tests/test_scenario.py): a policy, a jammer near London from 30 s, sensors around
# London, and the capacity of Cyprus over one interval
LAYERED = """
name = "viewer-layers"
seed = 1
[constellation]
shells = [{altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 16}]
[time]
start = "2026-05-13T00:00:00Z"
duration = "1min"
step = "5s"
[ground]
gateways = "starlink"
pops = "starlink"
[[ground.terminals]]
places = ["London", "Madrid"]
[routing]
mode = "isl"
attach = "scheduled"
min_elevation_deg = 20
[traffic]
destination = "nearest-pop"
pairs = [["London", "Madrid"]]
[policy]
preset = "all"
[jamming]
region = "GB"
jammers = [{name = "near London", latitude_deg = 51.52, longitude_deg = -0.10, eirp_dbw = 10, start = "30s"}]
[exposure]
sensors = "ring:6:2"
center = "London"
duty_cycles = [0.11, 0.02]
hours = 1
terminals = 2
trials = 20
[capacity]
country = "CY"
terminals = 300
intervals = 1
[outputs]
report = false
"""


def _csv(path: Path) -> list[dict]:
    import csv

    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def layered(tmp_path_factory) -> Path:
    pytest.importorskip("h3", reason="the policy and capacity extras are not installed (pip install 'leosim[capacity]')")
    pytest.importorskip("itur", reason="the capacity extra is not installed (pip install 'leosim[capacity]')")
    from leosim.pipeline.run import run
    from leosim.scenario.load import parse_scenario

    out = tmp_path_factory.mktemp("layers") / "run"
    run(parse_scenario(LAYERED, "layers.toml"), LAYERED, out, workers=1)
    return out


def test_layers_api_serves_what_the_run_wrote(layered, monkeypatch):
    import h3

    import leosim.apps.viewer as viewer_mod

    monkeypatch.setattr(viewer_mod, "check_assets", lambda: None)  # JSON only: the page is not loaded
    data = ViewerData.from_results(layered)
    assert data.scene()["layers"] == ["capacity", "admission", "jamming", "exposure"]
    with viewer_mod.ViewerServer(data) as srv:
        status, body = _raw_get(srv, "/api/layers")
    assert status == 200
    got = json.loads(body)
    assert got["layers"] == ["capacity", "admission", "jamming", "exposure"] and got["errors"] == {}

    # capacity: every cell of capacity_cells.csv, with its speed, centre and H3 outline
    cells = _csv(layered / "capacity_cells.csv")
    cap = got["capacity"]
    assert len(cap["intervals"]) == 1 and cap["intervals"][0]["start_utc"] == cells[0]["interval_start"]
    assert cap["cells"] == [r["cell"] for r in cells] and len(cells) > 5
    assert cap["per_terminal_mbps"][0] == [float(r["per_terminal_mbps"]) for r in cells]
    assert cap["terminals"][0] == [int(r["terminals"]) for r in cells] and sum(cap["terminals"][0]) == 300
    assert cap["lat"] == [float(r["latitude_deg"]) for r in cells]
    assert cap["max_mbps"] == max(float(r["per_terminal_mbps"]) for r in cells)
    b = np.array(cap["boundary"][0]).reshape(-1, 2)
    assert np.allclose(b, np.array(h3.cell_to_boundary(cells[0]["cell"])), atol=1e-4)

    # admission: the code of each terminal, on its site in the scene
    adm = _csv(layered / "admission.csv")
    names = [s["name"] for s in data.scene()["sites"]]
    assert [(t["terminal"], t["code"]) for t in got["admission"]["terminals"]] == [(r["terminal"], r["code_at_start"]) for r in adm]
    assert [names[t["site"]] for t in got["admission"]["terminals"]] == ["London", "Madrid"]
    london = got["admission"]["terminals"][0]
    assert (london["first_denied_s"], london["first_denied_code"]) == (30.0, "UNKNOWN_LOCATION")  # jammed from 30 s
    assert "UNKNOWN_LOCATION" in got["admission"]["codes"]

    # jamming: the scenario's jammer, on from 30 s, and jamming.csv's denied share per step
    jam = got["jamming"]
    (j,) = jam["jammers"]
    assert (j["name"], j["lat"], j["lon"], j["eirp_dbw"]) == ("near London", 51.52, -0.10, 10.0)
    assert j["active_s"][0][0] == 30.0 and 1e3 < j["denial_radius_m"] < 1e6
    rows = _csv(layered / "jamming.csv")
    assert jam["steps"]["denied_share_terminals"] == [float(r["denied_share_terminals"]) for r in rows]
    assert jam["steps"]["area"] == "GB" and jam["steps"]["denied_share_area"][-1] > 0

    # exposure: six sensors around London, and each terminal's median time to locate
    expo = got["exposure"]
    assert len(expo["sensors"]) == 6
    rows = _csv(layered / "exposure.csv")
    by = {(t["terminal"], d["duty_cycle"]): d["median_s"] for t in expo["terminals"] for d in t["duty_cycles"]}
    assert by == {(r["terminal"], float(r["duty_cycle"])): None if r["median_s"] == "not located" else float(r["median_s"])
                  for r in rows}


def test_layer_toggles_in_headless_chromium(layered):
    """The layer toggles show for a scenario with the sections, and switching them off and
    on again recolours the terminals with no console error."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    if not assets_ready():
        pytest.skip("CesiumJS is not vendored: run `make assets` (needs npm)")
    from leosim.apps.viewer import ViewerServer

    pw, browser = _launch(sync_api)
    problems = []
    try:
        with ViewerServer(ViewerData.from_results(layered)) as srv:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
            page.goto(srv.url)
            page.wait_for_selector("body[data-layers='capacity admission jamming exposure']", timeout=60_000)
            page.keyboard.press("Space")
            page.locator("#time").fill("40")  # London is jammed from 30 s
            page.wait_for_function("leosimViewer.drawnT === 40", polling=100)
            label = "leosimViewer.viewer.entities.getById('site-0').label.text.getValue()"
            page.wait_for_function(f"{label} === 'London [UNKNOWN_LOCATION]'", polling=100)
            for name in ("capacity", "admission", "jamming", "exposure"):
                box = page.locator(f"#layer-{name}")
                assert box.is_visible() and box.is_checked()
                box.uncheck()
                box.check()
            assert "GPS denied at t = 40 s: 50.0 % of terminals" in page.locator("#layer-info").inner_text()
            page.locator("#layer-admission").uncheck()
            assert page.evaluate(label) == "London"
    finally:
        browser.close()
        pw.stop()
    assert not problems, problems


# ------------------------------------------------------------------ the browser
def _launch(sync_api):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    p = sync_api.sync_playwright().start()
    return p, p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)


def test_viewer_in_headless_chromium(server, data, results):
    """Loads offline with no failed request or console error, draws the globe, shows the
    path and RTT ``leosim path`` gives, moves satellites with the slider, loads the CZML."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    from PIL import Image

    export = leosim("export", str(results), "--czml", str(results / "view.czml"), "--duration", "10min", "--step", "60s")
    assert "wrote" in export.stderr
    pw, browser = _launch(sync_api)
    problems, foreign = [], []
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 760})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((server.url, "blob:", "data:")) else None)
        page.goto(server.url)
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        page.keyboard.press("Space")  # pause (a click waits for steady frames: slow in software)
        assert page.evaluate("leosimViewer.playing") is False

        # the slider moves the satellites, to where SGP4 puts them
        c = data.constellation
        seen = {}
        for t in (120, 650):  # two windows
            page.locator("#time").fill(str(t))
            page.wait_for_function(f"leosimViewer.drawnT === {t}", polling=100)
            seen[t] = page.evaluate("leosimViewer.satellitePosition(0)")
            exact = c.positions(data.grid.start + np.timedelta64(t, "s"))[0, 0]
            # int16 rounding (<= 190 m) plus the spline between 60 s knots (33 m)
            assert np.linalg.norm(np.array(seen[t]) - exact) < 250.0
        assert np.linalg.norm(np.array(seen[650]) - np.array(seen[120])) > 1000e3

        # not blank: the globe, satellites and links make a varied picture
        png = page.locator("#globe canvas").screenshot()
        img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
        assert img.std() > 20 and (img > 40).mean() > 0.1, (img.std(), (img > 40).mean())
        counts = page.evaluate("leosimViewer.counts()")
        assert counts["sats"] == 1584 and counts["isl"] == len(data.network.isl) and counts["gsl"] > 0

        # endpoints from the list ...
        page.select_option("#src", "2")
        page.select_option("#dst", "3")
        page.wait_for_selector("#rtt[data-state='ok'][data-src='2'][data-dst='3'][data-step='650']")
        # ... and by clicking them on the globe (first click: from, second: to)
        for ep in (0, 1):
            xy = page.evaluate(f"""(() => {{
                const v = leosimViewer.viewer, s = leosimViewer.scene.sites[{ep}];
                const w = Cesium.SceneTransforms.worldToWindowCoordinates(v.scene, new Cesium.Cartesian3(...s.xyz));
                return [w.x, w.y]; }})()""")
            page.mouse.click(xy[0], xy[1])
        page.wait_for_selector("#rtt[data-state='ok'][data-src='0'][data-dst='1'][data-step='650']")
        rtt = page.locator("#rtt")
        shown_ms = float(rtt.get_attribute("data-rtt-ms"))
        when = rtt.get_attribute("data-time-utc")
        assert rtt.inner_text().startswith(f"RTT {shown_ms:.3f} ms")
        names = page.evaluate("leosimViewer.path().nodes.map(n => n.name)")
        assert names[0] == "London" and names[-1] == "New York City" and len(names) >= 3
        assert page.locator("#hops li").count() == len(names)

        # the CZML export loads in Cesium, satellites where SGP4 puts them
        got = page.evaluate("""async () => {
            const ds = await Cesium.CzmlDataSource.load('/results/view.czml');
            const t = Cesium.JulianDate.addSeconds(ds.clock.startTime, 90, new Cesium.JulianDate());
            const sat = ds.entities.getById('sat/0').position.getValue(t);
            const path = ds.entities.getById('path/0').polyline.positions.getValue(t);
            return {n: ds.entities.values.length, sat: [sat.x, sat.y, sat.z], path: path.length,
                    stop: Cesium.JulianDate.secondsDifference(ds.clock.stopTime, ds.clock.startTime)};
        }""")
    finally:
        browser.close()
        pw.stop()
    assert not problems, problems
    assert not foreign, foreign
    assert got["n"] == 1584 + 4 + 2 and got["stop"] == 600 and got["path"] >= 3
    exact = c.positions(data.grid.start + np.timedelta64(90, "s"))[0, 0]
    assert np.linalg.norm(np.array(got["sat"]) - exact) < 5.0  # Lagrange, degree 5, 60 s samples

    # the same instant through the command line
    out = leosim("path", "--src", "London", "--dst", "New York", "--start", when, "--duration", "1s", "--step", "1s",
                 "--attach", "scheduled", "-c", "starlink-shell1", "--format", "json", "--workers", "1")
    row = json.loads(out.stdout)[0]
    assert row["time_utc"] == when
    assert abs(row["rtt_ms"] - shown_ms) < 0.01


@pytest.mark.skipif(os.environ.get("LEOSIM_VIEWER_FPS") != "1", reason="a measurement, not a check: LEOSIM_VIEWER_FPS=1 runs it")
@needs_assets
def test_frame_rate_with_starlink_gen1(tmp_path):
    """Frames per second with Starlink Gen1 (4,408 satellites) playing at 60x; with
    LEOSIM_VIEWER_SCREENSHOT=PATH also a screenshot."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from leosim.apps.viewer import ViewerServer

    f = tmp_path / "gen1.toml"
    f.write_text(SCENARIO.replace("starlink-shell1", "starlink-gen1").replace('"viewer-small"', '"starlink-gen1"'))
    with ViewerServer(ViewerData.from_scenario(f)) as srv:
        pw, browser = _launch(sync_api)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(srv.url)
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            page.wait_for_selector("#rtt[data-state='ok']")
            time.sleep(3)  # imagery tiles settle
            f0, t0 = page.evaluate("leosimViewer.frames()"), time.perf_counter()
            time.sleep(10)
            fps = (page.evaluate("leosimViewer.frames()") - f0) / (time.perf_counter() - t0)
            print(f"\nframe rate, Starlink Gen1 ({page.evaluate('leosimViewer.counts()')}), 1280x800: {fps:.1f} fps")
            if os.environ.get("LEOSIM_VIEWER_SCREENSHOT"):
                from PIL import Image

                page.keyboard.press("Space")
                # 256 colours: the docs' copy stays well under 500 kB
                img = Image.open(io.BytesIO(page.screenshot())).convert("RGB").quantize(256)
                img.save(os.environ["LEOSIM_VIEWER_SCREENSHOT"], optimize=True)
        finally:
            browser.close()
            pw.stop()
    assert fps > 0
