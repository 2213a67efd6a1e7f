"""The boot script, run end to end in a sandbox: the node's paths are moved under tmp and every
command that needs the network, root or a real OS (dnf, aws, curl, mysql, systemctl, ...) is a
stub on PATH that records how it was called."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from userdata import render_user_data
from userdata import render as render_mod

from .conftest import ARNS, FIXTURES, SECRETS, make_settings

STUBS = {
    "dnf": "",
    "useradd": "",
    "chown": "",
    "journalctl": "",
    "getent": 'echo "10.0.9.9 $2"',
    "timeout": "exit 0",
    "sleep": "",
    "systemctl": "",
    "mysql": 'echo "mysql PWD=${MYSQL_PWD:-} $*" >>"$SANDBOX/mysql.log"',
    "curl": 'while [ $# -gt 1 ]; do [ "$1" = -o ] && out=$2; shift; done; echo jar >"$out"',
    "unzip": 'python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])"'
             ' "$2" "$4"',
    "aws": r'''
if [ "$1" = s3 ]; then
  [ -z "${FAIL_S3:-}" ] || exit 1
  eval "dst=\${$#}"; cp "$SANDBOX/product.zip" "$dst"; exit 0
fi
while [ $# -gt 0 ]; do [ "$1" = --secret-id ] && id=$2; shift; done
[ -z "${FAIL_SECRETS:-}" ] || { echo "AccessDenied" >&2; exit 254; }
python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" \
  "$SANDBOX/secrets-by-arn.json" "$id"
''',
}


def _product_zip(path: Path) -> str:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("wso2as-5.3.0/bin/wso2server.sh", "#!/bin/sh\n")
        z.writestr("wso2as-5.3.0/repository/components/lib/README", "drivers go here\n")
        for f in (FIXTURES / "repository").rglob("*.xml"):
            z.write(f, "wso2as-5.3.0/" + f.relative_to(FIXTURES).as_posix())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sandbox(tmp_path: Path, role: str, **settings_kw):
    sb = tmp_path
    sha = _product_zip(sb / "product.zip")
    s = make_settings(role, "aws", "accessKey", **settings_kw)
    s = s.__class__(**{**s.__dict__, "product": s.product.__class__(s.product.url, sha)})
    files = render_user_data(s).files
    ctx = {"base": str(sb / "opt/wso2-cluster"), "product_home": str(sb / "opt/wso2as"),
           "state_dir": str(sb / "var/lib/wso2-cluster"), "unit_dir": str(sb / "etc/systemd")}
    boot = render_mod._minify(render_mod._ENV.get_template("boot.sh.j2").render(**ctx))
    # the same template, with the real paths, is what the node gets
    assert render_mod._minify(render_mod._ENV.get_template("boot.sh.j2").render(
        **render_mod.template_context())).encode() == files["/opt/wso2-cluster/bin/boot"]
    base = sb / "opt/wso2-cluster"
    (base / "bin").mkdir(parents=True)
    (sb / "etc/systemd").mkdir(parents=True)
    for name, data in files.items():
        (base / name[len("/opt/wso2-cluster/"):]).write_bytes(data)
    (base / "bin/boot").write_text(boot)
    for f in ("bin/boot", "bin/apply-config"):
        os.chmod(base / f, 0o755)
    stubs = sb / "stubs"
    (stubs / "jdk/bin").mkdir(parents=True)
    for name, body in {**STUBS, "jdk/bin/javac": ""}.items():
        p = stubs / name
        p.write_text(f'#!/bin/bash\necho "{name} $*" >>"$SANDBOX/calls.log"\n{body}\n')
        os.chmod(p, 0o755)
    (sb / "secrets-by-arn.json").write_text(json.dumps({ARNS[k]: v for k, v in SECRETS.items()}))
    env = {"PATH": f"{stubs}:{stubs}/jdk/bin:/usr/bin:/bin", "SANDBOX": str(sb),
           "HOME": str(sb), "LANG": "C.UTF-8"}
    return sb, base, env


def _run(base, env, **extra):
    return subprocess.run(["bash", str(base / "bin/boot")], env={**env, **extra},
                          capture_output=True, text=True, timeout=120)


def test_manager_boot_end_to_end(tmp_path):
    sb, base, env = _sandbox(tmp_path, "manager")
    r = _run(base, env)
    assert r.returncode == 0, r.stdout + r.stderr
    home = sb / "opt/wso2as"
    # product unpacked, driver in place, configuration applied with the fetched secrets
    assert (home / "bin/wso2server.sh").is_file()
    assert (home / "repository/components/lib/mysql-connector-j-8.4.0.jar").read_text() == "jar\n"
    c = ET.parse(home / "repository/conf/axis2/axis2.xml").getroot().find("clustering")
    assert c.get("enable") == "true"
    params = {p.get("name"): p.text for p in c.findall("parameter")}
    assert params["secretKey"] == SECRETS["discoverySecretKey"]
    assert stat.S_IMODE((home / "repository/conf/axis2/axis2.xml").stat().st_mode) == 0o600
    # the secrets file is gone, and no secret reached the log
    state = sb / "var/lib/wso2-cluster"
    assert not (state / "secrets.json").exists()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for v in SECRETS.values():
        assert v not in r.stdout + r.stderr
    # databases created once, the password only in MYSQL_PWD
    mysql = (sb / "mysql.log").read_text().splitlines()
    pwd = SECRETS["dbPassword"]
    assert mysql == [
        f"mysql PWD={pwd} --ssl --connect-timeout=10 -h db.wso2.internal -P 3306 -u wso2admin "
        f"-e CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET latin1"
        for db in ("WSO2_USER_DB", "WSO2_REGISTRY_DB")]
    calls = (sb / "calls.log").read_text()
    assert pwd not in calls.replace(f"PWD={pwd}", "")
    assert "dnf install -y -q java-1.8.0-amazon-corretto-devel mariadb105 unzip" in calls
    assert "systemctl enable wso2as" in calls and "systemctl restart wso2as" in calls
    # first start ran with -Dsetup; later starts run without it
    assert "starting wso2as.service -Dsetup" in r.stdout
    env_file = (base / "wso2as.env").read_text()
    assert env_file == f"JAVA_HOME={sb}/stubs/jdk\nWSO2_OPTS=\n"
    assert (state / "setup-done").exists() and (state / "databases-created").exists()
    assert (sb / "etc/systemd/wso2as.service").read_bytes() == (base / "wso2as.service"
                                                                 ).read_bytes()
    # every log line is timestamped
    assert all(line[:4].isdigit() and " wso2-boot: " in line
               for line in r.stdout.splitlines() if "wso2-boot" in line)

    # a second run (by hand) is safe: no re-download, no second CREATE DATABASE, no -Dsetup
    r2 = _run(base, env)
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert (sb / "mysql.log").read_text().splitlines() == mysql
    assert "starting wso2as.service (no options)" in r2.stdout
    assert "fetching s3://" not in r2.stdout


def test_worker_starts_as_worker_and_creates_no_database(tmp_path):
    sb, base, env = _sandbox(tmp_path, "worker")
    r = _run(base, env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (base / "wso2as.env").read_text().endswith("\nWSO2_OPTS=-DworkerNode=true\n")
    assert "CREATE DATABASE" not in (sb / "mysql.log").read_text()


@pytest.mark.parametrize("failure,message", [
    ({"FAIL_SECRETS": "1"}, "giving up after 5 tries: python3"),
    ({"FAIL_S3": "1"}, "giving up after 5 tries: aws"),
])
def test_a_failing_step_fails_the_boot(tmp_path, failure, message):
    sb, base, env = _sandbox(tmp_path, "manager")
    r = _run(base, env, **failure)
    assert r.returncode != 0
    assert message in r.stdout
    assert " wso2-boot: FAILED (exit " in r.stdout
    assert "systemctl" not in (sb / "calls.log").read_text()
    assert not (sb / "var/lib/wso2-cluster/secrets.json").exists()
