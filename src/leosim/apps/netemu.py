"""Linux plumbing for emulation: namespaces, the emulated link, and its two backends.

An :class:`EmulatedLink` creates two network namespaces (``leosim-<pid>-c``, the client,
and ``leosim-<pid>-s``, the server), joins them with one link, and starts a *link process*
that replays an :class:`~leosim.models.emulation.EmulationSchedule` on it:

- :class:`NetemBackend`: a veth pair with the kernel's ``netem`` qdisc on each end; the link
  process changes delay and loss every update step. Used where the kernel has netem.
- :class:`UserspaceBackend`: a TUN device in each namespace; the link process reads each
  packet, drops it or holds it in a FIFO until ``arrival + delay``, then writes it into the
  other namespace. Used where netem is missing (``CONFIG_NET_SCH_NETEM`` unset).

Rate limits are ``tbf`` qdiscs on the link's egress in each namespace (pyroute2 netlink).
Cleanup: the link's own ``close()`` (normal exit, exception, Ctrl-C), and the link process,
which notices at once when its parent is gone (end of file on the control pipe; its parent
pid changing, checked on ``PR_SET_PDEATHSIG``) and then kills what runs in the namespaces
and removes them before it exits. :func:`cleanup_leftovers` removes anything named
``leosim-*`` that a crash left behind.

The process that uses an :class:`EmulatedLink` never forks a Python process: work inside a
namespace (creating it, configuring it, opening a TUN device, starting a program there) runs
in a short-lived thread that enters the namespace (``setns`` and ``unshare`` change only the
calling thread), and programs are started by ``subprocess`` without ``preexec_fn``, so no
Python code runs between fork and exec while another thread may hold a lock or a signal may
arrive. (Only the netem backend's link process, single-threaded, lets pyroute2 fork.)
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from leosim.errors import EmulationError, ParameterError, require
from leosim.models.emulation import Dropper, EmulationSchedule

PREFIX = "leosim-"
NETNS_DIR = Path("/var/run/netns")
CLONE_NEWNET = 0x40000000
MS_BIND, MS_REC, MS_SHARED = 0x1000, 0x4000, 0x100000
PR_SET_PDEATHSIG = 1
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLIENT_IP, SERVER_IP, PREFIXLEN = "10.213.0.1", "10.213.0.2", 30



_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _setns(path: str | Path) -> None:
    """Move the calling *thread* into the network namespace at ``path``."""
    fd = os.open(str(path), os.O_RDONLY)
    try:
        _check(_libc.setns(fd, CLONE_NEWNET), f"setns {path}")
    finally:
        os.close(fd)


def _in_thread(fn, *args):
    """``fn(*args)`` in a new thread: its result, or its exception raised here.

    A thread that enters a namespace takes nobody else there and ends with it, so this
    process never sits in the wrong namespace. A Ctrl-C (Python runs signal handlers in the
    main thread only) waits for the short work to finish and is raised afterwards, so
    nothing is left half done behind the caller's cleanup.
    """
    box: list = []

    def run():
        try:
            box.append((True, fn(*args)))
        except BaseException as exc:  # noqa: BLE001 -- raised again in the caller
            box.append((False, exc))

    t = threading.Thread(target=run, name="leosim-netns", daemon=True)
    t.start()
    interrupted = None
    while t.is_alive():
        try:
            t.join()
        except BaseException as exc:  # noqa: BLE001 -- raised once the thread is done
            interrupted = interrupted or exc
    if interrupted is not None:
        raise interrupted
    ok, value = box[0]
    if not ok:
        raise value
    return value


def _in_netns(name: str, fn, *args):
    """``fn(*args)`` inside network namespace ``name`` (in a thread of its own)."""

    def run():
        _setns(NETNS_DIR / name)
        return fn(*args)

    return _in_thread(run)


def require_root() -> None:
    """Raise :class:`EmulationError` unless this process may create network namespaces."""
    if os.geteuid() != 0:
        raise EmulationError(
            f"emulation needs root to create network namespaces (running as uid {os.geteuid()}); "
            "expected: sudo leosim emulate ..."
        )


def find_tool(name: str) -> str:
    """The full path of a command, or a clear error."""
    path = shutil.which(name)
    if path is None:
        raise EmulationError(f"command {name!r} was not found on PATH; expected an installed program (e.g. apt install {name})")
    return path


# ------------------------------------------------------------------ namespaces
def _pyroute2():
    return require("pyroute2", "emulate")


def netns_inode(name: str) -> int | None:
    try:
        return os.stat(NETNS_DIR / name).st_ino
    except OSError:
        return None


def pids_in_netns(name: str) -> list[int]:
    """Processes whose network namespace is ``name`` (as ``ip netns pids``)."""
    ino = netns_inode(name)
    if ino is None:
        return []
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.stat(f"/proc/{d}/ns/net").st_ino == ino:
                    pids.append(int(d))
            except OSError:
                pass
    return pids


def list_leftovers() -> dict[str, list[str]]:
    """Namespaces, root-namespace links and link processes named ``leosim-*``."""
    ns = sorted(n for n in (os.listdir(NETNS_DIR) if NETNS_DIR.exists() else []) if n.startswith(PREFIX))
    links = sorted(n for n in os.listdir("/sys/class/net") if n.startswith(PREFIX))
    procs = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                cmd = Path(f"/proc/{d}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"leosim.apps.netemu" in cmd and b"_link" in cmd:
                procs.append(d)
    return {"namespaces": ns, "links": links, "processes": procs}


def _kill_pids(pids: list[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for p in pids:
            try:
                os.kill(p, sig)
                alive.append(p)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 1.0
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if Path(f"/proc/{p}").exists() and _state(p) != "Z"]
            time.sleep(0.02)
        pids = alive
        if not pids:
            return


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def remove_netns(*names: str) -> None:
    """Kill what runs in the namespaces ``names`` and remove them (no error if one is gone).

    Synchronous and idempotent: when it returns, the processes there are dead (SIGTERM,
    SIGKILL a second later) and the names are gone; calling it again does nothing.
    """
    me = os.getpid()
    for _ in range(3):  # again if one forked while dying
        pids = [p for name in names for p in pids_in_netns(name) if p != me]
        if not pids:
            break
        _kill_pids(pids)
    for name in names:
        path = NETNS_DIR / name
        if path.exists():
            _libc.umount2(str(path).encode(), 2)  # MNT_DETACH
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def cleanup_leftovers() -> dict[str, list[str]]:
    """Remove every ``leosim-*`` namespace, root-namespace link and link process; say what went."""
    found = list_leftovers()
    _kill_pids([int(p) for p in found["processes"]])
    for n in found["namespaces"]:
        remove_netns(n)
    if found["links"]:
        pr = _pyroute2()
        with pr.IPRoute() as ipr:
            for name in found["links"]:
                for idx in ipr.link_lookup(ifname=name):
                    try:
                        ipr.link("del", index=idx)
                    except Exception:  # noqa: BLE001 -- gone already (a veth peer)
                        pass
    return found


def _netns_rundir() -> None:
    """``/var/run/netns`` as iproute2 keeps it: a shared mount point (namespaces mounted there
    are seen from other mount namespaces too)."""
    NETNS_DIR.mkdir(parents=True, exist_ok=True)
    d = str(NETNS_DIR).encode()
    if _libc.mount(b"", d, b"none", MS_SHARED | MS_REC, None) != 0:
        _check(_libc.mount(d, d, b"none", MS_BIND | MS_REC, None), f"bind-mount {NETNS_DIR}")
        _check(_libc.mount(b"", d, b"none", MS_SHARED | MS_REC, None), f"share {NETNS_DIR}")


def _new_netns_at(path: Path) -> None:
    """In a thread of its own: a new network namespace for this thread, bind-mounted at ``path``."""
    _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
    _check(_libc.mount(b"/proc/thread-self/ns/net", str(path).encode(), b"none", MS_BIND, None), f"mount {path}")


def _create_netns(name: str) -> None:
    """Create network namespace ``name`` (as ``ip netns add``), without forking."""
    path = NETNS_DIR / name
    try:
        _netns_rundir()
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    except OSError as exc:
        raise EmulationError(f"cannot create network namespace {name!r}: {exc}; expected root with network namespaces") from None
    try:
        _in_thread(_new_netns_at, path)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise EmulationError(f"cannot create network namespace {name!r}: {exc}; expected root with network namespaces") from None


def _configure(ns_name: str, ifname: str, address: str, rate_bps: float | None, mtu: int) -> None:
    """Addresses, MTU, link up, and the rate limit (tbf) in one namespace."""
    pr = _pyroute2()

    def work():
        with pr.IPRoute() as ns:  # a netlink socket opened in this thread's namespace
            lo = ns.link_lookup(ifname="lo")[0]
            ns.link("set", index=lo, state="up")
            idx = ns.link_lookup(ifname=ifname)[0]
            ns.link("set", index=idx, mtu=mtu)
            ns.addr("add", index=idx, address=address, prefixlen=PREFIXLEN)
            ns.link("set", index=idx, state="up")
            if rate_bps:
                # bucket: at least 10 ms of the rate and a few MTUs; queue (latency) 50 ms
                burst = int(max(rate_bps / 8 * 0.01, 4 * mtu + 64))
                ns.tc("add", "tbf", index=idx, handle="1:", rate=f"{int(rate_bps)}bit", burst=burst, latency="50ms")

    _in_netns(ns_name, work)


# -------------------------------------------------------------------- backends
class UserspaceBackend:
    """TUN devices and a Python delay line (works without netem)."""

    name = "userspace"

    @staticmethod
    def available() -> tuple[bool, str]:
        if not os.path.exists("/dev/net/tun"):
            return False, "/dev/net/tun does not exist"
        return True, ""

    def build(self, link: EmulatedLink) -> list[int]:
        fds = []
        for ns_name, ifname in ((link.client_ns, link.client_if), (link.server_ns, link.server_if)):
            fds.append(_open_tun(ns_name, ifname))
        return fds


class NetemBackend:
    """A veth pair with the kernel's netem qdisc (the link process changes it every step)."""

    name = "netem"

    @staticmethod
    def available() -> tuple[bool, str]:
        return _netem_available()

    def build(self, link: EmulatedLink) -> list[int]:
        pr = _pyroute2()
        with pr.IPRoute() as ipr:
            ipr.link("add", ifname=link.client_if, kind="veth", peer=link.server_if)
            for ifname, ns in ((link.client_if, link.client_ns), (link.server_if, link.server_ns)):
                ipr.link("set", index=ipr.link_lookup(ifname=ifname)[0], net_ns_fd=ns)
        return []


