"""The editor over a real OpenSSH connection through a rate-limited link.

    sudo .venv/bin/python benchmarks/ssh.py                     # 1, 4, 20 Mbit/s x 160x50, 250x70
    sudo .venv/bin/python benchmarks/ssh.py --rates 4 --sizes 160x50 --where client
    sudo .venv/bin/python benchmarks/ssh.py --code /tmp/old-checkout   # measure another checkout
    sudo .venv/bin/python benchmarks/ssh.py --compress                 # the user's ssh -C

Needs root, Debian's openssh-server (/usr/sbin/sshd), ssh, tmux, ip and tc; runs for minutes, so
it stays out of CI. Everything happens inside a network namespace of its own: sshd listens on
its loopback, whose MTU is set to 1500 (tbf drops packets larger than its burst, and loopback's
64 KiB MTU would stall TCP) and whose traffic is limited with `tc qdisc ... tbf`. Both directions
cross that loopback, so the keys and the frames share the limit, as on a real link.

The user's terminal is tmux on the client side: its pane runs `ssh -t` to the editor, and the
benchmark reads what that pane shows (`capture-pane -e`) to see when the face changes. With
`--where server` the editor runs inside a second tmux on the server, as people often run it.

What it measures, for every rate and size: time to the first face (ssh start to a face in the
pane), key to new face (one `l` at a time, the pane's face changing; p50, p95), faces shown per
second while a key is held (30 repeats a second for 3 s), how long the face keeps changing after
the key is released, and bytes through the link per face shown. The namespace, sshd and tmux
are removed when it ends, also on failure. Prints Markdown for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 2222
BLOCKS = "▀▄█"
"""How the editor writes face cells of two colours, or one (it also uses spaces)."""
SGR = re.compile(r"\x1b\[([0-9;:]*)m")
POLL = 0.02
REPEAT_RATE = 30.0
HOLD_SECONDS = 3.0
QUIET = 2.0
"""No change of the face for this long: the screen has stopped changing."""
QUIET_AFTER_RELEASE = 5.0
"""The same after a held key: a link with a full queue can stall for seconds (TCP backs off)."""


class BenchmarkError(Exception):
    """Something the benchmark needs is missing; the message says what."""


# -- reading a tmux pane -------------------------------------------------------------------


def pane_cells(line: str) -> tuple[str, list[str]]:
    """One line of `tmux capture-pane -e -p` as cells: its characters, and for each the last
    SGR parameters written before it. tmux writes SGR only where the style changes, so a cell
    whose colours change changes what is recorded for it; that is all a digest of the face
    needs."""
    parts = SGR.split(line)  # text, parameters, text, parameters, ..., text
    text = "".join(parts[0::2])
    styles = [""] * len(parts[0])
    for parameters, chunk in zip(parts[1::2], parts[2::2]):
        styles.extend([parameters] * len(chunk))
    return text, styles


Cells = tuple[str, list[str]]


def face_shown(lines: list[Cells]) -> bool:
    """The pane shows a face (until then it shows the editor starting)."""
    return sum(text.count(block) for text, _ in lines for block in BLOCKS) >= 100


def face_columns(size: tuple[int, int]) -> tuple[int, int]:
    """The columns the face occupies in a terminal of `size`, as this checkout's editor lays it
    out (run headless here; a `--code` checkout must lay the screen out the same). Not read from
    the pane: a face's cells of one colour are spaces, and a smooth background can make whole
    columns of them."""
    import asyncio

    sys.path.insert(0, str(ROOT))
    from tlgan_tui.engine import Engine
    from tlgan_tui.tui.app import EditorApp
    from tlgan_tui.tui.widgets.preview import face_offset

    async def layout() -> tuple[int, int]:
        with tempfile.TemporaryDirectory() as folder:
            app = EditorApp(Engine.open("default", device="cpu"), session_path=Path(folder) / "session.json", out=Path(folder))
            async with app.run_test(size=size) as pilot:
                await pilot.pause()
                preview = app.editor.preview
                left, _ = face_offset(preview.side, preview.side // 2, preview.size.width, preview.size.height)
                return preview.region.x + left, preview.region.x + left + preview.side

    return asyncio.run(layout())


def face_digest(lines: list[Cells], columns: tuple[int, int]) -> str:
    """A digest of the face's cells (characters and colours), to see when it changes."""
    left, right = columns
    digest = hashlib.blake2b(digest_size=16)
    for text, styles in lines:
        digest.update(text[left:right].encode())
        digest.update("|".join(styles[left:right]).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def tbf_command(device: str, mbit: float) -> list[str]:
    """The `tc` command that limits `device` to `mbit` Mbit/s. The burst must hold the largest
    packet (hence MTU 1500); the latency bounds the queue, as a slow link's buffer does."""
    return ["tc", "qdisc", "replace", "dev", device, "root", "tbf", "rate", f"{mbit:g}mbit", "burst", "64kb", "latency", "2s"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# -- the namespace, sshd and tmux ----------------------------------------------------------


def run(*command: str, check: bool = True, timeout: float = 30) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise BenchmarkError(f"{shlex.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


class Link:
    """A network namespace with a rate-limited loopback and sshd listening on it."""

    def __init__(self, folder: Path, compress: bool = False) -> None:
        self.folder = folder
        self.compress = compress
        """The user's ssh compresses (`ssh -C`)."""
        self.namespace = f"tlgan-ssh-{os.getpid()}"
        self.sshd: subprocess.Popen | None = None
        self.key = folder / "client_key"

    def __enter__(self) -> "Link":
        run("ip", "netns", "add", self.namespace)
        try:
            self.inside("ip", "link", "set", "lo", "mtu", "1500")
            self.inside("ip", "link", "set", "lo", "up")
            self._start_sshd()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_exc) -> None:
        if self.sshd is not None:
            self.sshd.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.sshd.wait(5)
            if self.sshd.poll() is None:
                self.sshd.kill()
        run("ip", "netns", "delete", self.namespace, check=False)

    def inside(self, *command: str, check: bool = True) -> str:
        return run("ip", "netns", "exec", self.namespace, *command, check=check)

    def limit(self, mbit: float) -> None:
        self.inside(*tbf_command("lo", mbit))

    def bytes_sent(self) -> int:
        match = re.search(r"Sent (\d+) bytes", self.inside("tc", "-s", "qdisc", "show", "dev", "lo"))
        return int(match.group(1)) if match else 0

    def _start_sshd(self) -> None:
        host_key = self.folder / "host_key"
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key))
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key))
        authorized = self.folder / "authorized_keys"
        shutil.copy(f"{self.key}.pub", authorized)
        config = self.folder / "sshd_config"
        config.write_text(
            f"Port {PORT}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {self.folder / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {authorized}\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPrintMotd no\nPrintLastLog no\n"
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        self.sshd = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace, "/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL, stderr=open(self.folder / "sshd.log", "w"),
        )
        for _ in range(100):
            if self._ssh_works():
                return
            time.sleep(0.1)
        raise BenchmarkError(f"sshd did not accept a login: see {self.folder / 'sshd.log'}")

    def _ssh_works(self) -> bool:
        result = subprocess.run(["ip", "netns", "exec", self.namespace, *self.ssh_command(), "echo", "ok"], capture_output=True, text=True, timeout=20)
        return result.stdout.strip() == "ok"

    def ssh_command(self, tty: bool = False) -> list[str]:
        options = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"]
        return ["ssh", *(["-t"] if tty else []), *(["-C"] if self.compress else []), *options, "-i", str(self.key), "-p", str(PORT), "root@127.0.0.1"]


