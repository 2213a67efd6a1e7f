"""The boot script, run end to end in a sandbox.

The node's paths are moved under tmp, and PATH holds only stand-ins: commands that need the
network, root or a real OS (dnf, aws, curl, mysql, systemctl, mount, ...) are stubs that model
just enough state in files, and the ordinary tools (grep, sed, python3, ...) are wrappers that
run the real ones. Every command line is recorded, so a test can show what ran, in which order,
and that no secret was ever on one. The mysql stub models a tiny server: databases and their
tables, users and their passwords (parsed from the SQL the boot sends), grants, the schema
markers and the admin row of UM_USER.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from userdata import render as render_mod
from userdata import render_user_data
from userdata.settings import ALL_SECRETS, Artifact, DeploymentSync

from .conftest import (
    ADMIN_USER,
    APP_USER,
    ARNS,
    DB_HOST,
    FILE_SYSTEM_ID,
    FIXTURES,
    JDBC_URL,
    MASTER_USER,
    SECRETS,
    SVN_URL,
    SVNKIT_URL,
    TRILEAD_URL,
    VERSION_IDS,
    make_settings,
    snapshot,
)

SEP = "\x1f"  # between the arguments of a recorded command line
USER_DB, REGISTRY_DB, META_DB = "WSO2_USER_DB", "WSO2_REGISTRY_DB", "WSO2_CLUSTER"
# our own stand-in for dbscripts/mysql.sql: tables made idempotently, indexes not (as Carbon's)
SCHEMA_TABLES = ("REG_CLUSTER_LOCK", "REG_LOG", "REG_PATH", "REG_RESOURCE", "UM_TENANT", "UM_USER")
SCHEMA_SQL = (
    "".join(
        f"CREATE TABLE IF NOT EXISTS {t} (ID INTEGER NOT NULL, PRIMARY KEY (ID))ENGINE INNODB;\n" for t in SCHEMA_TABLES
    )
    + "CREATE INDEX REG_PATH_IND_BY_PATH ON REG_PATH(ID);\n"
)
JARS = {  # what each download location serves
    JDBC_URL: b"mysql-connector-j bytes",
    SVNKIT_URL: b"svnkit bytes",
    TRILEAD_URL: b"trilead bytes",
}
PRODUCT_URL = "s3://wso2-artifacts/wso2as-5.3.0.zip"
# Commands the boot may run for real (through a recording wrapper); any other must be a stub.
REAL = (
    "cat",
    "cp",
    "date",
    "dirname",
    "find",
    "grep",
    "install",
    "mkdir",
    "mktemp",
    "mv",
    "readlink",
    "rm",
    "sed",
    "sha256sum",
    "shred",
    "sort",
    "tail",
    "tee",
    "touch",
)

RECORD = f"(IFS=$'{SEP}'; printf '%s\\n' \"${{0##*/}}{SEP}$*\") >>\"$SANDBOX/calls.log\"\n"
STUBS = {
    "sleep": 'n=0; [ ! -f "$SANDBOX/sleeps" ] || n=$(<"$SANDBOX/sleeps"); echo $((n + 1)) >"$SANDBOX/sleeps"',
    "rpm": '[ -f "$SANDBOX/installed" ]',
    "dnf": 'touch "$SANDBOX/installed"',
    "amazon-cloudwatch-agent-ctl": "",
    "id": '[ -f "$SANDBOX/user-$1" ]',
    "useradd": 'eval "touch \\"$SANDBOX/user-\\${$#}\\""',
    "chown": "",
    "getent": '[ ! -f "$SANDBOX/no-dns" ] && echo "10.0.9.9 $2"',
    # timeout N bash -c 'exec 3<>/dev/tcp/$0/$1' HOST PORT: the database; ... PORT: the product
    "timeout": 'if [ $# -eq 6 ]; then [ ! -f "$SANDBOX/db-down" ]; else [ ! -f "$SANDBOX/https-down" ]; fi',
    "systemctl": """
case "$1" in
  is-active) [ -f "$SANDBOX/wso2as-active" ] ;;
  start|restart) [ "$2" != wso2as ] || touch "$SANDBOX/wso2as-active" ;;
esac""",
    "mountpoint": '/bin/grep -qxF "$2" "$SANDBOX/mounts" 2>/dev/null',
    "mount": 'eval "echo \\"\\${$#}\\"" >>"$SANDBOX/mounts"',
    "unzip": f'"{sys.executable}" -c '
    '"import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$2" "$4"'
    ' && /bin/chmod -R u+rwX,go+rX "$4"',
}
PY_STUBS = {
    # curl -fsSL --proto =https --proto-redir =https --retry 3 -o OUT URL / aws s3 cp ... SRC DST
    "curl": """
args = sys.argv[1:]
serve(args[-1], args[args.index("-o") + 1], 22)
""",
    "aws": """
args = sys.argv[1:]
if args[:2] == ["s3", "cp"]:
    serve(args[-2], args[-1], 1)
option = lambda name: args[args.index(name) + 1] if name in args else None
assert args[:2] == ["secretsmanager", "get-secret-value"] and option("--query") == "SecretString", args
if os.path.exists(os.path.join(SANDBOX, "secrets-denied")):
    sys.exit("An error occurred (AccessDeniedException) when calling the GetSecretValue operation")
secret = state("secretsmanager.json")[option("--secret-id")]
print(secret["versions"][option("--version-id")] if option("--version-id") else secret["current"])
""",
    "mysql": """
args = sys.argv[1:]
db = state("mysql.json")
sleeps = int(open(os.path.join(SANDBOX, "sleeps")).read()) if os.path.exists(os.path.join(SANDBOX, "sleeps")) else 0
for change in [c for c in db["pending"] if c["after_sleeps"] <= sleeps]:
    db["pending"].remove(change)
    for key, value in change["set"].items():
        db[key] = value
option = lambda name: args[args.index(name) + 1] if name in args else None
user, password = option("-u"), os.environ.get("MYSQL_PWD")
assert "--ssl" in args and option("-h") == "mysql.wso2.internal" and option("-P") == "3306", args
account = db["users"].get(user)
if account is None or password not in (account["password"], account.get("retained")):
    sys.exit("ERROR 1045 (28000): Access denied for user '%s'@'10.0.2.10' (using password: YES)" % user)