BACKENDS = {"userspace": UserspaceBackend, "netem": NetemBackend}


def _netem_available() -> tuple[bool, str]:
    """Try a netem qdisc on a dummy device in a throwaway namespace."""
    pr = _pyroute2()
    name = f"{PREFIX}{os.getpid()}-probe"

    def probe():
        with pr.IPRoute() as ns:
            ns.link("add", ifname="leosim-probe", kind="dummy")
            idx = ns.link_lookup(ifname="leosim-probe")[0]
            ns.tc("add", "netem", index=idx, handle="1:", delay=1000)

    try:
        _create_netns(name)
        _in_netns(name, probe)
        return True, ""
    except Exception as exc:  # noqa: BLE001 -- any failure means: not usable here
        return False, f"the kernel has no netem qdisc ({exc})"
    finally:
        remove_netns(name)


def choose_backend(name: str) -> tuple[object, str]:
    """The backend object for ``auto``/``netem``/``userspace`` and why it was chosen."""
    if name not in ("auto", *BACKENDS):
        raise ParameterError(f"backend {name!r} is unknown; expected one of auto, {', '.join(BACKENDS)}")
    if name == "auto":
        ok, why = NetemBackend.available()
        if ok:
            return NetemBackend(), "netem (kernel qdisc available)"
        return UserspaceBackend(), f"userspace delay line ({why})"
    ok, why = BACKENDS[name].available()
    if not ok:
        raise EmulationError(f"backend {name!r} is not available: {why}; expected --backend auto or the other backend")
    return BACKENDS[name](), name