class Pane:
    """tmux on the client side, the user's terminal, with `ssh -t` to the editor in its pane."""

    def __init__(self, link: Link, folder: Path, size: tuple[int, int], remote: str) -> None:
        self.socket = folder / "client.sock"
        self.size = size
        config = folder / "tmux.conf"
        config.write_text("set -g status off\nset -g escape-time 0\nset -g remain-on-exit on\nset -as terminal-features ',*:RGB'\n")
        self.config = config
        command = shlex.join([*link.ssh_command(tty=True), remote])
        link.inside("tmux", "-S", str(self.socket), "-f", str(config), "new-session", "-d", "-s", "bench",
                    "-x", str(size[0]), "-y", str(size[1]), command)

    def tmux(self, *arguments: str, check: bool = True) -> str:
        return run("tmux", "-S", str(self.socket), *arguments, check=check)

    def lines(self) -> list[Cells]:
        return [pane_cells(line) for line in self.tmux("capture-pane", "-p", "-e", "-t", "bench").split("\n")]

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "bench", *keys)

    def close(self) -> None:
        self.tmux("kill-server", check=False)


@dataclass
class Watch:
    """Follows the face in a pane: its columns, its digest, when it last changed."""

    pane: Pane
    columns: tuple[int, int]
    digest: str = ""
    seen: bool = False

    def poll(self) -> bool:
        """Read the pane; True when the face differs from the last read."""
        lines = self.pane.lines()
        if not self.seen:
            self.seen = face_shown(lines)
            if not self.seen:
                return False
        digest = face_digest(lines, self.columns)
        changed = digest != self.digest
        self.digest = digest
        return changed

    def wait_change(self, timeout: float) -> float | None:
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.poll():
                return time.perf_counter()
            time.sleep(POLL)
        return None

    def wait_quiet(self, quiet: float, timeout: float) -> tuple[float, int]:
        """Poll until the face has not changed for `quiet` s; (time of the last change, changes)."""
        start = last = time.perf_counter()
        changes = 0
        while time.perf_counter() - start < timeout:
            if self.poll():
                last = time.perf_counter()
                changes += 1
            elif time.perf_counter() - last >= quiet:
                break
            time.sleep(POLL)
        return last, changes


