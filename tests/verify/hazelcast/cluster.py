"""Real Hazelcast 3.5 members on loopback, each configured as WSO2 Carbon 4.4.1 configures its member.

A member is started from an axis2.xml file (its ``<clustering>`` section, WKA scheme) and runs
``CarbonMember.java`` (its header maps every axis2.xml parameter to the Hazelcast Config, citing
carbon-kernel v4.4.1). Members live on 127.0.0.2, 127.0.0.3, ... all on one port, like EC2 nodes
with one clusterPort; each binds only to its own address (the one test-only deviation).

    cluster = Cluster(tmp_path)
    manager = cluster.add("manager", write_axis2_xml(tmp_path / "m.xml", domain="wso2.as.domain",
                                                     host="127.0.0.2", port=5701, wka=["127.0.0.3:5701"]))
    cluster.start(manager, ...)          # in parallel; returns once every member printed READY
    parse_members(manager.rest_cluster())

``python -m tests.verify.hazelcast.cluster fetch`` downloads the jars and compiles the member once
(for CI to pre-fetch); ``... time N`` measures starting N members. Needs ``java`` and ``javac`` 17.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, TypeVar

HERE = Path(__file__).resolve().parent
SOURCES = (HERE / "CarbonMember.java", HERE / "java17" / "sun" / "misc" / "Unsafe.java")
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
ARTIFACTS = {  # file name -> path under the Maven repository
    "hazelcast-3.5.jar": "com/hazelcast/hazelcast/3.5/hazelcast-3.5.jar",  # what Carbon kernel 4.4.1 bundles
    "log4j-1.2.17.jar": "log4j/log4j/1.2.17/log4j-1.2.17.jar",
}
HAZELCAST_AGENT = "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent"

JVM_FLAGS = (
    # Speed (CI has 2 cores): small heap, no parallel GC threads, C1 only, class-data sharing.
    "-Xmx128m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    # As Carbon runs: wso2server.sh:304, and Hazelcast logging through log4j into wso2carbon.log.
    "-Djava.net.preferIPv4Stack=true",
    "-Dhazelcast.logging.type=log4j",
    # Java 17 (Hazelcast 3.5 predates Java 9): a JVM without sun.misc.Unsafe (java17/sun/misc/Unsafe.java
    # says why), and Hazelcast's plain `new String(char[])` since its fast path needs a String
    # constructor Java 9 removed (com.hazelcast.nio.UTFEncoderDecoder:706-752).
    "--limit-modules",
    "java.se",
    "-Dhazelcast.nio.faststring=false",
)

T = TypeVar("T")


class HarnessUnavailable(RuntimeError):
    """java/javac missing, or a jar could not be fetched; the message is one line saying what."""


# ------------------------------------------------------------------ jars, java, compiled member


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wso2-cluster-tests"


def jars() -> tuple[Path, Path]:
    """hazelcast-3.5.jar and log4j-1.2.17.jar, downloaded once and checked against their .sha1."""
    repo = os.environ.get("MAVEN_REPO_URL", MAVEN_CENTRAL).rstrip("/")
    folder = cache_dir() / "maven"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, path in ARTIFACTS.items():
        target = folder / name
        if not target.exists():
            _download(f"{repo}/{path}", target)
        paths.append(target)
    return paths[0], paths[1]


def _download(url: str, target: Path) -> None:
    try:
        with urllib.request.urlopen(url + ".sha1", timeout=30) as response:
            expected = response.read().decode("ascii", "replace").split()[0].strip().lower()
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
    except Exception as error:  # noqa: BLE001 - any failure is "could not fetch"
        raise HarnessUnavailable(f"could not download {url}: {error}") from None
    actual = hashlib.sha1(data).hexdigest()
    if actual != expected:
        raise HarnessUnavailable(f"{url} has sha1 {actual}, its .sha1 file says {expected}")
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, target)  # atomic: a concurrent run sees the whole jar or none


def java_tools() -> tuple[str, str]:
    found = [shutil.which(tool) for tool in ("java", "javac")]
    missing = [tool for tool, path in zip(("java", "javac"), found) if path is None]
    if missing:
        raise HarnessUnavailable(f"{' and '.join(missing)} not on PATH (a JDK 17 is needed)")
    return found[0], found[1]  # type: ignore[return-value]


def classpath() -> str:
    """The member's classpath: the jars plus CarbonMember compiled once per source version."""
    _, javac = java_tools()  # first: no download when there is no JDK anyway
    hazelcast, log4j = jars()
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in SOURCES)).hexdigest()[:16]
    classes = cache_dir() / "classes" / digest
    if not (classes / "CarbonMember.class").exists():
        classes.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="compile-", dir=classes.parent))
        done = subprocess.run(
            [
                javac,
                "--limit-modules",
                "java.se",
                "-nowarn",
                "-cp",
                f"{hazelcast}{os.pathsep}{log4j}",
                "-d",
                str(scratch),
                *map(str, SOURCES),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            raise RuntimeError(f"javac failed:\n{done.stdout}{done.stderr}")
        try:
            os.rename(scratch, classes)
        except OSError:  # compiled concurrently by another session: keep theirs
            shutil.rmtree(scratch, ignore_errors=True)
    return os.pathsep.join(map(str, (hazelcast, log4j, classes)))


def check_loopback(hosts: Iterable[str]) -> None:
    """Raise HarnessUnavailable unless this machine can bind each 127.0.0.x (Linux routes 127/8 to lo)."""
    for host in hosts:
        with socket.socket() as probe:
            try:
                probe.bind((host, 0))
            except OSError as error:
                raise HarnessUnavailable(f"cannot bind loopback address {host}: {error}") from None


# ------------------------------------------------------------------ axis2.xml


@dataclass(frozen=True)
class Clustering:
    """What CarbonMember reads from an axis2.xml <clustering> section (None: parameter absent)."""

    host: str
    domain: Optional[str] = None
    port: Optional[str] = None
    members: tuple[str, ...] = ()  # "hostName:port" of each WKA <member>
    group_password: Optional[str] = None
    conn_timeout: Optional[str] = None

    @property
    def bound_port(self) -> int:
        return int(self.port.strip()) if self.port is not None else 4000  # Carbon's default

    def args(self) -> list[str]:
        optional = {
            "domain": self.domain,
            "localMemberPort": self.port,
            "groupPassword": self.group_password,
            "connTimeout": self.conn_timeout,
        }
        return (
            [f"localMemberHost={self.host}"]
            + [f"{k}={v}" for k, v in optional.items() if v is not None]
            + [f"member={m}" for m in self.members]
        )


def read_clustering(axis2_xml: Path) -> Clustering:
    """Parse the <clustering> section as Carbon reads it; only the Hazelcast agent with WKA is accepted."""
    clustering = ET.parse(axis2_xml).getroot().find("clustering")
    if clustering is None:
        raise ValueError(f"{axis2_xml}: no <clustering> element")
    if clustering.get("class") != HAZELCAST_AGENT or clustering.get("enable") != "true":
        raise ValueError(f'{axis2_xml}: clustering is not {HAZELCAST_AGENT} with enable="true"')
    params = {p.get("name"): p.text or "" for p in clustering.findall("parameter")}
    scheme = params.get("membershipScheme", "multicast").strip()  # Carbon's default is multicast
    if scheme != "wka":
        raise ValueError(f"{axis2_xml}: membershipScheme is {scheme!r}; this harness runs only wka")
    if "localMemberHost" not in params:
        raise ValueError(f"{axis2_xml}: localMemberHost is needed (each member binds to its own 127.0.0.x)")
    members = tuple(
        f"{(m.findtext('hostName') or '').strip()}:{(m.findtext('port') or '').strip()}"
        for m in clustering.findall("members/member")
    )
    # Values verbatim (Carbon trims host and port itself, not the domain); CarbonMember applies the rest.
    return Clustering(
        host=params["localMemberHost"].strip(),
        domain=params.get("domain"),
        port=params.get("localMemberPort"),
        members=members,
        group_password=params.get("groupPassword"),
        conn_timeout=params.get("connTimeout"),
    )


def write_axis2_xml(path: Path, *, domain: str, host: str, port: int, wka: Sequence[str]) -> Path:
    """A minimal axis2.xml with a WKA <clustering> section; `wka` holds "ip:port" strings."""
    root = ET.Element("axisconfig", name="AxisJava2.0")
    clustering = ET.SubElement(root, "clustering", {"class": HAZELCAST_AGENT, "enable": "true"})
    for name, value in (
        ("membershipScheme", "wka"),
        ("domain", domain),
        ("localMemberHost", host),
        ("localMemberPort", str(port)),
    ):
        ET.SubElement(clustering, "parameter", name=name).text = value
    members = ET.SubElement(clustering, "members")
    for address in wka:
        member_host, member_port = address.rsplit(":", 1)
        member = ET.SubElement(members, "member")
        ET.SubElement(member, "hostName").text = member_host
        ET.SubElement(member, "port").text = member_port
    ET.ElementTree(root).write(path, encoding="unicode")
    return path


# ------------------------------------------------------------------ what members print


@dataclass(frozen=True)
class ListedMember:
    ip: str
    port: int
    this: bool


MEMBERS_BLOCK = re.compile(r"Members \[(\d+)\] \{\n((?:\tMember \[[0-9.]+\]:\d+(?: this)?\n)*)\}")
MEMBER_LINE = re.compile(r"\tMember \[([0-9.]+)\]:(\d+)( this)?\n")


def parse_members(text: str) -> tuple[ListedMember, ...]:
    """The first `Members [n] {` block of a REST response or log event, strictly as Hazelcast 3.5 prints it."""
    block = MEMBERS_BLOCK.search(text)
    if block is None:
        raise ValueError(f"no well-formed 'Members [n] {{' block in {text!r}")
    members = tuple(ListedMember(ip, int(port), bool(this)) for ip, port, this in MEMBER_LINE.findall(block.group(2)))
    if len(members) != int(block.group(1)):
        raise ValueError(f"'Members [{block.group(1)}]' lists {len(members)} members: {text!r}")
    return members


def wait_until(predicate: Callable[[], T], timeout: float, interval: float = 0.25, what: str = "") -> T:
    """Poll until `predicate` returns something truthy (returned); exceptions count as not yet."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        try:
            result = predicate()
            if result:
                return result
            last = result
        except Exception as error:  # noqa: BLE001 - e.g. a REST call to a member still starting
            last = error
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what or 'condition'} not met in {timeout:.0f} s; last: {last!r}")
        time.sleep(interval)


# ------------------------------------------------------------------ members


class Member:
    """One CarbonMember JVM; its files (wso2carbon.log, stderr) live in `workdir/name`."""

    def __init__(self, name: str, axis2_xml: Path, workdir: Path):
        self.name, self.axis2_xml = name, Path(axis2_xml)
        self.clustering = read_clustering(self.axis2_xml)
        self.home = Path(workdir) / name
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_path = self.home / "wso2carbon.log"
        self.process: Optional[subprocess.Popen[str]] = None
        self.log_offset = 0  # where the current run's log starts (the log is appended to, as Carbon's)
        self._ready = threading.Event()

    @property
    def host(self) -> str:
        return self.clustering.host

    @property
    def port(self) -> int:
        return self.clustering.bound_port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> "Member":
        """Launch the JVM and return at once; wait_ready() waits for READY."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        with socket.socket() as probe:  # a busy port would make Hazelcast silently take the next one
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Hazelcast binds on Linux
            try:
                probe.bind((self.host, self.port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise RuntimeError(f"{self.address} is in use (a member still running?)") from None
                raise HarnessUnavailable(f"cannot bind {self.address}: {error}") from None
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        args = self.clustering.args() + [f"logFile={self.log_path}"]
        java, _ = java_tools()
        self._ready.clear()
        with open(self.home / "stderr.txt", "a") as stderr:
            self.process = subprocess.Popen(
                [java, *JVM_FLAGS, "-cp", classpath(), "CarbonMember", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                cwd=self.home,
            )
        threading.Thread(target=self._watch_stdout, args=(self.process,), daemon=True).start()
        return self

    def _watch_stdout(self, process: subprocess.Popen[str]) -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            if line.strip() == "READY":
                self._ready.set()

    def wait_ready(self, timeout: float = 90) -> "Member":
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if not self.running:
                raise RuntimeError(f"{self.name} exited before READY:\n{self.diagnostics()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not READY in {timeout:.0f} s:\n{self.diagnostics()}")
        return self

    def stop(self, timeout: float = 30) -> None:
        """Leave cleanly (stdin closes -> Hazelcast.shutdownAll()); SIGTERM, then SIGKILL, if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.stdin.close()  # type: ignore[union-attr]
        for action in (None, signal.SIGTERM, signal.SIGKILL):
            if action is not None:
                process.send_signal(action)
            try:
                process.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                continue

    def kill(self) -> None:
        """Die without leaving (SIGKILL): the others notice only by heartbeat/connection loss."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self, timeout: float = 90) -> "Member":
        self.stop()
        return self.start().wait_ready(timeout)

    def rest_cluster(self, timeout: float = 5) -> str:
        """The exact body of GET /hazelcast/rest/cluster from this member (REST must be enabled)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("GET", "/hazelcast/rest/cluster")
            response = connection.getresponse()
            body = response.read().decode("utf-8")
            if response.status != 200:
                raise RuntimeError(f"{self.address} answered {response.status}: {body!r}")
            return body
        finally:
            connection.close()

    def members(self) -> tuple[ListedMember, ...]:
        """This member's current view of the cluster, from its REST endpoint."""
        return parse_members(self.rest_cluster())

    def log_text(self, current_run: bool = False) -> str:
        """wso2carbon.log so far (all runs, or only since the last start)."""
        if not self.log_path.exists():
            return ""
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            log.seek(self.log_offset if current_run else 0)
            return log.read()

    def diagnostics(self) -> str:
        stderr = (self.home / "stderr.txt").read_text(errors="replace") if (self.home / "stderr.txt").exists() else ""
        return f"--- stderr\n{stderr[-3000:]}\n--- wso2carbon.log (end)\n{self.log_text(True)[-5000:]}"


class Cluster:
    """Members started and stopped together; stop_all() (or leaving `with`) ends every JVM."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.members: dict[str, Member] = {}

    def add(self, name: str, axis2_xml: Path) -> Member:
        """A new member (not started). Reusing a stopped member's name reuses its directory and log."""
        if name in self.members and self.members[name].running:
            raise ValueError(f"{name} is running; stop it before replacing it")
        self.members[name] = member = Member(name, axis2_xml, self.workdir)
        return member

    def start(self, *members: Member, timeout: float = 90) -> None:
        """Launch all JVMs at once, then wait for each READY (parallel start)."""
        for member in members:
            member.start()
        for member in members:
            member.wait_ready(timeout)

    def stop(self, *members: Member, timeout: float = 30) -> None:
        """Stop several cleanly, in parallel (a member's graceful shutdown can take seconds)."""
        threads = [threading.Thread(target=m.stop, args=(timeout,)) for m in members]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def stop_all(self, grace: float = 5) -> None:
        """End every JVM: all asked to leave at once, then SIGKILL for any still running after `grace`
        (members leaving together wait on each other's partition migrations)."""
        running = [m for m in self.members.values() if m.running]
        for member in running:
            member.process.stdin.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + grace
        for member in running:
            try:
                member.process.wait(max(0.0, deadline - time.monotonic()))  # type: ignore[union-attr]
            except subprocess.TimeoutExpired:
                member.kill()
            member.process = None

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()


def time_start(n: int) -> None:
    """Print how long n members (WKA: the first 3), started in parallel, take to be READY and to agree."""
    classpath()  # download and compile outside the timing
    ips = [f"127.0.0.{i}" for i in range(2, n + 2)]
    wka = [f"{ip}:5701" for ip in ips[:3]]
    with tempfile.TemporaryDirectory() as tmp, Cluster(Path(tmp)) as cluster:
        members = [
            cluster.add(
                ip,
                write_axis2_xml(
                    Path(tmp) / f"{ip}.xml",
                    domain="wso2.as.domain",
                    host=ip,
                    port=5701,
                    wka=[a for a in wka if a != f"{ip}:5701"],
                ),
            )
            for ip in ips
        ]
        start = time.monotonic()
        cluster.start(*members)
        ready = time.monotonic() - start
        wait_until(lambda: all(len(m.members()) == n for m in members), 60, what=f"all listing {n}")
        print(f"{n} members: all READY after {ready:.1f} s, all listing {n} after {time.monotonic() - start:.1f} s")


def main(argv: Sequence[str]) -> int:
    try:
        if list(argv) == ["fetch"]:
            print(classpath())
        elif len(argv) == 2 and argv[0] == "time" and argv[1].isdigit():
            time_start(int(argv[1]))
        else:
            print("usage: python -m tests.verify.hazelcast.cluster fetch | time N", file=sys.stderr)
            return 2
    except HarnessUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