def _open_tun(ns_name: str, ifname: str) -> int:
    """Open a TUN device named ``ifname`` inside namespace ``ns_name``; the fd keeps it alive."""

    def work() -> int:
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", ifname.encode(), IFF_TUN | IFF_NO_PI))
        except BaseException:
            os.close(fd)
            raise
        return fd

    return _in_netns(ns_name, work)


# ------------------------------------------------------------------------ link
class EmulatedLink:
    """Two namespaces joined by an emulated link that replays ``schedule``.

    Use as a context manager; :meth:`popen` runs a program in either namespace.
    """

    def __init__(self, schedule: EmulationSchedule, *, backend: object | None = None, rate_bps: float | None = None,
                 seed: int = 0, mtu: int = 1500, tag: str | None = None):
        if rate_bps is not None and rate_bps <= 0:
            raise ParameterError(f"rate {rate_bps:g} bit/s is not positive; expected a rate above 0")
        self.schedule = schedule
        self.backend = backend or UserspaceBackend()
        self.rate_bps = rate_bps
        self.seed = seed
        self.mtu = mtu
        tag = tag or str(os.getpid())
        self.client_ns, self.server_ns = f"{PREFIX}{tag}-c", f"{PREFIX}{tag}-s"
        self.client_if, self.server_if = f"leosim-{tag[-6:]}c", f"leosim-{tag[-6:]}s"
        self.client_ip, self.server_ip = CLIENT_IP, SERVER_IP
        self.stats: dict = {}
        self._procs: list[subprocess.Popen] = []
        self._link: subprocess.Popen | None = None
        self._ctl: int | None = None  # write end of the control pipe: b"q" = orderly stop; EOF = we died
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.t0: float | None = None

    # lifecycle
    def __enter__(self) -> EmulatedLink:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        require_root()
        _pyroute2()
        if self.rate_bps and self.backend.name == "netem":
            raise EmulationError("a rate limit with the netem backend is not supported yet; expected --backend userspace")
        try:
            for ns in (self.client_ns, self.server_ns):
                if netns_inode(ns) is not None:
                    raise EmulationError(f"namespace {ns!r} already exists; remove leftovers with: leosim emulate --cleanup")
                _create_netns(ns)
            fds = self.backend.build(self)
            _configure(self.client_ns, self.client_if, self.client_ip, self.rate_bps, self.mtu)
            _configure(self.server_ns, self.server_if, self.server_ip, self.rate_bps, self.mtu)
            self._tmp = tempfile.TemporaryDirectory(prefix=PREFIX)
            sched = Path(self._tmp.name) / "schedule.npz"
            s = self.schedule
            np.savez(sched, update_s=s.update_s, fwd=s.delay_fwd_s, rev=s.delay_rev_s, loss=s.loss)
            self.t0 = time.monotonic() + 0.05
            argv = [sys.executable, "-m", "leosim.apps.netemu", "_link", self.backend.name, str(sched),
                    repr(self.t0), str(self.seed), str(os.getpid()), self.client_ns, self.server_ns,
                    self.client_if, self.server_if, *map(str, fds)]
            ready_r, ready_w = os.pipe()
            ctl_r, self._ctl = os.pipe()  # both ends close-on-exec: only the link process gets ctl_r
            self._link = subprocess.Popen([*argv, str(ctl_r), str(ready_w)], pass_fds=(*fds, ctl_r, ready_w),
                                          stdin=subprocess.DEVNULL, start_new_session=True)  # no terminal Ctrl-C
            os.close(ready_w)
            os.close(ctl_r)
            for fd in fds:  # the link process holds them now: the TUN devices die with it
                os.close(fd)
            ok = os.read(ready_r, 1)
            os.close(ready_r)
            if ok != b"1":
                raise EmulationError(f"the link process failed to start (exit status {self._link.wait()})")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop every process started here, then remove both namespaces. Safe to call twice."""
        procs, self._procs = self._procs, []
        _kill_pids([p.pid for p in procs if p.poll() is None])
        for p in procs:
            p.wait()
        if self._link is not None:
            if self._link.poll() is None:
                try:
                    os.write(self._ctl, b"q")  # an orderly stop: it writes its stats and exits
                except OSError:  # it is exiting already
                    pass
                try:
                    self._link.wait(5)
                except subprocess.TimeoutExpired:
                    self._link.kill()
                    self._link.wait()
            stats = Path(self._tmp.name) / "stats.json" if self._tmp else None
            if stats is not None and stats.exists():
                self.stats = json.loads(stats.read_text())
            self._link = None
        if self._ctl is not None:
            os.close(self._ctl)
            self._ctl = None
        remove_netns(self.client_ns, self.server_ns)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def elapsed_s(self) -> float:
        return time.monotonic() - (self.t0 or time.monotonic())

    def popen(self, argv: list[str], *, side: str = "client", env: dict | None = None, **kw) -> subprocess.Popen:
        """Start ``argv`` in the client or server namespace, with ``LEOSIM_SERVER`` set."""
        if not argv:
            raise ParameterError("no command given; expected a program after --")
        exe = argv[0] if os.path.sep in argv[0] else shutil.which(argv[0])
        if exe is None or not os.access(exe, os.X_OK):
            raise EmulationError(f"command {argv[0]!r} was not found or is not executable; expected a program on PATH")
        ns = self.client_ns if side == "client" else self.server_ns
        env = {**os.environ, **(env or {}), "LEOSIM_SERVER": self.server_ip, "LEOSIM_CLIENT": self.client_ip}

        def spawn() -> subprocess.Popen:  # in a thread inside the namespace: the child inherits it
            p = subprocess.Popen([exe, *argv[1:]], env=env, **kw)
            self._procs.append(p)  # here, so that close() stops it even after a Ctrl-C in popen()
            return p

        return _in_netns(ns, spawn)


# ---------------------------------------------------------------- link process
# The delay line's timing. Waking a process that sleeps in select() takes a halted vCPU of
# the 2-core development VM about 0.05-0.2 ms, now and then milliseconds (docs/emulation.md).
# Sleeping until a packet is due would add that to every release (twice per round trip), so
# the line sleeps until ``lead`` before the due time and polls for the rest; ``lead`` follows
# the wake-up latency the process measures on itself (LEAD_FACTOR times its recent peak,
# within LEAD_MIN_S..LEAD_MAX_S). After it reads or writes a packet it keeps polling for
# POLL_AFTER_S, so what that packet provokes (an echo reply, an ACK) is read without a
# wake-up. Polling is capped at SPIN_SHARE of one CPU, in bursts of at most SPIN_BURST_S;
# beyond that the line sleeps instead (and releases late by a wake-up, as without polling).
LEAD_MIN_S, LEAD_MAX_S, LEAD_FACTOR = 0.0003, 0.001, 3.0
POLL_AFTER_S = 0.0003
SPIN_SHARE, SPIN_BURST_S = 0.25, 0.02
CHECK_S = 0.5  # how often the link process looks at its parent when nothing else wakes it
TERM_GRACE_S = 1.0  # after a SIGTERM, how long it waits to see whether its parent dies too


def _delay_line(fd_c: int, fd_s: int, s: dict, dropper: Dropper, t0: float, stats: dict,
                control: tuple[int, ...], keep_going) -> None:
    """Read packets from both TUNs; hold each until its due time; write it to the other side.

    Returns when ``keep_going()`` (called when a ``control`` fd is readable, and at least every
    CHECK_S) is false.
    """
    fwd, rev = s["fwd"].tolist(), s["rev"].tolist()
    n, step = len(fwd), float(s["update_s"])
    os.set_blocking(fd_c, False)
    os.set_blocking(fd_s, False)
    queues = {fd_c: deque(), fd_s: deque()}
    out = {fd_c: fd_s, fd_s: fd_c}
    delays = {fd_c: fwd, fd_s: rev}
    last = {fd_c: 0.0, fd_s: 0.0}
    mono, read, write, sel = time.monotonic, os.read, os.write, select.select
    share, burst, poll_s, lead_min, lead_max = SPIN_SHARE, SPIN_BURST_S, POLL_AFTER_S, LEAD_MIN_S, LEAD_MAX_S
    fds = [fd_c, fd_s, *control]
    fwd_n = drop_n = 0
    late_sum = late_max = spun = 0.0
    wake = LEAD_MIN_S / LEAD_FACTOR  # recent peak of the measured wake-up latency
    lead = LEAD_MIN_S
    budget = SPIN_BURST_S  # seconds of polling allowed now
    prev = mono()
    check_at = prev + CHECK_S
    poll_until = 0.0
    polled = False
    inf = float("inf")
    try:
        while True:
            now = mono()
            dt = now - prev
            prev = now
            if polled:
                spun += dt
                budget -= dt * (1.0 - share)
            else:
                budget += dt * share
                if budget > burst:
                    budget = burst
            nxt = inf
            for fd in (fd_c, fd_s):
                q = queues[fd]
                if q and q[0][0] <= now:
                    o = out[fd]
                    while q and q[0][0] <= now:
                        due, pkt = q.popleft()
                        late = now - due
                        late_sum += late
                        if late > late_max:
                            late_max = late
                        try:
                            write(o, pkt)
                            fwd_n += 1
                        except OSError:
                            drop_n += 1
                    poll_until = now + poll_s
                if q and q[0][0] < nxt:
                    nxt = q[0][0]
            if now >= check_at:
                check_at = now + CHECK_S
                if not keep_going():
                    return
            if budget > 0.0 and (now < poll_until or nxt - now <= lead):
                polled = True
                r = sel(fds, (), (), 0.0)[0]
                if not r:
                    continue
            else:
                polled = False
                wait = (nxt - lead if budget > 0.0 else nxt) - now
                if wait > check_at - now:
                    wait = check_at - now
                if wait < 0.0:
                    wait = 0.0
                r = sel(fds, (), (), wait)[0]
                if not r:
                    if wait > 0.0:  # measure how late this process wakes up
                        w = mono() - now - wait
                        wake = w if w > wake else wake + 0.05 * (w - wake)
                        lead = min(lead_max, max(lead_min, LEAD_FACTOR * wake))
                    continue
            now = mono()
            t = now - t0
            i = int(t / step)
            i = 0 if i < 0 else (n - 1 if i >= n else i)
            for fd in r:
                if fd != fd_c and fd != fd_s:
                    if not keep_going():
                        return
                    continue
                q, d = queues[fd], delays[fd][i]
                lt = last[fd]
                for _ in range(256):
                    try:
                        pkt = read(fd, 65536)
                    except BlockingIOError:
                        break
                    if dropper.drop(t):
                        drop_n += 1
                        continue
                    due = now + d
                    if due < lt:  # FIFO: a shorter delay never overtakes earlier packets
                        due = lt
                    lt = due
                    q.append((due, pkt))
                last[fd] = lt
            poll_until = now + poll_s
    finally:
        stats.update(forwarded=fwd_n, dropped=drop_n, late_mean_s=late_sum / max(fwd_n, 1), late_max_s=late_max,
                     polled_s=spun, lead_s=lead)


def _netem_loop(ifs: list[tuple[str, str]], s: dict, t0: float, control: tuple[int, ...], keep_going) -> None:
    """Change the netem qdisc on both ends at every update step (until ``keep_going()`` is false)."""
    pr = _pyroute2()
    fwd, rev, loss = s["fwd"].tolist(), s["rev"].tolist(), s["loss"].tolist()
    n, step = len(fwd), float(s["update_s"])
    handles = []
    for ns_name, ifname in ifs:
        ns = pr.NetNS(ns_name)
        handles.append((ns, ns.link_lookup(ifname=ifname)[0]))
    prev = None
    while True:
        i = min(max(int((time.monotonic() - t0) / step), 0), n - 1)
        if i != prev:
            for (ns, idx), d in zip(handles, (fwd[i], rev[i])):
                ns.tc("replace", "netem", index=idx, handle="1:", delay=int(d * 1e6), loss=100.0 * loss[i])
            prev = i
        wait = min(CHECK_S, max(0.0, t0 + (i + 1) * step - time.monotonic()))
        if select.select(control, (), (), wait)[0] or not wait:
            if not keep_going():
                return


class _Control:
    """Why the link process stops, from its control pipe, its signals and its parent pid.

    - ``b"q"`` on the pipe: the parent stops it in order (and removes the namespaces itself);
    - end of file on the pipe, or a parent pid that is no longer the owner's: the parent is gone
      (killed): the link process removes the namespaces;
    - SIGTERM: stop; if the parent dies too within TERM_GRACE_S (a kill of the whole tree),
      remove the namespaces, else leave them to the parent (or whoever sent it);
    - SIGUSR1 (the death signal, once per exiting thread of the parent): look at the parent pid.

    Signal handlers only note the signal (and wake ``select`` through ``set_wakeup_fd``): no
    exception can interrupt the loop or the cleanup at a random point.
    """

    def __init__(self, ctl: int, owner_pid: int):
        self.ctl, self.owner_pid = ctl, owner_pid
        self.wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        os.set_blocking(ctl, False)
        self.signals: set[int] = set()
        self.why: str | None = None
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGUSR1):
            signal.signal(sig, self._note)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us in order
        # the death signal comes when the thread that started us exits; the parent pid tells
        # whether the whole parent is gone (we are handed to another of its threads otherwise)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGUSR1)

    def _note(self, signum, _frame) -> None:
        self.signals.add(signum)

    @property
    def fds(self) -> tuple[int, int]:
        return self.ctl, self.wake_r

    def parent_gone(self) -> bool:
        return self.why == "parent gone" or os.getppid() != self.owner_pid

    def keep_going(self) -> bool:
        try:
            while os.read(self.wake_r, 64):
                pass
        except BlockingIOError:
            pass
        try:
            b = os.read(self.ctl, 1)
        except BlockingIOError:
            b = None
        if b == b"":
            self.why = "parent gone"
        elif b is not None:
            self.why = "stopped"
        elif os.getppid() != self.owner_pid:
            self.why = "parent gone"
        elif signal.SIGTERM in self.signals:
            self.why = "SIGTERM"
        return self.why is None

    def wait_for_parent(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the parent to stop us in order or to die (end of file)."""
        deadline = time.monotonic() + seconds
        while not self.parent_gone() and (left := deadline - time.monotonic()) > 0:
            if select.select([self.ctl], [], [], min(left, 0.05))[0]:
                try:
                    b = os.read(self.ctl, 1)
                except BlockingIOError:
                    continue
                if b == b"":
                    self.why = "parent gone"
                return