def remote_command(code: Path, folder: Path, size: tuple[int, int], where: str, run_id: str) -> str:
    editor = shlex.join([
        "env", f"PYTHONPATH={code}", sys.executable, "-m", "tlgan_tui", "--seed", "3",
        "--session", str(folder / f"session-{run_id}.json"), "--out", str(folder / "out"),
    ])
    editor = f"cd {shlex.quote(str(code))} && {editor}"
    if where == "server":
        server = folder / f"server-{run_id}.sock"
        return shlex.join(["tmux", "-u", "-S", str(server), "-f", str(folder / "tmux.conf"), "new-session", "-s", "editor", editor])
    return editor


def measure(link: Link, folder: Path, code: Path, mbit: float, size: tuple[int, int], where: str, presses: int) -> dict[str, float]:
    link.limit(mbit)
    run_id = f"{mbit:g}-{size[0]}x{size[1]}-{where}"
    started = time.perf_counter()
    pane = Pane(link, folder, size, remote_command(code, folder, size, where, run_id))
    try:
        watch = Watch(pane, face_columns(size))
        if watch.wait_change(120) is None:
            raise BenchmarkError(f"no face in the pane after 120 s: {pane.tmux('capture-pane', '-p', '-t', 'bench')[:500]}")
        first_face = time.perf_counter() - started
        watch.wait_quiet(QUIET, 60)

        to_face, to_whole = [], []
        sent_before = link.bytes_sent()
        for i in range(presses):
            if i and i % 6 == 0:
                pane.keys("j")  # the next axis: every face a new one
                watch.wait_quiet(QUIET, 30)
            pressed = time.perf_counter()
            pane.keys("l")
            changed = watch.wait_change(30)
            last, later = watch.wait_quiet(QUIET, 30)
            if changed is not None:
                to_face.append(changed - pressed)
                to_whole.append((last if later else changed) - pressed)

        single_bytes = (link.bytes_sent() - sent_before) / presses
        sent_before = link.bytes_sent()
        start = time.perf_counter()
        held_changes, keys = 0, 0
        while time.perf_counter() - start < HOLD_SECONDS:
            # The next axis, then six steps from 0 to the end of its bar (+3 at a step of 0.5),
            # where a further press would change nothing: every step shows a new face (90
            # presses walk 13 axes; the default model has 23).
            pane.keys("j" if keys % 7 == 0 else "l")
            keys += 1
            next_at = start + keys / REPEAT_RATE
            while time.perf_counter() < next_at:
                held_changes += watch.poll()
                time.sleep(min(POLL, max(0.0, next_at - time.perf_counter())))
        released = time.perf_counter()
        last, after_changes = watch.wait_quiet(QUIET_AFTER_RELEASE, 90)
        sent = link.bytes_sent() - sent_before
        pane.keys("q")
        return {
            "first_face_s": first_face,
            "key_p50_ms": percentile(to_face, 50) * 1000,
            "key_p95_ms": percentile(to_face, 95) * 1000,
            "whole_p50_ms": percentile(to_whole, 50) * 1000,
            "whole_p95_ms": percentile(to_whole, 95) * 1000,
            "held_fps": held_changes / (released - start),
            "settle_s": max(0.0, last - released),
            "bytes_per_face": single_bytes,
            "held_bytes": sent,
            "missed": presses - len(to_face),
        }
    finally:
        time.sleep(0.5)
        pane.close()
        if where == "server":
            run("tmux", "-S", str(folder / f"server-{run_id}.sock"), "kill-server", check=False)


