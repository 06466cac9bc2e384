"""Userspace delay line: maximum sustained throughput and the latency it adds at that load.

Goal (issue 6): at least 200 Mbit/s with under 1 ms added. Needs root, ping and iperf3.

    sudo .venv/bin/python benchmarks/bench_emulation.py [--mtu 1500] [--rtt-ms 10]

Method: a link with a fixed target RTT, no loss, no rate limit.
1. idle: ping RTT minus the target = the delay line's own added latency;
2. TCP: one iperf3 TCP stream for 4 s = the most one flow gets;
3. UDP ladder: iperf3 -u at rising rates (1400-byte datagrams) for 3 s each, ping every 10 ms
   alongside; the highest rate with < 1 % loss is the *sustained* throughput, and the ping
   median minus the target there is the *added latency at that load*.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import time

import numpy as np

from leosim.apps.netemu import EmulatedLink, UserspaceBackend
from leosim.models.emulation import EmulationSchedule, LossModel


def _ping(link, count, interval="0.01"):
    return link.popen(["ping", "-n", "-i", interval, "-c", str(count), link.server_ip],
                      stdout=subprocess.PIPE, text=True)


def _rtts(out: str) -> np.ndarray:
    return np.array([float(x) for x in re.findall(r"time=([0-9.]+) ms", out)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mtu", type=int, default=1500)
    ap.add_argument("--rtt-ms", type=float, default=10.0)
    ap.add_argument("--rates", default="50,100,150,200,250,300,400,500,700,1000")
    a = ap.parse_args()
    target = a.rtt_ms
    s = EmulationSchedule.from_rtt([0.0], [target / 1e3], duration_s=600.0, model=LossModel.none())
    rows = {}
    with EmulatedLink(s, backend=UserspaceBackend(), mtu=a.mtu, tag="bench") as link:
        time.sleep(0.2)
        out = _ping(link, 100).communicate()[0]
        idle = _rtts(out) - target
        rows["idle_added_ms_median"] = float(np.median(idle))
        rows["idle_added_ms_p99"] = float(np.percentile(idle, 99))
        print(f"idle: added {np.median(idle):.3f} ms median, {np.percentile(idle, 99):.3f} ms p99 (target RTT {target} ms)")

        srv = link.popen(["iperf3", "-s"], side="server", stdout=subprocess.DEVNULL)
        time.sleep(0.3)
        r = json.loads(link.popen(["iperf3", "-c", link.server_ip, "-t", "4", "-J"], stdout=subprocess.PIPE,
                                  text=True).communicate()[0])
        tcp = r["end"]["sum_received"]["bits_per_second"] / 1e6
        rows["tcp_one_flow_mbps"] = tcp
        print(f"TCP, one flow, MTU {a.mtu}: {tcp:.1f} Mbit/s")

        best = None
        for rate in [float(x) for x in a.rates.split(",")]:
            pp = _ping(link, 250)
            r = json.loads(link.popen(["iperf3", "-c", link.server_ip, "-u", "-b", f"{rate}M", "-l", "1400", "-t", "3",
                                       "-J"], stdout=subprocess.PIPE, text=True).communicate()[0])
            pp.terminate()
            rt = _rtts(pp.communicate()[0]) - target
            summ = r["end"]["sum"]
            lost = summ.get("lost_percent", 0.0)
            got = summ["bits_per_second"] / 1e6 * (1 - lost / 100)  # sent rate x delivered fraction
            med = float(np.median(rt)) if len(rt) else float("nan")
            p99 = float(np.percentile(rt, 99)) if len(rt) else float("nan")
            print(f"UDP {rate:6.0f} Mbit/s offered: {got:7.1f} received, loss {lost:5.2f} %, "
                  f"ping added {med:.3f} ms median, {p99:.3f} ms p99")
            if lost < 1.0:
                best = {"offered_mbps": rate, "received_mbps": got, "loss_percent": lost, "added_ms_median": med,
                        "added_ms_p99": p99}
            else:
                break
        srv.terminate()
        rows["udp_sustained"] = best
    rows["delay_line"] = link.stats
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
