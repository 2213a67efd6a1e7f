"""The node-side applier, exactly as a node gets it: rendered, base64+gzip, unpacked like
cloud-init, then run (with its default --settings) against a copy of the fixtures."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from userdata.settings import Database, DeploymentSync

from .conftest import (
    FIXTURES,
    MANAGER_IP,
    SECRETS,
    STOCK,
    WELL_KNOWN,
    WORKER_IPS,
    make_settings,
    run_apply,
    write_secrets,
)

CARBON_NS = "http://wso2.org/projects/carbon/carbon.xml"
C = "{%s}" % CARBON_NS
HZ = "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent"
FILES = {
    "axis2": "repository/conf/axis2/axis2.xml",
    "carbon": "repository/conf/carbon.xml",
    "catalina": "repository/conf/tomcat/catalina-server.xml",
    "datasources": "repository/conf/datasources/master-datasources.xml",
    "usermgt": "repository/conf/user-mgt.xml",
    "registry": "repository/conf/registry.xml",
}
AWS_PARAM_NAMES = {"accessKey", "secretKey", "iamRole", "securityGroup", "region", "tagKey",
                   "tagValue", "connTimeout", "hostHeader"}


def xml(home: Path, key: str) -> ET.Element:
    return ET.parse(home / FILES[key]).getroot()


def snapshot(home: Path) -> dict:
    return {p.relative_to(home).as_posix(): p.read_bytes() for p in sorted(home.rglob("*"))
            if p.is_file()}


def applied(node, settings, product=FIXTURES, secrets_names=None):
    root, home, secrets = node(settings, product)
    if secrets_names is not None:
        write_secrets(secrets, secrets_names)
    r = run_apply(root, home, secrets)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return root, home, secrets


def clustering_params(home):
    c = xml(home, "axis2").find("clustering")
    return c, {p.get("name"): (p.text or "").strip() for p in c.findall("parameter")
               if p.get("name") != "properties"}


def props(home):
    c = xml(home, "axis2").find("clustering")
    (p,) = [p for p in c.findall("parameter") if p.get("name") == "properties"]
    return {x.get("name"): x.get("value") for x in p.findall("property")}


def members(home):
    m = xml(home, "axis2").find("clustering").findall("members")
    if not m:
        return None
    (m,) = m
    return [(x.findtext("hostName"), x.findtext("port")) for x in m.findall("member")]


def comments(data: bytes):
    return sorted(re.findall(rb"<!--.*?-->", data, re.S))


# ---------------------------------------------------------------- axis2.xml


def test_axis2_aws_access_key_manager(node):
    _, home, _ = applied(node, make_settings("manager", "aws", "accessKey"))
    c, params = clustering_params(home)
    assert c.get("enable") == "true" and c.get("class") == HZ
    assert params == {
        "membershipScheme": "aws",
        "domain": "wso2.as.domain",
        "localMemberHost": MANAGER_IP,
        "localMemberPort": "5701",
        "accessKey": SECRETS["discoveryAccessKey"],
        "secretKey": SECRETS["discoverySecretKey"],
        "securityGroup": "wso2-cluster-nodes",
        "region": "eu-west-1",
        "tagKey": "wso2:cluster",
        "tagValue": "dev",
        "connTimeout": "10",
        "hostHeader": "ec2.eu-west-1.amazonaws.com",
    }
    assert props(home) == {
        "backendServerURL": "https://mgt.as.example.com/services/",
        "mgtConsoleURL": "https://mgt.as.example.com/",
        "subDomain": "mgt",
        "keepMe": "untouched",
    }
    assert members(home) is None
    # the parameters outside <clustering> (with their ${...} placeholders) are untouched
    top = {p.get("name"): p.text for p in xml(home, "axis2").findall("parameter")}
    assert top == {"hotdeployment": "${hotdeployment}", "hotupdate": "${hotupdate}"}


def test_axis2_aws_instance_role_worker(node):
    # instanceRole mode needs no discovery keys: the secrets file holds only the db password
    _, home, _ = applied(node, make_settings("worker", "aws", "instanceRole"),
                         secrets_names=["dbPassword"])
    c, params = clustering_params(home)
    assert params == {
        "membershipScheme": "aws",
        "domain": "wso2.as.domain",
        "localMemberHost": WORKER_IPS[0],
        "localMemberPort": "5701",
        "iamRole": "wso2-node-role",
        "securityGroup": "wso2-cluster-nodes",
        "region": "eu-west-1",
        "tagKey": "wso2:cluster",
        "tagValue": "dev",
        "connTimeout": "10",
        "hostHeader": "ec2.eu-west-1.amazonaws.com",
    }
    assert props(home) == {
        "backendServerURL": "https://as.example.com/services/",
        "mgtConsoleURL": "https://mgt.as.example.com/",
        "subDomain": "worker",
        "keepMe": "untouched",
    }
    # no key in the file, so it keeps its mode
    assert stat.S_IMODE((home / FILES["axis2"]).stat().st_mode) == 0o644


def test_axis2_wka_worker_lists_the_other_well_known_members(node):
    s = make_settings("worker", "wka", private_ip=WORKER_IPS[1], name="worker-2")
    _, home, _ = applied(node, s, secrets_names=["dbPassword"])
    c, params = clustering_params(home)
    assert params == {
        "membershipScheme": "wka",
        "domain": "wso2.as.domain",
        "localMemberHost": WORKER_IPS[1],
        "localMemberPort": "5701",
    }
    assert members(home) == [(ip, "5701") for ip in WELL_KNOWN]
    assert props(home)["subDomain"] == "worker"


def test_axis2_wka_well_known_node_leaves_itself_out(node):
    _, home, _ = applied(node, make_settings("manager", "wka"))
    assert members(home) == [(WORKER_IPS[0], "5701")]
    assert props(home)["subDomain"] == "mgt"


def test_switching_membership_modes_converges(node, tmp_path):
    aws = make_settings("manager", "aws")
    wka = make_settings("manager", "wka")
    root, home, secrets = node(aws)
    assert run_apply(root, home, secrets).returncode == 0
    fresh_aws = snapshot(home)
    for s in (wka, aws, wka):
        root, home, secrets = node(s)
        r = run_apply(root, home, secrets)
        assert r.returncode == 0, r.stderr
    _, params = clustering_params(home)
    assert not AWS_PARAM_NAMES & set(params)
    assert members(home) == [(WORKER_IPS[0], "5701")]
    root, home, secrets = node(aws)
    assert run_apply(root, home, secrets).returncode == 0
    assert members(home) is None
    assert snapshot(home) == fresh_aws


# ---------------------------------------------------------------- carbon.xml


def test_carbon_manager(node):
    _, home, _ = applied(node, make_settings("manager"))
    data = (home / FILES["carbon"]).read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n')
    assert b'<Server xmlns="http://wso2.org/projects/carbon/carbon.xml">' in data
    assert b"ns0" not in data and b":Server" not in data
    r = xml(home, "carbon")
    assert r.tag == C + "Server"
    assert [e.text for e in r.findall(C + "HostName")] == ["mgt.as.example.com"]
    assert [e.text for e in r.findall(C + "MgtHostName")] == ["mgt.as.example.com"]
    assert r.findtext(f"{C}Ports/{C}Offset") == "0"
    ds = r.find(C + "DeploymentSynchronizer")
    assert ds.findtext(C + "Enabled") == "false"
    # inserted where the stock file has them commented out
    assert re.search(rb"<!--HostName>www.wso2.org</HostName-->\s*<HostName>mgt.as.example.com"
                     rb"</HostName>", data)
    assert re.search(rb"<!--MgtHostName>mgt.wso2.org</MgtHostName-->\s*<MgtHostName>", data)


def test_carbon_worker_with_depsync_and_offset(node):
    s = make_settings("worker", depsync=True, port_offset=2)
    _, home, _ = applied(node, s)
    r = xml(home, "carbon")
    assert [e.text for e in r.findall(C + "HostName")] == ["as.example.com"]
    assert r.findall(C + "MgtHostName") == []
    assert r.findtext(f"{C}Ports/{C}Offset") == "2"
    assert r.findtext(f"{C}Ports/{C}JMX/{C}RMIRegistryPort") == "9999"
    (ds,) = r.findall(C + "DeploymentSynchronizer")
    assert {e.tag[len(C):]: e.text for e in ds} == {
        "Enabled": "true",
        "AutoCommit": "false",
        "AutoCheckout": "true",
        "RepositoryType": "svn",
        "SvnUrl": "https://svn.example.com/repos/as",
        "SvnUser": "deployer",
        "SvnPassword": SECRETS["svnPassword"],
        "SvnUrlAppendTenantId": "true",
    }
    assert stat.S_IMODE((home / FILES["carbon"]).stat().st_mode) == 0o600


def test_carbon_manager_depsync_autocommits(node):
    _, home, _ = applied(node, make_settings("manager", depsync=True))
    ds = xml(home, "carbon").find(C + "DeploymentSynchronizer")
    assert ds.findtext(C + "AutoCommit") == "true"
    assert ds.findtext(C + "Enabled") == "true"


def test_carbon_inserts_elements_missing_entirely(node):
    root, home, secrets = node(make_settings("manager", depsync=True))
    p = home / FILES["carbon"]
    p.write_text(
        '<Server xmlns="http://wso2.org/projects/carbon/carbon.xml">\n'
        "    <Version>5.3.0</Version>\n    <Ports/>\n</Server>\n", encoding="utf-8")
    r = run_apply(root, home, secrets)
    assert r.returncode == 0, r.stderr
    x = xml(home, "carbon")
    assert [e.tag[len(C):] for e in x] == ["Version", "HostName", "MgtHostName", "Ports",
                                           "DeploymentSynchronizer"]
    assert x.findtext(f"{C}Ports/{C}Offset") == "0"
    assert x.findtext(f"{C}DeploymentSynchronizer/{C}SvnUser") == "deployer"
    assert b"ns0" not in p.read_bytes()


# ---------------------------------------------------------------- the other four files


def test_catalina_proxy_ports(node):
    _, home, _ = applied(node, make_settings("worker"))
    before = {c.get("port"): dict(c.attrib)
              for c in ET.parse(FIXTURES / FILES["catalina"]).getroot().iter("Connector")}
    after = {c.get("port"): dict(c.attrib) for c in xml(home, "catalina").iter("Connector")}
    assert after == {"9763": {**before["9763"], "proxyPort": "80"},
                     "9443": {**before["9443"], "proxyPort": "443"}}


def _datasource(root, name):
    (ds,) = [d for d in root.find("datasources").findall("datasource")
             if d.findtext("name") == name]
    return ds


def _flat(e):
    return [(x.tag, dict(x.attrib), (x.text or "").strip()) for x in e.iter()
            if isinstance(x.tag, str)]


def test_master_datasources(node):
    _, home, _ = applied(node, make_settings("worker"))
    r = xml(home, "datasources")
    names = [d.findtext("name") for d in r.find("datasources").findall("datasource")]
    assert names == ["WSO2_CARBON_DB", "WSO2_USER_DB", "WSO2_REGISTRY_DB"]
    carbon_before = _datasource(ET.parse(FIXTURES / FILES["datasources"]).getroot(),
                                "WSO2_CARBON_DB")
    assert _flat(_datasource(r, "WSO2_CARBON_DB")) == _flat(carbon_before)
    for name, jndi, db in (("WSO2_USER_DB", "jdbc/WSO2UserDB", "WSO2_USER_DB"),
                           ("WSO2_REGISTRY_DB", "jdbc/WSO2RegistryDB", "WSO2_REGISTRY_DB")):
        ds = _datasource(r, name)
        assert ds.findtext("jndiConfig/name") == jndi
        assert ds.find("definition").get("type") == "RDBMS"
        assert {e.tag: e.text for e in ds.find("definition/configuration")} == {
            "url": f"jdbc:mysql://db.wso2.internal:3306/{db}?autoReconnect=true&sslMode=REQUIRED",
            "username": "wso2admin",
            "password": SECRETS["dbPassword"],
            "driverClassName": "com.mysql.cj.jdbc.Driver",
            "maxActive": "50",
            "maxWait": "60000",
            "testOnBorrow": "true",
            "validationQuery": "SELECT 1",
            "validationInterval": "30000",
        }
    data = (home / FILES["datasources"]).read_bytes()
    # the securevault prefix is used only inside a comment: its declaration must survive
    assert data.startswith(
        b'<datasources-configuration xmlns:svns="http://org.wso2.securevault/configuration">')
    assert stat.S_IMODE((home / FILES["datasources"]).stat().st_mode) == 0o600


def test_master_datasources_updates_an_existing_definition(node):
    root, home, secrets = node(make_settings("worker"))
    assert run_apply(root, home, secrets).returncode == 0
    s2 = make_settings("worker", database=Database(
        host="db2.wso2.internal", port=3307, username="other", user_store_db="U2",
        registry_db="R2", driver_class="com.mysql.jdbc.Driver", url_options=""))
    root, home, secrets = node(s2)
    assert run_apply(root, home, secrets).returncode == 0
    r = xml(home, "datasources")
    assert len(r.find("datasources").findall("datasource")) == 3
    cf = _datasource(r, "WSO2_USER_DB").find("definition/configuration")
    assert cf.findtext("url") == "jdbc:mysql://db2.wso2.internal:3307/U2"
    assert cf.findtext("username") == "other"
    assert cf.findtext("driverClassName") == "com.mysql.jdbc.Driver"


def test_user_mgt(node):
    _, home, _ = applied(node, make_settings("manager"))
    r = xml(home, "usermgt")
    cfg = r.find("Realm/Configuration")
    assert [(p.get("name"), p.text) for p in cfg.findall("Property")] == [
        ("dataSource", "jdbc/WSO2UserDB")]
    assert cfg.findtext("EveryOneRoleName") == "everyone"
    usm = r.find("Realm/UserStoreManager")
    assert usm.get("class") == "org.wso2.carbon.user.core.jdbc.JDBCUserStoreManager"
    assert [(p.get("name"), p.text) for p in usm] == [("ReadOnly", "false")]


@pytest.mark.parametrize("role,read_only", [("manager", "false"), ("worker", "true")])
def test_registry(node, role, read_only):
    _, home, _ = applied(node, make_settings(role))
    r = xml(home, "registry")
    assert {d.get("name"): d.findtext("dataSource") for d in r.findall("dbConfig")} == {
        "wso2registry": "jdbc/WSO2CarbonDB", "sharedregistry": "jdbc/WSO2RegistryDB"}
    assert r.findtext("currentDBConfig") == "wso2registry"
    (ri,) = r.findall("remoteInstance")
    assert ri.attrib == {"url": "https://localhost:9443/registry"}
    assert [(e.tag, e.text) for e in ri] == [
        ("id", "instanceid"), ("dbConfig", "sharedregistry"), ("readOnly", read_only),
        ("enableCache", "true"), ("registryRoot", "/")]
    mounts = r.findall("mount")
    assert [(m.attrib, [(e.tag, e.text) for e in m]) for m in mounts] == [
        ({"path": "/_system/config", "overwrite": "true"},
         [("instanceId", "instanceid"), ("targetPath", "/_system/config")]),
        ({"path": "/_system/governance", "overwrite": "true"},
         [("instanceId", "instanceid"), ("targetPath", "/_system/governance")]),
    ]


# ---------------------------------------------------------------- file handling


def test_idempotent_orig_comments_crlf_and_modes(node):
    root, home, secrets = node(make_settings("manager", "aws", "accessKey"))
    originals = snapshot(home)
    mode_before = {k: stat.S_IMODE((home / p).stat().st_mode) for k, p in FILES.items()}
    r1 = run_apply(root, home, secrets)
    assert r1.returncode == 0, r1.stderr
    assert r1.stdout.count(": updated") == 6
    first = snapshot(home)
    r2 = run_apply(root, home, secrets)
    assert r2.returncode == 0, r2.stderr
    assert r2.stdout.count(": unchanged") == 6 and ": updated" not in r2.stdout
    assert snapshot(home) == first  # second run changes no byte (and no .orig is replaced)
    for key, rel in FILES.items():
        assert first[rel + ".orig"] == originals[rel]  # .orig is the untouched original
        assert first[rel] != originals[rel]
        # every comment (prolog ones included) survives verbatim
        assert comments(first[rel]) == comments(originals[rel]), key
    ax = first[FILES["axis2"]]
    assert ax.count(b"\r\n") == ax.count(b"\n") > 20  # CRLF kept, no bare LF introduced
    assert originals[FILES["axis2"]].count(b"\r\n") > 20  # (the fixture really is CRLF)
    for key in ("carbon", "registry", "datasources"):
        assert b"\r" not in first[FILES[key]]
    assert first[FILES["registry"]].startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert first[FILES["catalina"]].startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    modes = {k: stat.S_IMODE((home / p).stat().st_mode) for k, p in FILES.items()}
    assert modes == {**mode_before, "axis2": 0o600, "datasources": 0o600}
    assert mode_before["axis2"] != 0o600
    # the secret files are never left behind as temp files
    assert not list(home.rglob(".apply-config.*"))


def test_default_settings_is_node_json_beside_bin(node, tmp_path):
    """Moving the unpacked tree elsewhere still works: --settings is found relative to the
    script, and an explicit --settings overrides it."""
    root, home, secrets = node(make_settings("worker"))
    moved = tmp_path / "elsewhere"
    shutil.move(str(root / "opt"), str(moved))
    cmd_root = moved
    r = subprocess.run([str(cmd_root / "wso2-cluster/bin/apply-config"), "--product-home",
                        str(home), "--secrets", str(secrets)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert clustering_params(home)[1]["localMemberHost"] == WORKER_IPS[0]
    other = json.loads((cmd_root / "wso2-cluster/node.json").read_text())
    other["privateIp"] = "10.9.9.9"
    alt = tmp_path / "alt.json"
    alt.write_text(json.dumps(other))
    r = subprocess.run([str(cmd_root / "wso2-cluster/bin/apply-config"), "--product-home",
                        str(home), "--secrets", str(secrets), "--settings", str(alt)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert clustering_params(home)[1]["localMemberHost"] == "10.9.9.9"


def test_wka_member_list_never_holds_the_node_itself(node, tmp_path):
    # even if a hand-edited node.json lists the node among its members
    root, home, secrets = node(make_settings("manager", "wka"))
    doc = json.loads((root / "opt/wso2-cluster/node.json").read_text())
    doc["cluster"]["wkaMembers"] = [MANAGER_IP, WORKER_IPS[0], WORKER_IPS[1]]
    alt = tmp_path / "alt.json"
    alt.write_text(json.dumps(doc))
    r = run_apply(root, home, secrets, "--settings", str(alt))
    assert r.returncode == 0, r.stderr
    assert members(home) == [(WORKER_IPS[0], "5701"), (WORKER_IPS[1], "5701")]


def test_missing_clustering_is_one_line_error_and_nothing_is_written(node):
    root, home, secrets = node(make_settings("manager"))
    shutil.copy(FIXTURES / "broken" / "axis2-no-clustering.xml", home / FILES["axis2"])
    before = snapshot(home)
    r = run_apply(root, home, secrets)
    assert r.returncode != 0
    assert r.stderr == ("apply-config: repository/conf/axis2/axis2.xml: /axisconfig/clustering: "
                        "element not found\n")
    assert snapshot(home) == before  # no file edited, no .orig made


def test_unparseable_and_missing_files(node):
    root, home, secrets = node(make_settings("manager"))
    (home / FILES["registry"]).write_text("<wso2registry><dbConfig></wso2registry>\n")
    r = run_apply(root, home, secrets)
    assert r.returncode != 0
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith(
        "apply-config: repository/conf/registry.xml: /: unparseable XML: mismatched tag")
    (home / FILES["registry"]).unlink()
    r = run_apply(root, home, secrets)
    assert r.returncode != 0
    assert r.stderr == ("apply-config: repository/conf/registry.xml: /: "
                        "No such file or directory\n")


def test_missing_connector_is_reported(node):
    root, home, secrets = node(make_settings("manager"))
    p = home / FILES["catalina"]
    p.write_text(p.read_text().replace('port="9443"', 'port="8443"'))
    r = run_apply(root, home, secrets)
    assert r.returncode != 0
    assert r.stderr == ("apply-config: repository/conf/tomcat/catalina-server.xml: "
                        "//Connector[@port='9443']: element not found\n")


@pytest.mark.parametrize("settings_kw,missing", [
    ({}, "dbPassword"),
    ({"scheme": "aws", "credentials": "accessKey"}, "discoveryAccessKey"),
    ({"depsync": True, "scheme": "wka"}, "svnPassword"),
])
def test_missing_needed_secret_is_named(node, settings_kw, missing):
    root, home, secrets = node(make_settings("manager", **settings_kw))
    names = [k for k in SECRETS if k != missing]
    write_secrets(secrets, names)
    before = snapshot(home)
    r = run_apply(root, home, secrets)
    assert r.returncode != 0
    assert r.stderr == f"apply-config: {secrets}: {missing}: required secret missing\n"
    assert snapshot(home) == before


def test_escaping_of_hostile_values(node):
    evil = "a&b<c>\"d'e"
    s = make_settings("manager", "aws", cluster_domain="dom" + evil,
                      service_host="svc" + evil, management_host="mgt" + evil,
                      deployment_sync=DeploymentSync(enabled=True, svn_url="https://svn/?a=1&b=<2>",
                                                     svn_user="u" + evil))
    _, home, _ = applied(node, s)
    _, params = clustering_params(home)
    assert params["domain"] == "dom" + evil
    assert props(home)["backendServerURL"] == f"https://mgt{evil}/services/"
    c = xml(home, "carbon")
    assert c.findtext(C + "HostName") == "mgt" + evil
    assert c.findtext(C + "MgtHostName") == "mgt" + evil
    assert c.findtext(f"{C}DeploymentSynchronizer/{C}SvnUser") == "u" + evil
    assert c.findtext(f"{C}DeploymentSynchronizer/{C}SvnUrl") == "https://svn/?a=1&b=<2>"
    # the secret with & < > ' " lands intact too
    cf = _datasource(xml(home, "datasources"), "WSO2_USER_DB").find("definition/configuration")
    assert cf.findtext("password") == SECRETS["dbPassword"]
    assert params["secretKey"] == SECRETS["discoverySecretKey"]


# ---------------------------------------------------------------- the real stock files


@pytest.mark.skipif(not STOCK.is_dir(), reason=f"stock WSO2 files not present at {STOCK}")
def test_against_stock_wso2as_5_3_0(node):
    root, home, secrets = node(make_settings("manager", "aws", depsync=True), product=STOCK)
    originals = snapshot(home)
    r = run_apply(root, home, secrets)
    assert r.returncode == 0, r.stderr
    first = snapshot(home)
    assert run_apply(root, home, secrets).returncode == 0
    assert snapshot(home) == first
    for rel in FILES.values():
        assert comments(first[rel]) == comments(originals[rel]), rel
        assert b"ns0:" not in first[rel]
    ax = first[FILES["axis2"]]
    assert ax.count(b"\r\n") == ax.count(b"\n")
    c, params = clustering_params(home)
    assert c.get("enable") == "true" and c.get("class") == HZ
    assert params["membershipScheme"] == "aws" and params["localMemberHost"] == MANAGER_IP
    assert params["accessKey"] == SECRETS["discoveryAccessKey"]
    assert params["localMemberPort"] == "5701" and params["domain"] == "wso2.as.domain"
    assert props(home)["subDomain"] == "mgt" and members(home) is None
    cx = xml(home, "carbon")
    assert cx.findtext(C + "HostName") == "mgt.as.example.com"
    assert cx.findtext(C + "MgtHostName") == "mgt.as.example.com"
    assert cx.findtext(f"{C}DeploymentSynchronizer/{C}AutoCommit") == "true"
    assert cx.findtext(f"{C}DeploymentSynchronizer/{C}SvnPassword") == SECRETS["svnPassword"]
    assert first[FILES["carbon"]].startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert {c.get("port"): c.get("proxyPort") for c in xml(home, "catalina").iter("Connector")
            } == {"9763": "80", "9443": "443"}
    dss = xml(home, "datasources")
    assert _datasource(dss, "WSO2_USER_DB").findtext("jndiConfig/name") == "jdbc/WSO2UserDB"
    assert _datasource(dss, "WSO2_CARBON_DB").findtext("definition/configuration/url"
                                                       ).startswith("jdbc:h2:")
    assert xml(home, "usermgt").findtext("Realm/Configuration/Property[@name='dataSource']"
                                         ) == "jdbc/WSO2UserDB"
    rg = xml(home, "registry")
    assert rg.findtext("remoteInstance/readOnly") == "false"
    assert [m.get("path") for m in rg.findall("mount")] == ["/_system/config",
                                                            "/_system/governance"]


def _python39():
    """A runnable Python 3.9 (the nodes' version), if this machine has one."""
    cands = [shutil.which("python3.9")] + sorted(
        str(p) for p in Path.home().glob(".pyenv/versions/3.9*/bin/python3.9"))
    for c in filter(None, cands):
        r = subprocess.run([c, "-c", "import sys; print(sys.version_info[:2])"],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() == "(3, 9)":
            return c
    return None


@pytest.mark.skipif(_python39() is None, reason="no Python 3.9 interpreter on this machine")
def test_python39_gives_the_same_bytes(node, tmp_path):
    root, home, secrets = node(make_settings("manager", "wka", depsync=True))
    other = tmp_path / "py39"
    shutil.copytree(home, other)
    assert run_apply(root, home, secrets).returncode == 0
    r = subprocess.run([_python39(), str(root / "opt/wso2-cluster/bin/apply-config"),
                        "--product-home", str(other), "--secrets", str(secrets)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert snapshot(other) == snapshot(home)