positional = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] not in ("-u", "-h", "-P", "-e")]
current = positional[0] if positional else None
text = option("-e") if "-e" in args else sys.stdin.read()
call = {"user": user, "db": current, "via": "-e" if "-e" in args else "stdin", "statements": []}
db["calls"].append(call)
out, error = [], None
for statement in statements(text):
    call["statements"].append(statement)
    try:
        error = execute(db, user, current, statement, out)
    except SystemExit as refused:
        error = str(refused.code)
    if error:
        break
save("mysql.json", db)
print("\\n".join(out)) if out else None
if error:
    sys.exit(error)
""",
}
PY_PRELUDE = '''import json, os, re, shutil, sys
SANDBOX = os.environ["SANDBOX"]
def state(name):
    with open(os.path.join(SANDBOX, name)) as f:
        return json.load(f)
def save(name, value):
    with open(os.path.join(SANDBOX, name), "w") as f:
        json.dump(value, f, indent=1)
def serve(url, out, missing):
    web = state("web.json")
    if url not in web:
        sys.exit(missing)
    data = open(web[url]["file"], "rb").read()
    with open(out, "wb") as f:
        f.write(data[:len(data) // 2] if web[url].get("partial") else data)
    sys.exit(18 if web[url].get("partial") else 0)
def statements(text):
    """Split on ; outside quotes (MySQL strings: backslash escapes, '' doubles)."""
    out, current, quote, i = [], "", None, 0
    while i < len(text):
        ch = text[i]
        if quote:
            current += ch
            if ch == "\\\\":
                current += text[i + 1]; i += 1
            elif ch == quote:
                quote = None
        elif ch in "'`":
            quote = ch; current += ch
        elif ch == ";":
            out.append(" ".join(current.split())); current = ""
        else:
            current += ch
        i += 1
    if current.strip():
        out.append(" ".join(current.split()))
    return [s for s in out if s]
def literal(text):
    """The value of a MySQL string literal."""
    assert text[0] == text[-1] == "'", text
    body, value, i = text[1:-1], "", 0
    while i < len(body):
        ch = body[i]
        if ch == "\\\\":
            escapes = {"0": "\\0", "n": "\\n", "t": "\\t", "r": "\\r", "b": "\\b", "Z": "\\x1a"}
            value += escapes.get(body[i + 1], body[i + 1]); i += 2
        elif ch == "'":
            value += "'"; i += 2
        else:
            value += ch; i += 1
    return value
LIT = r"('(?:[^'\\\\]|\\\\.|'')*')"
def execute(db, user, current, s, out):
    master = db["users"][user].get("master")
    def need(ok, message):
        if not ok:
            raise SystemExit(message)
    def table_exists(schema, table):
        return table in db["databases"].get(schema, {}).get("tables", [])
    m = re.fullmatch(r"CREATE DATABASE IF NOT EXISTS `(\\w+)`( CHARACTER SET latin1)?", s)
    if m:
        need(master, "ERROR 1044 (42000): Access denied")
        db["databases"].setdefault(m[1], {"tables": [], "indexes": [], "charset": "latin1" if m[2] else None})
        return
    m = re.fullmatch(r"CREATE TABLE IF NOT EXISTS `(\\w+)`\\.SCHEMA_READY \\(.*\\)", s)
    if m:
        need(master and m[1] in db["databases"], "ERROR 1049 (42000): Unknown database")
        if not table_exists(m[1], "SCHEMA_READY"):
            db["databases"][m[1]]["tables"].append("SCHEMA_READY")
        return
    m = re.fullmatch(r"CREATE USER IF NOT EXISTS '(\\w+)'@'%' IDENTIFIED BY " + LIT + " REQUIRE SSL", s)
    if m:
        need(master, "ERROR 1227 (42000): Access denied")
        db["users"].setdefault(m[1], {"password": literal(m[2]), "require_ssl": True})
        return
    m = re.fullmatch(r"ALTER USER '(\\w+)'@'%' IDENTIFIED BY " + LIT + " RETAIN CURRENT PASSWORD", s)
    if m:
        need(master and m[1] in db["users"], "ERROR 1396 (HY000): Operation ALTER USER failed")
        account = db["users"][m[1]]
        account["retained"], account["password"] = account["password"], literal(m[2])
        return
    m = re.fullmatch(r"GRANT ([A-Z, ]+) ON `(\\w+)`\\.\\* TO '(\\w+)'@'%'", s)
    if m:
        need(master, "ERROR 1044 (42000): Access denied")
        grant = [m[3], m[1], m[2]]
        if grant not in db["grants"]:
            db["grants"].append(grant)
        return
    def visible(schema):
        return master or any(g[0] == user and g[2] == schema for g in db["grants"])
    m = re.fullmatch(
        r"SELECT (COUNT\\(\\*\\)|table_name) FROM information_schema\\.tables WHERE table_schema = '(\\w+)'", s
    )
    if m:
        tables = db["databases"].get(m[2], {}).get("tables", []) if visible(m[2]) else []
        out.extend([str(len(tables))] if m[1] == "COUNT(*)" else tables)
        return
    m = re.fullmatch(
        r"SELECT COUNT\\(\\*\\) FROM (\\w+)\\.SCHEMA_READY WHERE db_name (?:= '(\\w+)'|IN \\('(\\w+)', '(\\w+)'\\))", s
    )
    if m:
        need(table_exists(m[1], "SCHEMA_READY") and visible(m[1]), "ERROR 1146 (42S02): Table doesn't exist")
        out.append(str(len({n for n in m.groups()[1:] if n} & set(db["markers"]))))
        return
    m = re.fullmatch(r"INSERT IGNORE INTO (\\w+)\\.SCHEMA_READY \\(db_name\\) VALUES \\('(\\w+)'\\)", s)
    if m:
        need(master and table_exists(m[1], "SCHEMA_READY"), "ERROR 1146 (42S02): Table doesn't exist")
        if m[2] not in db["markers"]:
            db["markers"].append(m[2])
        return
    m = re.fullmatch(r"SELECT COUNT\\(\\*\\) FROM UM_USER WHERE UM_USER_NAME = '([^']*)' AND UM_TENANT_ID = -1234", s)
    if m:
        exists = current and table_exists(current, "UM_USER") and visible(current)
        need(exists, "ERROR 1146 (42S02): Table doesn't exist")
        out.append(str(db["admin_users"].count(m[1])))
        return
    m = re.fullmatch(r"CREATE TABLE IF NOT EXISTS (\\w+) \\(.*", s)
    if m:
        need(current in db["databases"] and visible(current), "ERROR 1046 (3D000): No database selected")
        if m[1] not in db["databases"][current]["tables"]:
            db["databases"][current]["tables"].append(m[1])
        return
    m = re.fullmatch(r"CREATE INDEX (\\w+) ON .*", s)
    if m:
        need(current in db["databases"], "ERROR 1046 (3D000): No database selected")
        need(m[1] not in db["databases"][current]["indexes"], "ERROR 1061 (42000): Duplicate key name '%s'" % m[1])
        db["databases"][current]["indexes"].append(m[1])
        db["scripts"].append(current)
        return
    db["unsupported"].append(s)
    return "stub: unsupported statement: " + s
'''


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    """Product zips of our own making: bin/wso2server.sh, dbscripts/mysql.sql, our fixture conf,
    the kernel jar (named by version) and a deployed webapp."""
    folder = tmp_path_factory.mktemp("products")

    def make(kernel: str = "4.4.1") -> Path:
        path = folder / f"wso2as-{kernel}.zip"
        if not path.exists():
            with zipfile.ZipFile(path, "w") as z:
                z.writestr("wso2as-5.3.0/bin/wso2server.sh", "#!/bin/sh\n")
                z.writestr("wso2as-5.3.0/dbscripts/mysql.sql", SCHEMA_SQL)
                z.writestr("wso2as-5.3.0/repository/components/lib/README", "drivers\n")
                z.writestr("wso2as-5.3.0/repository/components/dropins/README", "bundles\n")
                if kernel:
                    z.writestr(f"wso2as-5.3.0/repository/components/plugins/org.wso2.carbon.core_{kernel}.jar", "k")
                z.writestr("wso2as-5.3.0/repository/deployment/server/webapps/example.war", "war\n")
                for f in sorted((FIXTURES / "repository").rglob("*.xml")):
                    z.write(f, "wso2as-5.3.0/" + f.relative_to(FIXTURES).as_posix())
        return path

    return make


class Node:
    """One node's sandbox: its files as cloud-init writes them (with the paths moved under tmp),
    the stubs, and the state they model."""

    def __init__(self, tmp: Path, settings, product_zip: Path):
        self.tmp, self.settings = tmp, settings
        tmp.mkdir(parents=True, exist_ok=True)
        self.base, self.product = tmp / "opt/wso2-cluster", tmp / "opt/wso2as"
        self.state_dir, self.log_dir = tmp / "var/lib/wso2-cluster", tmp / "var/log/wso2-cluster"
        self.unit_dir, self.shared = tmp / "etc/systemd/system", tmp / "mnt/wso2-shared"
        context = {
            "base": str(self.base),
            "product_home": str(self.product),
            "state_dir": str(self.state_dir),
            "log_dir": str(self.log_dir),
            "unit_dir": str(self.unit_dir),
            "shared_mount": str(self.shared),
        }
        real_context = render_mod.template_context()
        context["java_options"] = real_context["java_options"]  # not a path the sandbox moves
        files = render_user_data(settings).files
        boot = render_mod._minify(render_mod._ENV.get_template("boot.sh.j2").render(**context))
        # the very script the node gets, but for the paths
        moved = boot
        for key in sorted(context, key=lambda k: -len(context[k])):
            moved = moved.replace(context[key], real_context[key])
        assert moved.encode() == files["/opt/wso2-cluster/bin/boot"]
        for path, data in files.items():
            target = self.base / path[len("/opt/wso2-cluster/") :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(boot.encode() if path.endswith("/bin/boot") else data)
            target.chmod(0o755 if "/bin/" in path else 0o644)
        self.unit_dir.mkdir(parents=True)
        self.stubs = tmp / "stubs"
        (self.stubs / "jdk/bin").mkdir(parents=True)
        for name in REAL:
            real = shutil.which(name, path="/usr/bin:/bin")
            self._script(name, f'#!/bin/bash\n{RECORD}exec {real} "$@"\n')
        self._script("python3", f'#!/bin/bash\n{RECORD}exec {sys.executable} "$@"\n')
        self._script("jdk/bin/javac", "#!/bin/bash\n")
        for name, body in STUBS.items():
            self._script(name, f"#!/bin/bash\n{RECORD}{body}\n")
        for name, body in PY_STUBS.items():
            self._script(
                name,
                f"#!{sys.executable}\n{PY_PRELUDE}\n"
                f"with open(os.path.join(SANDBOX, 'calls.log'), 'a') as log:\n"
                f"    log.write({SEP!r}.join(['{name}'] + sys.argv[1:]) + '\\n')\n{body}",
            )
        self.web = {PRODUCT_URL: {"file": str(product_zip)}}
        for url, data in JARS.items():
            (tmp / "served").mkdir(exist_ok=True)
            served = tmp / "served" / sha256(url.encode())
            served.write_bytes(data)
            self.web[url] = {"file": str(served)}
        self.save("web.json", self.web)
        self.save(
            "secretsmanager.json",
            {
                ARNS[k]: {
                    "current": SECRETS[k] if VERSION_IDS[k] is None else f"stale-{k}",
                    "versions": {VERSION_IDS[k]: SECRETS[k]} if VERSION_IDS[k] else {},
                }
                for k in ALL_SECRETS
            },
        )
        self.save(
            "mysql.json",
            {
                "users": {MASTER_USER: {"password": SECRETS["dbMasterPassword"], "master": True}},
                "databases": {},
                "grants": [],
                "markers": [],
                "admin_users": [],
                "scripts": [],
                "calls": [],
                "pending": [],
                "unsupported": [],
            },
        )
        self.env = {
            "PATH": f"{self.stubs}:{self.stubs}/jdk/bin",
            "SANDBOX": str(tmp),
            "LANG": "C.UTF-8",
            "HOME": str(tmp),
        }

    def patch(self, old: str, new: str) -> None:
        """Shorten a wait of the sandbox's boot script (the real values are checked as text)."""
        boot = self.base / "bin/boot"
        text = boot.read_text()
        assert text.count(old) == 1, old
        boot.write_text(text.replace(old, new))

    def _script(self, name: str, text: str) -> None:
        path = self.stubs / name
        path.write_text(text)
        path.chmod(0o755)

    def save(self, name: str, value) -> None:
        (self.tmp / name).write_text(json.dumps(value, indent=1))

    def load(self, name: str):
        return json.loads((self.tmp / name).read_text())

    def mysql(self, **changes) -> dict:
        """The server's state; with changes, set them first."""
        state = self.load("mysql.json")
        if changes:
            state.update(changes)
            self.save("mysql.json", state)
        return state

    def boot(self, *args: str, **files: str) -> subprocess.CompletedProcess:
        for name, content in files.items():
            (self.tmp / name.replace("_", "-")).write_text(content)
        self.calls_before = len(self.calls())
        r = subprocess.run(
            ["/bin/bash", str(self.base / "bin/boot"), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        for name in files:
            (self.tmp / name.replace("_", "-")).unlink()
        return r

    def calls(self, name: str = None, since_boot: bool = False) -> list:
        log = self.tmp / "calls.log"
        lines = log.read_text().splitlines() if log.exists() else []
        if since_boot:
            lines = lines[self.calls_before :]
        calls = [line.split(SEP) for line in lines]
        return [c[1:] for c in calls if c[0] == name] if name else calls

    def log_lines(self, r) -> list:
        """The boot's own log lines (timestamp removed)."""
        return [line.split(" wso2-boot: ", 1)[1] for line in r.stdout.splitlines() if " wso2-boot: " in line]


def boot_node(
    tmp_path, products, role="manager", scheme="aws", credentials="accessKey", sync="none", kernel="4.4.1", **overrides
) -> Node:
    """A node whose settings name the sandbox's artifacts, with their checksums."""
    zip_path = products(kernel)
    overrides.setdefault("product", Artifact(PRODUCT_URL, sha256(zip_path.read_bytes())))
    if sync == "svn":
        overrides.setdefault(
            "deployment_sync",
            DeploymentSync(
                mode="svn",
                svn_url=SVN_URL,
                svn_user="deployer",
                svn_kit=Artifact(SVNKIT_URL, sha256(JARS[SVNKIT_URL])),
                trilead_ssh=Artifact(TRILEAD_URL, sha256(JARS[TRILEAD_URL])),
            ),
        )
    return Node(tmp_path, make_settings(role, scheme, credentials, sync, **overrides), zip_path)


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""  # everything goes to the log (stdout)
    return r


def assert_no_secret_anywhere(node: Node, *runs) -> None:
    """No secret value in any command line, in the boot's output or its log file."""
    texts = [(node.tmp / "calls.log").read_text(), (node.log_dir / "boot.log").read_text()]
    texts += [r.stdout + r.stderr for r in runs]
    for value in SECRETS.values():
        for text in texts:
            assert value not in text
    for k in ALL_SECRETS:
        assert f"stale-{k}" not in "".join(texts)


# ---------------------------------------------------------------- the manager


def test_manager_first_boot_sets_up_the_databases_and_starts_the_product(tmp_path, products):
    node = boot_node(tmp_path, products, "manager")
    r = ok(node.boot())
    db = node.mysql()
    # the databases, the marker table, the application user (its password as the secret holds it,
    # kept as the retained password too), and grants on the two WSO2 databases only
    assert {name: d["charset"] for name, d in db["databases"].items()} == {
        USER_DB: "latin1",
        REGISTRY_DB: "latin1",
        META_DB: None,
    }
    assert db["users"][APP_USER] == {
        "password": SECRETS["dbPassword"],
        "retained": SECRETS["dbPassword"],
        "require_ssl": True,
    }
    rights = "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES"
    assert db["grants"] == [[APP_USER, rights, USER_DB], [APP_USER, rights, REGISTRY_DB], [APP_USER, "SELECT", META_DB]]
    # mysql.sql ran once into each (empty) database, then each was marked
    assert db["scripts"] == [USER_DB, REGISTRY_DB]
    for name in (USER_DB, REGISTRY_DB):
        assert db["databases"][name]["tables"] == list(SCHEMA_TABLES)
    assert db["markers"] == [USER_DB, REGISTRY_DB]
    assert db["unsupported"] == []
    # all of it as the master user, which only the manager knows
    assert {c["user"] for c in db["calls"]} == {MASTER_USER}
    assert [c for c in db["calls"] if c["db"]] == [
        {"user": MASTER_USER, "db": name, "via": "stdin", "statements": SCHEMA_SQL.strip().rstrip(";").split(";\n")}
        for name in (USER_DB, REGISTRY_DB)
    ]
    # the product: unpacked, the driver installed, configured for the manager, started as manager
    home = node.product
    assert (home / "bin/wso2server.sh").is_file()
    assert (home / "repository/components/lib/mysql-connector-j-8.4.0.jar").read_bytes() == JARS[JDBC_URL]
    carbon = (home / "repository/conf/carbon.xml").read_text(encoding="iso-8859-1")
    assert "<MgtHostName>mgt.as.example.com</MgtHostName>" in carbon
    user_mgt = (home / "repository/conf/user-mgt.xml").read_text()
    assert (
        f"<UserName>{ADMIN_USER}</UserName>" in user_mgt and "<Password>Adm1n&amp;&lt;'pw'&gt;</Password>" in user_mgt
    )
    # systemd's EnvironmentFile syntax: JAVA_OPTS quoted, so wso2server.sh gets every option
    assert (node.base / "wso2as.env").read_text() == (
        f"JAVA_HOME={node.stubs}/jdk\nWSO2_OPTS=-Dhazelcast.logging.type=log4j\n"
        'JAVA_OPTS="-Xms1024m -Xmx1024m -XX:MaxMetaspaceSize=512m -Xloggc:/opt/wso2as/repository/logs/gc.log '
        "-XX:+PrintGCDetails -XX:+PrintGCDateStamps -XX:+UseGCLogFileRotation -XX:NumberOfGCLogFiles=5 "
        '-XX:GCLogFileSize=10M"\n'
    )
    assert (node.unit_dir / "wso2as.service").read_bytes() == (node.base / "wso2as.service").read_bytes()
    assert node.calls("systemctl") == [["daemon-reload"], ["is-active", "-q", "wso2as"], ["start", "wso2as"]]
    assert node.calls("dnf") == [
        ["install", "-y", "-q", "java-1.8.0-amazon-corretto-devel", "mariadb105", "unzip", "amazon-cloudwatch-agent"]
    ]
    assert node.calls("amazon-cloudwatch-agent-ctl") == [
        ["-a", "fetch-config", "-m", "ec2", "-s", "-c", "ssm:/wso2/wso2-cluster/dev/cloudwatch-agent"]
    ]
    assert node.calls("useradd") == [
        [
            "--system",
            "--uid",
            "799",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            str(home),
            "--shell",
            "/sbin/nologin",
            "wso2",
        ]
    ]
    assert node.calls("chown") == [["-R", "wso2:wso2", str(home)]]
    # the secrets: at the version node.json names (the master password: the current one),
    # in a file only root reads, shredded at the end
    assert node.calls("aws")[1:] == [
        [
            "secretsmanager",
            "get-secret-value",
            "--region",
            "eu-west-1",
            "--secret-id",
            ARNS[k],
            "--query",
            "SecretString",
            "--output",
            "text",
            *(["--version-id", VERSION_IDS[k]] if VERSION_IDS[k] else []),
        ]
        for k in sorted(("dbPassword", "adminPassword", "dbMasterPassword", "discoveryAccessKey", "discoverySecretKey"))
    ]
    secrets_file = str(node.state_dir / "secrets.json")
    assert node.calls("shred") == [["-u", secrets_file]] and not os.path.exists(secrets_file)
    assert stat.S_IMODE(node.state_dir.stat().st_mode) == 0o700
    assert_no_secret_anywhere(node, r)
    # every step logged, timestamped, in order
    lines = node.log_lines(r)
    assert all(
        re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ wso2-boot: ", line)
        for line in r.stdout.splitlines()
        if "wso2-boot:" in line
    )
    assert lines == [
        "booting manager manager",
        "starting the CloudWatch agent (/wso2/wso2-cluster/dev/cloudwatch-agent)",
        f"fetching {PRODUCT_URL}",
        f"unpacking the product to {home}",
        f"fetching {JDBC_URL}",
        "fetching secrets from Secrets Manager",
        f"configuring {home}",
        f"waiting for the database {DB_HOST}:3306",
        f"creating the WSO2 schema in {USER_DB}",
        f"creating the WSO2 schema in {REGISTRY_DB}",
        "starting wso2as.service (-Dhazelcast.logging.type=log4j)",
        "done: HTTPS port 9443 answers",
    ]
    assert (node.log_dir / "boot.log").read_text() == r.stdout


def test_a_second_boot_changes_nothing(tmp_path, products):
    node = boot_node(tmp_path, products, "manager", "wka")
    ok(node.boot())
    db, home = node.mysql(), node.product
    conf = snapshot(home / "repository/conf")
    r = ok(node.boot())  # a reboot, or the unit's retry after a later step failed
    again = node.mysql()
    calls, first_calls = again.pop("calls"), db.pop("calls")
    assert again == db  # the server's state is as the first boot left it
    # no CREATE TABLE, no script: only the idempotent setup and the marker checks
    second = calls[len(first_calls) :]
    assert not [s for c in second for s in c["statements"] if "CREATE TABLE IF NOT EXISTS REG" in s]
    assert [c["via"] for c in second] == ["stdin"] + ["-e"] * 4
    assert snapshot(home / "repository/conf") == conf
    assert "apply-config: repository/conf/carbon.xml: unchanged" in r.stdout
    assert ": updated" not in r.stdout
    assert node.calls("systemctl", since_boot=True) == [
        ["daemon-reload"],
        ["is-active", "-q", "wso2as"],
        ["start", "wso2as"],
    ]  # running already: no restart
    assert node.log_lines(r) == [
        "booting manager manager",
        "starting the CloudWatch agent (/wso2/wso2-cluster/dev/cloudwatch-agent)",
        "fetching secrets from Secrets Manager",
        f"configuring {home}",
        f"waiting for the database {DB_HOST}:3306",
        "starting wso2as.service (-Dhazelcast.logging.type=log4j)",
        "done: HTTPS port 9443 answers",
    ]
    assert not node.calls("dnf", since_boot=True) and not node.calls("curl", since_boot=True)
    assert [c[:2] for c in node.calls("aws", since_boot=True)] == [["secretsmanager", "get-secret-value"]] * 3
    assert_no_secret_anywhere(node, r)


def test_the_product_restarts_only_when_its_configuration_changed(tmp_path, products):
    node = boot_node(tmp_path, products, "manager")
    ok(node.boot())
    axis2 = node.product / "repository/conf/axis2/axis2.xml"
    axis2.write_bytes((node.product / "repository/conf/axis2/axis2.xml.orig").read_bytes())  # edited by hand
    r = ok(node.boot())
    assert "apply-config: repository/conf/axis2/axis2.xml: updated" in r.stdout
    assert node.calls("systemctl", since_boot=True) == [
        ["daemon-reload"],
        ["is-active", "-q", "wso2as"],
        ["restart", "wso2as"],
    ]
    assert "restarting wso2as.service (its configuration changed)" in node.log_lines(r)
    # changed, but the product was not running (a reboot): started, not restarted
    axis2.write_bytes((node.product / "repository/conf/axis2/axis2.xml.orig").read_bytes())
    (tmp_path / "wso2as-active").unlink()
    r = ok(node.boot())
    assert node.calls("systemctl", since_boot=True)[-1] == ["start", "wso2as"]


def test_a_half_made_schema_fails_the_boot_with_one_clear_line(tmp_path, products):
    node = boot_node(tmp_path, products, "manager")
    node.mysql(databases={REGISTRY_DB: {"tables": ["REG_CLUSTER_LOCK", "REG_LOG"], "indexes": [], "charset": "latin1"}})
    r = node.boot()
    assert r.returncode == 1
    lines = node.log_lines(r)
    assert lines[-1] == f"{REGISTRY_DB} holds 2 of 6 WSO2 tables: a half-made schema; repair it by hand"
    assert not [line for line in lines if "FAILED" in line]  # one line, not a trace
    db = node.mysql()
    assert db["scripts"] == [USER_DB] and db["markers"] == [USER_DB]  # the sound one is done
    assert db["databases"][REGISTRY_DB]["tables"] == ["REG_CLUSTER_LOCK", "REG_LOG"]  # never run twice
    assert ["start", "wso2as"] not in node.calls("systemctl")
    # a retry (the unit's) fails the same way, and touches nothing
    r = node.boot()
    assert r.returncode == 1 and node.log_lines(r)[-1] == lines[-1]
    assert node.mysql()["scripts"] == [USER_DB]


def test_a_complete_but_unmarked_schema_is_marked_without_running_the_script(tmp_path, products):
    node = boot_node(tmp_path, products, "manager")
    complete = {"tables": list(SCHEMA_TABLES), "indexes": ["REG_PATH_IND_BY_PATH"], "charset": "latin1"}
    node.mysql(databases={USER_DB: complete, REGISTRY_DB: complete})  # the script ran; the marker did not
    ok(node.boot())
    assert node.mysql()["scripts"] == [] and node.mysql()["markers"] == [USER_DB, REGISTRY_DB]


def test_the_application_password_may_change_and_the_old_one_keeps_working(tmp_path, products):
    node = boot_node(tmp_path, products, "manager")
    node.mysql(
        users={
            MASTER_USER: {"password": SECRETS["dbMasterPassword"], "master": True},
            APP_USER: {"password": "old-Pa55", "require_ssl": True},
        }
    )
    ok(node.boot())
    assert node.mysql()["users"][APP_USER] == {
        "password": SECRETS["dbPassword"],
        "retained": "old-Pa55",
        "require_ssl": True,
    }


# ---------------------------------------------------------------- workers


def test_worker_waits_for_both_schemas_and_the_admin_then_starts_as_worker(tmp_path, products):
    node = boot_node(tmp_path, products, "worker", heap_mb=6912)
    # the manager's work as the worker finds it: the application user exists, nothing else yet;
    # then (as time passes: the sleep stub counts) one schema, both, and the admin account
    made = {"tables": list(SCHEMA_TABLES), "indexes": ["REG_PATH_IND_BY_PATH"], "charset": "latin1"}
    node.mysql(
        users={APP_USER: {"password": SECRETS["dbPassword"]}},
        grants=[[APP_USER, "SELECT", USER_DB], [APP_USER, "SELECT", REGISTRY_DB], [APP_USER, "SELECT", META_DB]],
        pending=[
            {
                "after_sleeps": 1,
                "set": {
                    "databases": {USER_DB: made, REGISTRY_DB: made, META_DB: {"tables": ["SCHEMA_READY"]}},
                    "markers": [USER_DB],
                },
            },
            {"after_sleeps": 2, "set": {"markers": [USER_DB, REGISTRY_DB]}},
            {"after_sleeps": 4, "set": {"admin_users": [ADMIN_USER]}},
        ],
    )
    r = ok(node.boot())
    lines = node.log_lines(r)
    waits = lines[lines.index("waiting for the schemas and the admin account") + 1 :]
    assert waits == [
        "try 1 failed, retrying in 20s: schema_ready",
        "try 2 failed, retrying in 20s: schema_ready",
        "try 1 failed, retrying in 20s: admin_exists",
        "try 2 failed, retrying in 20s: admin_exists",
        "starting wso2as.service (-Dhazelcast.logging.type=log4j -DworkerNode=true)",
        "done: HTTPS port 9443 answers",
    ]
    assert (tmp_path / "sleeps").read_text().strip() == "4"
    assert (node.base / "wso2as.env").read_text() == (
        f"JAVA_HOME={node.stubs}/jdk\nWSO2_OPTS=-Dhazelcast.logging.type=log4j -DworkerNode=true\n"
        'JAVA_OPTS="-Xms6912m -Xmx6912m -XX:MaxMetaspaceSize=512m -Xloggc:/opt/wso2as/repository/logs/gc.log '
        "-XX:+PrintGCDetails -XX:+PrintGCDateStamps -XX:+UseGCLogFileRotation -XX:NumberOfGCLogFiles=5 "
        '-XX:GCLogFileSize=10M"\n'
    )
    db = node.mysql()
    # a worker never creates anything, and connects as the application user only
    assert {c["user"] for c in db["calls"]} == {APP_USER} and db["scripts"] == []
    assert {s.split(" ")[0] for c in db["calls"] for s in c["statements"]} == {"SELECT"}
    assert [s for c in db["calls"] for s in c["statements"]][
        -1
    ] == f"SELECT COUNT(*) FROM UM_USER WHERE UM_USER_NAME = '{ADMIN_USER}' AND UM_TENANT_ID = -1234"
    # its secrets: no master password
    assert [c[c.index("--secret-id") + 1] for c in node.calls("aws")[1:]] == [
        ARNS[k] for k in sorted(("dbPassword", "adminPassword", "discoveryAccessKey", "discoverySecretKey"))
    ]
    carbon = (node.product / "repository/conf/carbon.xml").read_text(encoding="iso-8859-1")
    assert "<HostName>as.example.com</HostName>" in carbon and "<MgtHostName>" not in carbon
    assert_no_secret_anywhere(node, r)


def test_worker_gives_up_after_the_wait_and_fails(tmp_path, products, monkeypatch):
    node = boot_node(tmp_path, products, "worker", "wka")
    node.patch("DB_WAIT_MINUTES=80", "DB_WAIT_MINUTES=1")  # 3 tries
    node.mysql(users={APP_USER: {"password": SECRETS["dbPassword"]}})
    r = node.boot()
    assert r.returncode == 1
    lines = node.log_lines(r)
    assert lines[-3:-1] == ["try 2 failed, retrying in 20s: schema_ready", "giving up after 3 tries: schema_ready"]
    assert lines[-1].startswith("FAILED (exit 1) at line ")
    assert ["start", "wso2as"] not in node.calls("systemctl")


# ---------------------------------------------------------------- downloads


def ready_for_workers(node: Node) -> None:
    """The database as the manager leaves it, seen by a worker."""
    node.mysql(
        users={APP_USER: {"password": SECRETS["dbPassword"]}},
        markers=[USER_DB, REGISTRY_DB],
        admin_users=[ADMIN_USER],
        databases={USER_DB: {"tables": ["UM_USER"]}, META_DB: {"tables": ["SCHEMA_READY"]}},
        grants=[[APP_USER, "SELECT", USER_DB], [APP_USER, "SELECT", META_DB]],
    )


def test_downloads_are_https_only_and_named_by_their_path(tmp_path, products):
    url = "https://h/x/mysql-connector-j-8.4.0.jar?a=1&b=*"  # a query, and glob characters
    node = boot_node(tmp_path, products, "worker", "wka", jdbc_driver=Artifact(url, sha256(b"driver")))
    (tmp_path / "driver").write_bytes(b"driver")
    node.web[url] = {"file": str(tmp_path / "driver")}
    node.save("web.json", node.web)
    ready_for_workers(node)
    ok(node.boot())
    lib = node.product / "repository/components/lib"
    part = str(lib / "mysql-connector-j-8.4.0.jar.part")
    assert node.calls("curl") == [
        ["-fsSL", "--proto", "=https", "--proto-redir", "=https", "--retry", "3", "-o", part, url]
    ]
    # a file the glob would match does not stand for the jar: it is downloaded again
    (lib / "mysql-connector-j-8.4.0.jar").unlink()
    (lib / "mysql-connector-j-8.4.0.jar?a=1&b=x").write_bytes(b"decoy")
    ok(node.boot())
    assert node.calls("curl", since_boot=True) == [node.calls("curl")[0]]
    assert sorted(p.name for p in lib.iterdir()) == [
        "README",
        "mysql-connector-j-8.4.0.jar",
        "mysql-connector-j-8.4.0.jar?a=1&b=x",
    ]
    assert (lib / "mysql-connector-j-8.4.0.jar").read_bytes() == b"driver"
    # the product zip came from S3 through the instance role
    assert node.calls("aws")[0] == [
        "s3",
        "cp",
        "--only-show-errors",
        "--region",
        "eu-west-1",
        PRODUCT_URL,
        node.calls("aws")[0][-1],
    ]
    assert node.calls("aws")[0][-1].endswith("/product.zip.part")


def test_a_checksum_mismatch_is_refused(tmp_path, products):
    node = boot_node(tmp_path, products, "manager", jdbc_driver=Artifact(JDBC_URL, "0" * 64))
    r = node.boot()
    assert r.returncode == 1
    lines = node.log_lines(r)
    assert f"sha256 mismatch for {JDBC_URL}" in lines and lines[-1].startswith("FAILED (exit 1) at line ")
    lib = node.product / "repository/components/lib"
    assert sorted(p.name for p in lib.iterdir()) == ["README"]  # nothing installed, no .part left
    assert not node.calls("mysql") and ["start", "wso2as"] not in node.calls("systemctl")
    # and the product zip too: a wrong checksum stops before anything is unpacked
    node = boot_node(tmp_path / "zip", products, "manager", product=Artifact(PRODUCT_URL, "0" * 64))
    r = node.boot()
    assert r.returncode == 1 and f"sha256 mismatch for {PRODUCT_URL}" in node.log_lines(r)
    assert not node.product.exists()


def test_a_download_that_breaks_off_is_not_installed(tmp_path, products):
    """Without a checksum to catch it: curl fails (exit 18) after writing half the jar."""
    node = boot_node(tmp_path, products, "manager")
    node.web[JDBC_URL]["partial"] = True
    node.save("web.json", node.web)
    r = node.boot()
    assert r.returncode != 0
    assert "giving up after 5 tries: curl" in node.log_lines(r)
    assert len(node.calls("curl")) == 5
    lib = node.product / "repository/components/lib"
    assert sorted(p.name for p in lib.iterdir()) == ["README"]
    assert not node.calls("mysql")
    # the next try (the unit's retry) downloads again, and succeeds
    del node.web[JDBC_URL]["partial"]
    node.save("web.json", node.web)
    ok(node.boot())
    assert (lib / "mysql-connector-j-8.4.0.jar").read_bytes() == JARS[JDBC_URL]


def test_svn_installs_svnkit_into_dropins_and_trilead_into_lib(tmp_path, products):
    node = boot_node(tmp_path, products, "manager", "aws", "accessKey", "svn")
    r = ok(node.boot())
    components = node.product / "repository/components"
    assert (components / "dropins/svnkit-all-1.8.7.wso2v1.jar").read_bytes() == JARS[SVNKIT_URL]
    assert (components / "lib/trilead-ssh2-1.0.0-build215.jar").read_bytes() == JARS[TRILEAD_URL]
    assert (components / "lib/mysql-connector-j-8.4.0.jar").read_bytes() == JARS[JDBC_URL]
    assert [c[-1] for c in node.calls("curl")] == [JDBC_URL, SVNKIT_URL]
    assert [c[-2] for c in node.calls("aws") if c[0] == "s3"] == [PRODUCT_URL, TRILEAD_URL]
    carbon = (node.product / "repository/conf/carbon.xml").read_text(encoding="iso-8859-1")
    assert "<SvnUrl>https://svn.example.com/repos/as</SvnUrl>" in carbon and "<Enabled>true</Enabled>" in carbon
    fetched = [c[c.index("--secret-id") + 1] for c in node.calls("aws") if c[0] == "secretsmanager"]
    assert ARNS["svnPassword"] in fetched
    assert_no_secret_anywhere(node, r)


def test_efs_mounts_the_shared_deployment_and_the_manager_seeds_it_once(tmp_path, products):
    node = boot_node(tmp_path, products, "manager", "wka", sync="efs")
    ok(node.boot())
    deploy = node.product / "repository/deployment/server"
    assert node.calls("mount") == [
        ["-t", "efs", "-o", "tls", f"{FILE_SYSTEM_ID}:/", str(node.shared)],
        ["--bind", str(node.shared / "server"), str(deploy)],
    ]
    assert (node.shared / ".seeded").exists()
    assert (node.shared / "server/webapps/example.war").read_text() == "war\n"
    assert ["-R", "wso2:wso2", str(node.shared / "server")] in node.calls("chown")
    assert "amazon-efs-utils" in node.calls("dnf")[0]
    # a second boot: mounted already (mountpoint says so), no second seeding
    (node.shared / "server/webapps/example.war").write_text("deployed since\n")
    r = ok(node.boot())
    assert "seeding the shared deployment directory" not in node.log_lines(r)
    assert node.calls("mount", since_boot=True) == []
    assert (node.shared / "server/webapps/example.war").read_text() == "deployed since\n"


def test_efs_worker_waits_for_the_seed_and_never_seeds(tmp_path, products):
    node = boot_node(tmp_path, products, "worker", "wka", sync="efs")
    node.mysql(
        users={APP_USER: {"password": SECRETS["dbPassword"]}},
        markers=[USER_DB, REGISTRY_DB],
        admin_users=[ADMIN_USER],
        databases={USER_DB: {"tables": ["UM_USER"]}, META_DB: {"tables": ["SCHEMA_READY"]}},
        grants=[[APP_USER, "SELECT", USER_DB], [APP_USER, "SELECT", META_DB]],
    )
    (node.shared / "server").mkdir(parents=True)
    (node.shared / ".seeded").touch()
    r = ok(node.boot())
    assert "seeding the shared deployment directory" not in node.log_lines(r)
    assert node.calls("mount")[-1] == [
        "--bind",
        str(node.shared / "server"),
        str(node.product / "repository/deployment/server"),
    ]
    assert not (node.shared / "server/webapps").exists()


# ---------------------------------------------------------------- the kernel check (instanceRole)


@pytest.mark.parametrize(
    "kernel,message",
    [
        (
            "4.4.1",
            "discoveryCredentials=instanceRole needs Carbon kernel 4.4.34 or newer; this product has 4.4.1 "
            "(use accessKey)",
        ),
        (
            "",
            "discoveryCredentials=instanceRole needs Carbon kernel 4.4.34 or newer; this product has 4.4.? "
            "(use accessKey)",
        ),
    ],
)
def test_instance_role_refuses_an_old_kernel_with_one_clear_line(tmp_path, products, kernel, message):
    node = boot_node(tmp_path, products, "manager", "aws", "instanceRole", kernel=kernel)
    r = node.boot()
    assert r.returncode == 1
    lines = node.log_lines(r)
    assert lines[-1] == message and not [line for line in lines if "FAILED" in line]
    assert not node.calls("mysql") and not node.calls("curl")  # before anything else is fetched


def test_instance_role_accepts_a_newer_kernel(tmp_path, products):
    node = boot_node(tmp_path, products, "manager", "aws", "instanceRole", kernel="4.4.35")
    ok(node.boot())
    axis2 = (node.product / "repository/conf/axis2/axis2.xml").read_text()
    assert '<parameter name="iamRole">dev-worker-role</parameter>' in axis2 and "accessKey" not in axis2


# ---------------------------------------------------------------- failures make the unit retry


def test_the_waits_and_their_tries():
    """How long the boot waits before it fails (and the unit retries): what the tests below
    shorten."""
    boot = render_user_data(make_settings()).files["/opt/wso2-cluster/bin/boot"].decode()
    for line in (
        "DB_WAIT_MINUTES=80",
        "PORT_WAIT_MINUTES=20",
        "retry 30 20 fetch_secrets",
        "retry $((DB_WAIT_MINUTES * 3)) 20 reachable",  # 80 minutes: RDS may take 75 to create
        "retry $((DB_WAIT_MINUTES * 3)) 20 schema_ready as_app",
        "retry $((DB_WAIT_MINUTES * 3)) 20 admin_exists",
        "retry $((PORT_WAIT_MINUTES * 6)) 10 answers",
    ):
        assert boot.count(line) == 1, line


@pytest.mark.parametrize(
    "failure,shorter,message",
    [
        (
            "secrets_denied",
            ("retry 30 20 fetch_secrets", "retry 3 20 fetch_secrets"),
            "giving up after 3 tries: fetch_secrets",
        ),
        ("db_down", ("DB_WAIT_MINUTES=80", "DB_WAIT_MINUTES=1"), "giving up after 3 tries: reachable"),
        ("no_dns", ("DB_WAIT_MINUTES=80", "DB_WAIT_MINUTES=1"), "giving up after 3 tries: reachable"),
        ("https_down", ("PORT_WAIT_MINUTES=20", "PORT_WAIT_MINUTES=1"), "giving up after 6 tries: answers"),
    ],
)
def test_a_failing_step_fails_the_boot(tmp_path, products, failure, shorter, message):
    node = boot_node(tmp_path, products, "manager")
    node.patch(*shorter)
    r = node.boot(**{failure: ""})
    assert r.returncode == 1
    lines = node.log_lines(r)
    assert lines[-2] == message and lines[-1].startswith("FAILED (exit 1) at line ")
    assert not (node.state_dir / "secrets.json").exists()  # shredded on the way out
    assert_no_secret_anywhere(node, r)
    if failure == "db_down":
        ok(node.boot())  # the unit's retry, once the database is there


def test_an_unknown_mode_is_refused(tmp_path, products):
    node = boot_node(tmp_path, products, "manager")
    r = node.boot("status")
    assert (r.returncode, r.stdout, r.stderr) == (2, "", "usage: boot [schema-status]\n")
    assert node.calls() == []


# ---------------------------------------------------------------- schema-status


def test_schema_status_prints_the_report_verify_reads(tmp_path, products):
    from verify.schema import parse_schema_status

    node = boot_node(tmp_path, products, "manager")
    ok(node.boot())
    boot_in_progress = node.state_dir / "secrets.json"
    boot_in_progress.write_text("{}")  # a boot (a retry) running meanwhile holds its secrets
    r = node.boot("schema-status")
    assert (r.returncode, r.stderr) == (0, "")
    assert boot_in_progress.read_text() == "{}"  # not shredded under that boot's feet
    boot_in_progress.unlink()
    tables = sorted(SCHEMA_TABLES)
    report = {
        "databases": [
            {"name": USER_DB, "tables": tables, "ready": True},
            {"name": REGISTRY_DB, "tables": tables, "ready": True},
        ]
    }
    assert json.loads(r.stdout) == report
    assert parse_schema_status(r.stdout) == {db["name"]: db for db in report["databases"]}
    # read as the application user; its own secrets file, shredded; nothing else touched
    calls = node.calls(since_boot=True)
    assert [(c["user"], c["db"]) for c in node.mysql()["calls"][-4:]] == [(APP_USER, None)] * 4
    (shred,) = [c[1:] for c in calls if c[0] == "shred"]
    assert shred[0] == "-u" and re.fullmatch(re.escape(str(node.state_dir)) + r"/status-\d+\.json", shred[1])
    assert not list(node.state_dir.glob("*.json"))
    assert not [c for c in calls if c[0] in ("systemctl", "dnf", "curl", "mount")]
    assert not (node.log_dir / "boot.log").read_text().count("schema-status")
    assert_no_secret_anywhere(node, r)
    # a half-made schema, and one not marked, as the verify command reports them
    node.mysql(
        databases={**node.mysql()["databases"], REGISTRY_DB: {"tables": ["REG_LOG"], "indexes": []}}, markers=[USER_DB]
    )
    report = json.loads(ok(node.boot("schema-status")).stdout)
    assert report["databases"][1] == {"name": REGISTRY_DB, "tables": ["REG_LOG"], "ready": False}


def test_schema_status_before_the_manager_made_anything(tmp_path, products):
    node = boot_node(tmp_path, products, "manager")
    ok(node.boot())
    node.mysql(databases={}, markers=[])  # (the application user can still log in)
    r = ok(node.boot("schema-status"))
    assert json.loads(r.stdout) == {
        "databases": [
            {"name": USER_DB, "tables": [], "ready": False},
            {"name": REGISTRY_DB, "tables": [], "ready": False},
        ]
    }


def test_schema_status_fails_rather_than_print_a_broken_report(tmp_path, products):
    node = boot_node(tmp_path, products, "manager")
    ok(node.boot())
    node.mysql(users={MASTER_USER: {"password": SECRETS["dbMasterPassword"], "master": True}})  # app user gone
    r = node.boot("schema-status")
    assert r.returncode == 1 and r.stdout == ""
    assert "Access denied for user 'wso2app'" in r.stderr