def _link_main(argv: list[str]) -> int:
    backend, sched, t0, seed, owner, ns_c, ns_s, if_c, if_s, *fds = argv
    ready = int(fds.pop())
    control = _Control(int(fds.pop()), int(owner))
    stats: dict = {}
    stats_path = Path(sched).with_name("stats.json")
    try:
        s = dict(np.load(sched))
        os.write(ready, b"1")
        os.close(ready)
        if not control.keep_going():  # the parent died before the death signal was set
            return 0
        if backend == "userspace":
            try:  # real-time priority: release times then jitter by tens of microseconds, not milliseconds
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
            except OSError:
                pass
            _delay_line(int(fds[0]), int(fds[1]), s, Dropper(_schedule_from(s), int(seed)), float(t0), stats,
                        control.fds, control.keep_going)
        else:
            _netem_loop([(ns_c, if_c), (ns_s, if_s)], s, float(t0), control.fds, control.keep_going)
    finally:
        try:
            stats_path.write_text(json.dumps(stats))
        except OSError:
            pass
        if control.why == "SIGTERM":  # maybe sent to the parent too (kill of the whole tree): see if it survives
            control.wait_for_parent(TERM_GRACE_S)
        if control.parent_gone():  # killed without cleaning up: do it for it, now
            remove_netns(ns_c, ns_s)
    return 0


def _schedule_from(s: dict) -> EmulationSchedule:
    nan = np.full(len(s["loss"]), np.nan)
    return EmulationSchedule(float(s["update_s"]), s["fwd"], s["rev"], s["loss"], nan)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_link":
        try:
            sys.exit(_link_main(sys.argv[2:]))
        except OSError as exc:
            if exc.errno != errno.EBADF:
                raise
            sys.exit(1)
