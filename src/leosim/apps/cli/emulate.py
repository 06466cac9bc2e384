"""``leosim emulate``: run a real program over the computed satellite path.

    sudo leosim emulate --src Tehran --dst Frankfurt --duration 2min -- ping -i 0.2 {server}
    sudo leosim emulate --src Kyiv --dst Frankfurt --rate-mbps 20 --serve 'iperf3 -s' -- iperf3 -c {server} -t 10
    sudo leosim emulate --cleanup
"""

# no "from __future__ import annotations": typer reads the options defined inside register()

import csv
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from leosim.core.time import parse_duration
from leosim.core.visibility import DEFAULT_MIN_ELEVATION_DEG
from leosim.errors import ParameterError
from leosim.ground.places import resolve_endpoint

PING_RE = re.compile(r"time[=<]([0-9.]+) ?ms")
IPERF_RE = re.compile(r"([0-9.]+) ([KMG]?)bits/sec.*?(sender|receiver)")


def _trace_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A CSV with columns t_s and rtt_ms (``leosim path -f csv`` output works; empty rtt = outage)."""
    try:
        rows = list(csv.DictReader(path.open()))
    except OSError as exc:
        raise ParameterError(f"cannot read trace file {str(path)!r}: {exc.strerror}; expected a CSV with t_s,rtt_ms") from None
    if not rows or not {"t_s", "rtt_ms"} <= set(rows[0]):
        raise ParameterError(f"trace file {str(path)!r} has no t_s and rtt_ms columns; expected a CSV header 't_s,rtt_ms'")
    t, r = [], []
    for line, row in enumerate(rows, start=2):
        try:
            t.append(float(row["t_s"]))
            r.append(float(row["rtt_ms"]) / 1e3 if row["rtt_ms"].strip() else np.nan)
        except ValueError:
            raise ParameterError(f"{path}:{line}: {row!r} is not numeric; expected t_s,rtt_ms numbers") from None
    return np.array(t), np.array(r)


def _route(a, b, start, duration, step, routing, attach, min_elevation, constellation, tle, delay="ping", transients=True):
    """The RTT series to emulate between two sites: (offsets s, rtt s, start unix s, label).

    ``delay="ping"``: the predicted median idle ping at each step (the ``ping_ms`` of
    ``leosim path``: :class:`leosim.models.latency.LatencyModel`), less the average of the
    reconfiguration spikes when ``transients`` emulates those spikes themselves, so that
    the emulated ping, averaged over 15 s, is the model's; ``"propagation"``: the routed
    propagation RTT alone."""
    from leosim.apps.cli.common import load_constellation, network_from_options, time_grid
    from leosim.ground.sites import GroundSegment, SiteKind
    from leosim.models.latency import LatencyModel

    c = load_constellation(constellation, tle)
    grid = time_grid(c, start, duration, step)
    net = network_from_options(c, GroundSegment.from_sites([a, b]), routing, attach, min_elevation, None, None, None)
    res = net.solve(grid.times, np.array([[0, 1]]), step_s=grid.step_s)
    start_unix = float(grid.times[0].astype("datetime64[ns]").astype(np.int64)) / 1e9
    rtt = res.rtt_s[:, 0]
    if delay == "ping":
        m = LatencyModel()
        terminals = int(a.kind is not SiteKind.SERVER) + int(b.kind is not SiteKind.SERVER)
        rtt = m.median_ping_s(rtt, res.sats[:, 0], res.gateways[:, 0], terminals) - (m.spike_mean_s if transients else 0.0)
    return grid.offsets_s, rtt, start_unix, f"{a.name} -> {b.name}"


def _stop_command(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()


def register(app: typer.Typer) -> None:
    from leosim.apps.cli.common import (
        DEFAULT_CLI_ATTACH,
        DEFAULT_ROUTING,
        AttachOpt,
        ConstellationOpt,
        MinElOpt,
        RoutingOpt,
        StartOpt,
        TleOpt,
        err,
        out,
    )

    @app.command("emulate", context_settings={"allow_interspersed_args": False})
    def emulate_cmd(
        command: Annotated[list[str] | None, typer.Argument(help="Program to run in the client namespace, after --; {server} becomes the server's address.")] = None,
        src: Annotated[str | None, typer.Option("--src", help="Client place, as in 'leosim path'.")] = None,
        dst: Annotated[str | None, typer.Option("--dst", help="Server place, as in 'leosim path' (prefix 'internet:' for a server behind a PoP).")] = None,
        start: StartOpt = None,
        duration: Annotated[str, typer.Option("--duration", help="How long the link is emulated: 30s, 2min.")] = "2min",
        step: Annotated[str, typer.Option("--step", help="Routing time step (the link is updated every 100 ms regardless).")] = "1s",
        routing: RoutingOpt = DEFAULT_ROUTING,
        attach: AttachOpt = DEFAULT_CLI_ATTACH,
        min_elevation: MinElOpt = None,
        constellation: ConstellationOpt = None,
        tle: TleOpt = None,
        trace: Annotated[Path | None, typer.Option("--trace", help="Replay a CSV trace (t_s,rtt_ms; e.g. 'leosim path -f csv') instead of routing.")] = None,
        rate_mbps: Annotated[float | None, typer.Option("--rate-mbps", help="Rate limit in each direction, Mbit/s (tbf).")] = None,
        loss: Annotated[float, typer.Option("--loss", help="Non-congestive loss probability per packet (docs/design.md: 0.01).")] = 0.01,
        transients: Annotated[bool, typer.Option("--transients/--no-transients", help="Loss bursts and +30-50 ms spikes at the 15 s reconfigurations.")] = True,
        seed: Annotated[int, typer.Option("--seed", help="Seed for loss and spikes.")] = 0,
        delay: Annotated[str, typer.Option("--delay", help="What the link delays packets by: ping (the predicted median idle ping of leosim path's ping_ms: propagation plus access, processing and queueing, docs/latency.md) or propagation (the routed RTT alone).")] = "ping",
        backend: Annotated[str, typer.Option("--backend", help="auto (netem if the kernel has it), netem, userspace.")] = "auto",
        serve: Annotated[list[str] | None, typer.Option("--serve", help="Server command run in the server namespace for the whole run (repeatable), e.g. 'iperf3 -s'.")] = None,
        cleanup: Annotated[bool, typer.Option("--cleanup", help="Remove leftover leosim-* namespaces, links and processes, and exit.")] = False,
    ) -> None:
        """Run a real program over the emulated satellite path (needs root)."""
        from leosim.apps.netemu import (
            EmulatedLink,
            EmulationError,
            choose_backend,
            cleanup_leftovers,
            find_tool,
            require_root,
        )
        from leosim.models.emulation import EmulationSchedule, LossModel

        if cleanup:
            require_root()
            gone = cleanup_leftovers()
            n = sum(len(v) for v in gone.values())
            out.print(f"removed {n} leftovers: " + ("; ".join(f"{k}: {', '.join(v)}" for k, v in gone.items() if v) or "none"))
            return
        dur_s = parse_duration(duration)
        if not command:
            raise ParameterError("no COMMAND given; expected: leosim emulate --src A --dst B -- COMMAND ...")
        # fail on the cheap things before routing (which takes a while): the arguments
        # first, then whether the programs are installed
        if rate_mbps is not None and rate_mbps <= 0:
            raise ParameterError(f"rate {rate_mbps:g} Mbit/s is not positive; expected a rate above 0")
        if trace is None:
            if not src or not dst:
                raise ParameterError("--src and --dst are required (or --trace FILE); expected two places")
            from leosim.apps.cli.common import check_choices, check_durations

            check_durations(duration, step)
            check_choices(routing, attach)
            if delay not in ("ping", "propagation"):
                raise ParameterError(f"--delay {delay!r}; expected ping or propagation")
            a, b = resolve_endpoint(src), resolve_endpoint(dst)
        serve_argv = [shlex.split(s) for s in (serve or [])]
        for argv in [command, *serve_argv]:
            if not argv:
                raise ParameterError("an empty --serve command; expected e.g. --serve 'iperf3 -s'")
            if "/" not in argv[0]:
                find_tool(argv[0])
            elif not Path(argv[0]).exists():
                raise EmulationError(f"command {argv[0]!r} was not found or is not executable; expected a program on PATH")
        require_root()
        model = LossModel(loss=loss, handovers=transients) if transients else LossModel(loss=loss, burst_loss=0.0, handovers=False)
        if trace is not None:
            t_s, rtt_s = _trace_file(trace)
            start_unix, label = 0.0, f"trace {trace}"
        else:
            err.print("routing ...")
            t_s, rtt_s, start_unix, label = _route(a, b, start, duration, step, routing, attach,
                                                  DEFAULT_MIN_ELEVATION_DEG if min_elevation is None else min_elevation, constellation, tle,
                                                  delay, transients)
        sched = EmulationSchedule.from_rtt(t_s, rtt_s, duration_s=dur_s, start_unix_s=start_unix, model=model, seed=seed)
        be, why = choose_backend(backend)
        err.print(f"backend: {why}")
        finite = sched.rtt_target_s[np.isfinite(sched.rtt_target_s)]
        err.print(f"{label}: {dur_s:g} s, target RTT ({'predicted ping' if trace is None and delay == 'ping' else 'propagation' if trace is None else 'trace'}) "
                  + (f"{finite.min() * 1e3:.1f}-{finite.max() * 1e3:.1f} ms" if len(finite) else "none")
                  + f", loss {loss:g}, {len(sched.events_s)} reconfiguration transients"
                  + (f", rate {rate_mbps:g} Mbit/s" if rate_mbps else ""))
        if sched.outage_fraction() > 0:
            bad = np.flatnonzero(~np.isfinite(sched.rtt_target_s)) * sched.update_s
            err.print(f"[yellow]no path during {sched.outage_fraction():.0%} of the run (from t={bad[0]:.1f} s): "
                      "packets are dropped there (outage)[/yellow]")
        try:
            with EmulatedLink(sched, backend=be, rate_bps=None if rate_mbps is None else rate_mbps * 1e6, seed=seed) as link:
                argv = [a.replace("{server}", link.server_ip) for a in command]
                err.print(f"client {link.client_ns} {link.client_ip}, server {link.server_ns} {link.server_ip}")
                for s_argv in serve_argv:
                    link.popen([a.replace("{server}", link.server_ip) for a in s_argv], side="server",
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if serve_argv:
                    time.sleep(0.3)  # let servers bind
                time.sleep(max(0.0, link.t0 - time.monotonic()))
                p = link.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
                samples, iperf = [], []
                # the link lasts --duration: then COMMAND gets SIGINT (ping prints its summary), SIGKILL 5 s later
                stopper = threading.Timer(max(0.0, link.t0 + dur_s - time.monotonic()), _stop_command, (p,))
                stopper.daemon = True
                stopper.start()
                try:
                    for line in p.stdout:
                        typer.echo(line, nl=False)
                        now = link.elapsed_s()
                        m = PING_RE.search(line)
                        if m:
                            rtt = float(m.group(1)) / 1e3
                            sent = now - rtt
                            i = int(np.clip(sent / sched.update_s, 0, sched.n_steps - 1))
                            j = int(np.clip((sent + sched.delay_fwd_s[i]) / sched.update_s, 0, sched.n_steps - 1))
                            samples.append((sent, rtt, sched.delay_fwd_s[i] + sched.delay_rev_s[j]))
                        m = IPERF_RE.search(line)
                        if m:
                            iperf.append((m.group(3), float(m.group(1)) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[m.group(2)]))
                    code = p.wait()
                except KeyboardInterrupt:
                    _stop_command(p)
                    raise
                finally:
                    stopper.cancel()  # no timer thread left behind on any way out
        except KeyboardInterrupt:
            # the link is gone (the with block closed it); exit here: typer would turn this into a
            # return value that the entry point ignores
            err.print("interrupted; removed namespaces and link")
            sys.exit(130)
        err.print(f"[bold]closing note[/bold]: backend {be.name}; link forwarded {link.stats.get('forwarded', '?')} packets, "
                  f"dropped {link.stats.get('dropped', '?')}")
        if samples:
            a = np.array(samples)
            e = (a[:, 1] - a[:, 2]) * 1e3
            err.print(f"ping: {len(a)} replies; measured RTT median {np.median(a[:, 1]) * 1e3:.2f} ms vs target "
                      f"{np.median(a[:, 2]) * 1e3:.2f} ms; error median {np.median(e):+.2f} ms, "
                      f"{np.mean(np.abs(e) <= 2.0):.0%} within +-2 ms")
        for kind, bps in iperf[-2:]:
            err.print(f"iperf3 {kind}: {bps / 1e6:.2f} Mbit/s" + (f" (limit {rate_mbps:g})" if rate_mbps else ""))
        err.print("removed namespaces and link")
        if code:
            sys.exit(code if code > 0 else 128 - code)  # a signal -N exits as 128+N, like a shell