def check_tools() -> None:
    if os.geteuid() != 0:
        raise BenchmarkError("needs root: it creates a network namespace and limits its loopback")
    for tool in ("/usr/sbin/sshd", "ssh", "ssh-keygen", "tmux", "ip", "tc"):
        if shutil.which(tool) is None:
            raise BenchmarkError(f"{tool} is missing: apt-get install openssh-server openssh-client tmux iproute2")


def _interrupted(signum, _frame) -> None:
    raise KeyboardInterrupt  # so the namespace, sshd and tmux are removed on the way out


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupted)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose editor runs (default: this one)")
    parser.add_argument("--rates", default="1,4,20", help="link rates in Mbit/s (default 1,4,20)")
    parser.add_argument("--sizes", default="160x50,250x70", help="terminal sizes (default 160x50,250x70)")
    parser.add_argument("--where", default="client,server", help="where tmux runs: client (the user's terminal), server (also around the editor)")
    parser.add_argument("--presses", type=int, default=10, help="single key presses timed per run (default 10)")
    parser.add_argument("--compress", action="store_true", help="the user's ssh compresses (ssh -C)")
    args = parser.parse_args()
    try:
        check_tools()
        rates = [float(rate) for rate in args.rates.split(",")]
        sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
        places = args.where.split(",")
        rows = []
        with tempfile.TemporaryDirectory(prefix="tlgan-ssh-") as name, Link(Path(name), args.compress) as link:
            for where in places:
                for size in sizes:
                    for rate in rates:
                        result = measure(link, Path(name), args.code.resolve(), rate, size, where, args.presses)
                        rows.append((where, size, rate, result))
                        print(f"# {where} {size[0]}x{size[1]} {rate:g} Mbit/s: {result}", file=sys.stderr, flush=True)
    except BenchmarkError as error:
        raise SystemExit(f"ssh benchmark: {error}") from None
    compressed = ", ssh -C" if args.compress else ""
    print(f"Code: {args.code.resolve()}{compressed}, load average at the end {os.getloadavg()[0]:.1f}\n")
    print("| tmux | size | link | first face | key to new face, first change p50 / p95 | key to new face, whole p50 / p95 | faces/s held | still changing after release | bytes per key press | bytes for the held key |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for where, size, rate, r in rows:
        missed = f" ({r['missed']:.0f} presses never shown)" if r["missed"] else ""
        print(f"| {where} | {size[0]}x{size[1]} | {rate:g} Mbit/s | {r['first_face_s']:.1f} s | {r['key_p50_ms']:.0f} / {r['key_p95_ms']:.0f} ms{missed} "
              f"| {r['whole_p50_ms']:.0f} / {r['whole_p95_ms']:.0f} ms "
              f"| {r['held_fps']:.1f} | {r['settle_s']:.2f} s | {r['bytes_per_face'] / 1024:.0f} KiB | {r['held_bytes'] / 2**20:.1f} MiB |")


if __name__ == "__main__":
    main()
