"""The node-side applier, exactly as a node gets it: rendered, gzip+base64, unpacked like
cloud-init, then run (with its default --settings) against a copy of our fixtures or of the real
stock files of WSO2 AS 5.3.0.

The main test compares, for every combination of product, role, discovery and deployment
synchronizer, (1) every value apply-config manages with the value the settings call for, as one
whole result, and (2) everything else in each file with the original, after removing the managed
elements from both: so an edit in the wrong place, a lost element or a lost comment fails it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from userdata.settings import NodeSettings

from .conftest import (
    ADMIN_USER,
    APP_USER,
    DB_HOST,
    FIXTURES,
    MANAGER_IP,
    MASTER_USER,
    PRODUCTS,
    SECRETS,
    STOCK,
    SVN_URL,
    WORKER_IPS,
    make_settings,
    run_apply,
    snapshot,
    write_secrets,
)

C = "{http://wso2.org/projects/carbon/carbon.xml}"
HAZELCAST_AGENT = "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent"
FILES = {
    "axis2": "repository/conf/axis2/axis2.xml",
    "carbon": "repository/conf/carbon.xml",
    "catalina": "repository/conf/tomcat/catalina-server.xml",
    "datasources": "repository/conf/datasources/master-datasources.xml",
    "usermgt": "repository/conf/user-mgt.xml",
    "registry": "repository/conf/registry.xml",
}
CLUSTER_PARAMETERS = ("membershipScheme", "domain", "localMemberHost", "localMemberPort")
AWS_PARAMETERS = (
    "accessKey",
    "secretKey",
    "iamRole",
    "securityGroup",
    "region",
    "tagKey",
    "tagValue",
    "connTimeout",
    "hostHeader",
)
SYNC_ELEMENTS = (
    "Enabled",
    "AutoCommit",
    "AutoCheckout",
    "RepositoryType",
    "SvnUrl",
    "SvnUser",
    "SvnPassword",
    "SvnUrlAppendTenantId",
)
NEW_DATASOURCES = ("WSO2_USER_DB", "WSO2_REGISTRY_DB")
# (role, membership scheme, discovery credentials, deployment synchronizer)
VARIANTS = [
    ("manager", "aws", "accessKey", "none"),
    ("worker", "aws", "accessKey", "none"),
    ("manager", "aws", "instanceRole", "svn"),
    ("worker", "aws", "instanceRole", "svn"),
    ("manager", "wka", "accessKey", "efs"),
    ("worker", "wka", "accessKey", "svn"),
]


def parse(path: Path) -> ET.Element:
    """The file's root element, comments included."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    return ET.fromstring(path.read_bytes(), parser=parser)


def canonical(root: ET.Element) -> str:
    return ET.canonicalize(ET.tostring(root), with_comments=True, strip_text=True)


def text(element) -> str:
    return (element.text or "").strip() if element is not None else None


def children(element) -> list:
    return [(e.tag.replace(C, ""), text(e)) for e in element if isinstance(e.tag, str)]


def parameters(clustering) -> dict:
    return {p.get("name"): p for p in clustering.findall("parameter")}


# ---------------------------------------------------------------- what apply-config manages


def managed_values(home: Path) -> dict:
    """Every value apply-config sets, read back from the files."""
    axis2 = parse(home / FILES["axis2"]).find("clustering")
    params = parameters(axis2)
    properties = {p.get("name"): p.get("value") for p in params["properties"].findall("property")}
    members = axis2.findall("members")
    carbon = parse(home / FILES["carbon"])
    sync = carbon.findall(C + "DeploymentSynchronizer")
    datasources = {
        d.findtext("name"): d for d in parse(home / FILES["datasources"]).find("datasources").findall("datasource")
    }
    configuration = parse(home / FILES["usermgt"]).find("Realm/Configuration")
    registry = parse(home / FILES["registry"])
    return {
        "axis2": {
            "enable": axis2.get("enable"),
            "class": axis2.get("class"),
            "parameters": {
                name: text(params.get(name)) for name in CLUSTER_PARAMETERS + AWS_PARAMETERS if name in params
            },
            "properties": properties,
            "members": [
                [(text(m.find("hostName")), text(m.find("port"))) for m in ms.findall("member")] for ms in members
            ],
        },
        "carbon": {
            "HostName": [text(e) for e in carbon.findall(C + "HostName")],
            "MgtHostName": [text(e) for e in carbon.findall(C + "MgtHostName")],
            "Offset": carbon.findtext(f"{C}Ports/{C}Offset"),
            "DeploymentSynchronizer": [dict(children(s)) for s in sync],
        },
        "catalina": {c.get("port"): c.get("proxyPort") for c in parse(home / FILES["catalina"]).iter("Connector")},
        "datasources": {
            name: {
                "description": datasources[name].findtext("description"),
                "jndi": datasources[name].findtext("jndiConfig/name"),
                "type": datasources[name].find("definition").get("type"),
                "configuration": dict(children(datasources[name].find("definition/configuration"))),
            }
            for name in NEW_DATASOURCES
            if name in datasources
        },
        "usermgt": {
            "AdminUser": [(a.findtext("UserName"), a.findtext("Password")) for a in configuration.findall("AdminUser")],
            "dataSource": [text(p) for p in configuration.findall("Property") if p.get("name") == "dataSource"],
        },
        "registry": {
            "sharedregistry": [
                d.findtext("dataSource") for d in registry.findall("dbConfig") if d.get("name") == "sharedregistry"
            ],
            "remoteInstance": [(r.attrib, children(r)) for r in registry.findall("remoteInstance")],
            "mount": [(m.attrib, children(m)) for m in registry.findall("mount")],
        },
    }


def expected_values(s: NodeSettings, original: Path) -> dict:
    """What the settings call for (and, for what apply-config leaves alone, the original)."""
    manager = s.role == "manager"
    aws = s.aws_discovery if s.membership_scheme == "aws" else None
    access_key = aws is not None and aws.credentials == "accessKey"
    original_properties = {
        p.get("name"): p.get("value")
        for p in parameters(parse(original / FILES["axis2"]).find("clustering"))["properties"].findall("property")
    }
    original_sync = dict(children(parse(original / FILES["carbon"]).find(C + "DeploymentSynchronizer")))
    svn = s.deployment_sync.mode == "svn"
    db = s.database
    url = f"jdbc:mysql://{db.host}:{db.port}/%s?{db.url_options}"
    aws_parameters = {}
    if aws:
        aws_parameters = {
            "securityGroup": aws.security_group_name,
            "region": aws.region,
            "tagKey": aws.tag_key,
            "tagValue": aws.tag_value,
            "connTimeout": str(aws.conn_timeout_seconds),
            **(
                {"accessKey": SECRETS["discoveryAccessKey"], "secretKey": SECRETS["discoverySecretKey"]}
                if access_key
                else {"iamRole": aws.iam_role}
            ),
        }

    def datasource(description, jndi, name):
        return {
            "description": description,
            "jndi": jndi,
            "type": "RDBMS",
            "configuration": {
                "url": url % name,
                "username": APP_USER,
                "password": SECRETS["dbPassword"],
                "driverClassName": "com.mysql.cj.jdbc.Driver",
                "maxActive": "50",
                "maxWait": "60000",
                "testOnBorrow": "true",
                "validationQuery": "SELECT 1",
                "validationInterval": "30000",
            },
        }

    return {
        "axis2": {
            "enable": "true",
            "class": HAZELCAST_AGENT,
            "parameters": {
                "membershipScheme": s.membership_scheme,
                "domain": s.cluster_domain,
                "localMemberHost": s.private_ip,
                "localMemberPort": str(s.cluster_port),
                **aws_parameters,
            },
            # the placeholders stay: Carbon resolves them
            "properties": {**original_properties, "subDomain": "mgt" if manager else "worker"},
            "members": [[(ip, str(s.cluster_port)) for ip in s.wka_members]] if s.membership_scheme == "wka" else [],
        },
        "carbon": {
            "HostName": [s.service_host],  # the service host on every node, the manager too
            "MgtHostName": [s.management_host] if manager else [],
            "Offset": str(s.port_offset),
            "DeploymentSynchronizer": [
                {
                    "Enabled": "true",
                    "AutoCommit": "true" if manager else "false",
                    "AutoCheckout": "true",
                    "RepositoryType": "svn",
                    "SvnUrl": SVN_URL,
                    "SvnUser": "deployer",
                    "SvnPassword": SECRETS["svnPassword"],
                    "SvnUrlAppendTenantId": "true",
                }
            ]
            if svn
            else [{**original_sync, "Enabled": "false"}],
        },
        "catalina": {"9763": "80", "9443": "443"},
        "datasources": {
            "WSO2_USER_DB": datasource("The datasource used for the user manager", "jdbc/WSO2UMDB", db.user_store_db),
            "WSO2_REGISTRY_DB": datasource(
                "The datasource used for registry- config/governance", "jdbc/WSO2RegistryDB", db.registry_db
            ),
        },
        "usermgt": {"AdminUser": [(ADMIN_USER, SECRETS["adminPassword"])], "dataSource": ["jdbc/WSO2UMDB"]},
        "registry": {
            "sharedregistry": ["jdbc/WSO2RegistryDB"],
            "remoteInstance": [
                (
                    {"url": "https://localhost:9443/registry"},
                    [
                        ("id", "instanceid"),
                        ("dbConfig", "sharedregistry"),
                        ("readOnly", "false" if manager else "true"),
                        ("enableCache", "true"),
                        ("registryRoot", "/"),
                        # user@URL, the URL exactly as the registry datasource's
                        ("cacheId", f"{APP_USER}@" + url % db.registry_db),
                    ],
                )
            ],
            "mount": [
                ({"path": path, "overwrite": "true"}, [("instanceId", "instanceid"), ("targetPath", path)])
                for path in ("/_system/config", "/_system/governance")
            ],
        },
    }


# ---------------------------------------------------------------- what apply-config leaves alone


def unmanaged(key: str, root: ET.Element, settings: NodeSettings) -> ET.Element:
    """`root` without what apply-config manages in that file (applied to the original and to the
    result alike, what is left must be equal)."""
    if key == "axis2":
        clustering = root.find("clustering")
        for attribute in ("enable", "class"):
            clustering.attrib.pop(attribute, None)
        for name, parameter in parameters(clustering).items():
            if name in CLUSTER_PARAMETERS + AWS_PARAMETERS:
                clustering.remove(parameter)
        for members in clustering.findall("members"):
            clustering.remove(members)
        for prop in parameters(clustering)["properties"]:
            if prop.get("name") == "subDomain":
                prop.set("value", "*")
    elif key == "carbon":
        for tag in ("HostName", "MgtHostName"):
            for element in root.findall(C + tag):
                root.remove(element)
        root.find(f"{C}Ports/{C}Offset").text = "*"
        sync = root.find(C + "DeploymentSynchronizer")
        for element in list(sync):
            if element.tag.replace(C, "") in (
                SYNC_ELEMENTS if settings.deployment_sync.mode == "svn" else ("Enabled",)
            ):
                sync.remove(element)
    elif key == "catalina":
        for connector in root.iter("Connector"):
            connector.attrib.pop("proxyPort", None)
    elif key == "datasources":
        datasources = root.find("datasources")
        for datasource in datasources.findall("datasource"):
            if datasource.findtext("name") in NEW_DATASOURCES:
                datasources.remove(datasource)
    elif key == "usermgt":
        configuration = root.find("Realm/Configuration")
        for element in list(configuration):
            if element.tag == "AdminUser" or (element.tag == "Property" and element.get("name") == "dataSource"):
                configuration.remove(element)
    elif key == "registry":
        for element in list(root):
            if element.tag in ("remoteInstance", "mount") or (
                element.tag == "dbConfig" and element.get("name") == "sharedregistry"
            ):
                root.remove(element)
    return root


def comments(data: bytes) -> list:
    return sorted(re.findall(rb"<!--.*?-->", data.replace(b"\r\n", b"\n"), re.S))


def settings_for(role, scheme, credentials, sync) -> NodeSettings:
    return make_settings(
        role,
        scheme,
        credentials,
        sync,
        private_ip=MANAGER_IP if role == "manager" else WORKER_IPS[1],
        name="manager" if role == "manager" else "worker-2",
    )


# ---------------------------------------------------------------- the whole result


@pytest.mark.parametrize("product", ["fixtures", "stock"])
@pytest.mark.parametrize("role,scheme,credentials,sync", VARIANTS)
def test_configures_every_file_and_nothing_else(node, product, role, scheme, credentials, sync):
    original = PRODUCTS[product]
    s = settings_for(role, scheme, credentials, sync)
    root, home, secrets = node(s, original)
    before = snapshot(home)

    first = run_apply(root, home, secrets)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout.splitlines() == [f"apply-config: {path}: updated" for path in FILES.values()]
    assert managed_values(home) == expected_values(s, original)

    after = snapshot(home)
    for key, path in FILES.items():
        assert canonical(unmanaged(key, parse(home / path), s)) == canonical(
            unmanaged(key, parse(original / path), s)
        ), f"{path} changed beyond its edits"
        assert comments(after[path][0]) == comments(before[path][0]), f"{path} lost or changed a comment"
        assert after[path + ".orig"] == before[path]  # the original, byte for byte, with its mode
        assert MASTER_USER.encode() not in after[path][0]  # the datasources use the application user
    secret_files = {FILES["datasources"], FILES["usermgt"]}  # database and admin passwords
    secret_files |= {FILES["axis2"]} if scheme == "aws" and credentials == "accessKey" else set()
    secret_files |= {FILES["carbon"]} if sync == "svn" else set()
    assert {path: mode for path, (_, mode) in after.items()} == {
        **{path: 0o600 if path in secret_files else 0o644 for path in FILES.values()},
        **{path + ".orig": 0o644 for path in FILES.values()},
    }

    second = run_apply(root, home, secrets)
    assert (second.returncode, second.stderr) == (0, "")
    assert second.stdout.splitlines() == [f"apply-config: {path}: unchanged" for path in FILES.values()]
    assert snapshot(home) == after  # idempotent: no byte, no mode, no .orig changes


def test_stock_product_details(node):
    """Where the stock files put things: inserted next to their commented-out copies, line ends
    and declarations kept, no namespace prefixes invented."""
    root, home, secrets = node(settings_for("manager", "aws", "accessKey", "svn"), STOCK)
    assert run_apply(root, home, secrets).returncode == 0
    axis2 = (home / FILES["axis2"]).read_bytes()
    assert axis2.count(b"\r\n") == axis2.count(b"\n") > 600  # CRLF throughout, as the stock file
    carbon = (home / FILES["carbon"]).read_bytes()
    assert carbon.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert b'<Server xmlns="http://wso2.org/projects/carbon/carbon.xml">' in carbon
    assert b"ns0" not in carbon and b":Server" not in carbon
    assert re.search(rb"<!--HostName>www.wso2.org</HostName-->\s*<HostName>as.example.com</HostName>", carbon)
    assert re.search(
        rb"<!--MgtHostName>mgt.wso2.org</MgtHostName-->\s*<MgtHostName>mgt.as.example.com"
        rb"</MgtHostName>",
        carbon,
    )
    registry = (home / FILES["registry"]).read_bytes()
    assert re.search(rb"</remoteInstance-->\s*<remoteInstance url=", registry)
    assert re.search(rb"</mount-->\s*<mount path=\"/_system/config\"", registry)
    datasources = (home / FILES["datasources"]).read_bytes()
    assert datasources.count(b"<datasource>") == 3
    for path in FILES.values():
        assert b"ns0:" not in (home / path).read_bytes()


# ---------------------------------------------------------------- file handling


def test_keeps_line_ends_declarations_and_namespaces_of_our_fixtures(node):
    root, home, secrets = node(make_settings("manager", "wka"))
    assert (FIXTURES / FILES["axis2"]).read_bytes().count(b"\r\n") > 20  # the fixture really is CRLF
    assert run_apply(root, home, secrets).returncode == 0
    axis2 = (home / FILES["axis2"]).read_bytes()
    assert axis2.count(b"\r\n") == axis2.count(b"\n") > 20  # no bare LF introduced by the new <member>s
    for key in ("carbon", "registry", "datasources", "usermgt", "catalina"):
        assert b"\r" not in (home / FILES[key]).read_bytes()
    assert (home / FILES["registry"]).read_bytes().startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert (home / FILES["catalina"]).read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    # the securevault prefix is used only inside a comment: its declaration must survive
    assert (
        (home / FILES["datasources"])
        .read_bytes()
        .startswith(b'<datasources-configuration xmlns:svns="http://org.wso2.securevault/configuration">')
    )
    assert not list(home.rglob(".apply-config.*"))  # no temporary file left behind


def test_default_settings_is_node_json_beside_bin(node, tmp_path):
    """The unpacked tree works wherever it lies: --settings defaults to ../node.json relative to
    the script; an explicit --settings overrides it."""
    root, home, secrets = node(make_settings("worker"))
    moved = tmp_path / "elsewhere"
    shutil.move(str(root / "opt"), str(moved))
    script = moved / "wso2-cluster/bin/apply-config"
    r = subprocess.run(
        [str(script), "--product-home", str(home), "--secrets", str(secrets)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert text(parameters(parse(home / FILES["axis2"]).find("clustering"))["localMemberHost"]) == WORKER_IPS[0]
    other = json.loads((moved / "wso2-cluster/node.json").read_text())
    other["privateIp"] = "10.9.9.9"
    (tmp_path / "alt.json").write_text(json.dumps(other))
    r = subprocess.run(
        [str(script), "--product-home", str(home), "--secrets", str(secrets), "--settings", str(tmp_path / "alt.json")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert text(parameters(parse(home / FILES["axis2"]).find("clustering"))["localMemberHost"]) == "10.9.9.9"


def test_wka_member_list_never_holds_the_node_itself(node, tmp_path):
    root, home, secrets = node(make_settings("manager", "wka"))
    document = json.loads((root / "opt/wso2-cluster/node.json").read_text())
    document["cluster"]["wkaMembers"] = [MANAGER_IP, WORKER_IPS[0], WORKER_IPS[1]]  # a hand-edited list
    (tmp_path / "alt.json").write_text(json.dumps(document))
    assert run_apply(root, home, secrets, "--settings", str(tmp_path / "alt.json")).returncode == 0
    assert managed_values(home)["axis2"]["members"] == [[(WORKER_IPS[0], "5701"), (WORKER_IPS[1], "5701")]]


def conf_files(home: Path) -> dict:
    return {path: content for path, content in snapshot(home).items() if not path.endswith(".orig")}


@pytest.mark.parametrize("product", ["fixtures", "stock"])
def test_switching_discovery_and_synchronizer_converges(node, tmp_path, product):
    """Any sequence of settings ends where a fresh run of the last one ends: the same values,
    the same rest of each file; and going back and forth is a fixed point byte for byte."""
    original = PRODUCTS[product]
    access_key = make_settings("manager", "aws", "accessKey")
    instance_role = make_settings("manager", "aws", "instanceRole", "efs")
    svn = make_settings("manager", "aws", "instanceRole", "svn")
    wka = make_settings("manager", "wka", sync="efs")

    def apply(settings):
        r = run_apply(*node(settings, original))
        assert r.returncode == 0, r.stderr
        return conf_files(home)

    _, home, _ = node(access_key, original)
    first_access_key = apply(access_key)
    for settings in (wka, svn, access_key, instance_role, wka):
        apply(settings)
        got, expected = managed_values(home), expected_values(settings, original)
        if settings.deployment_sync.mode != "svn":
            # Leaving svn disables the synchronizer and leaves its former values (a node is
            # replaced on such a change anyway): only Enabled is compared.
            [got_sync], [expected_sync] = (v["carbon"].pop("DeploymentSynchronizer") for v in (got, expected))
            assert got_sync["Enabled"] == expected_sync["Enabled"] == "false"
        assert got == expected
        for key, path in FILES.items():
            if key != "carbon" or settings.deployment_sync.mode == "svn":
                # (leaving svn keeps the former synchronizer values, which a fresh run never had)
                assert canonical(unmanaged(key, parse(home / path), settings)) == canonical(
                    unmanaged(key, parse(original / path), settings)
                ), path
    _, home, _ = node(access_key, original)  # (a fresh product home: svn left its values behind)
    shutil.rmtree(home)
    _, home, _ = node(access_key, original)
    assert apply(access_key) == first_access_key
    back_to_wka = apply(wka)
    assert apply(access_key) == first_access_key  # aws -> wka -> aws: byte for byte a fresh aws
    assert apply(wka) == back_to_wka
    # (between the two aws credentials only the order of the <parameter>s may differ: a fixed point)
    apply(instance_role)
    apply(access_key)
    role_after_key = apply(instance_role)
    key_after_role = apply(access_key)
    assert (apply(instance_role), apply(access_key)) == (role_after_key, key_after_role)


# ---------------------------------------------------------------- errors: one line, nothing written


def test_missing_clustering_is_a_one_line_error_and_nothing_is_written(node):
    root, home, secrets = node(make_settings("manager"))
    shutil.copy(FIXTURES / "broken" / "axis2-no-clustering.xml", home / FILES["axis2"])
    before = snapshot(home)
    r = run_apply(root, home, secrets)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "apply-config: repository/conf/axis2/axis2.xml: /axisconfig/clustering: element not found\n"
    assert snapshot(home) == before


@pytest.mark.parametrize(
    "break_it,message",
    [
        (
            lambda home: (home / FILES["registry"]).write_text("<wso2registry><dbConfig></wso2registry>\n"),
            "apply-config: repository/conf/registry.xml: /: unparseable XML: mismatched tag: line 1, column 26\n",
        ),
        (
            lambda home: (home / FILES["registry"]).unlink(),
            "apply-config: repository/conf/registry.xml: /: No such file or directory\n",
        ),
        (
            lambda home: (home / FILES["catalina"]).write_text(
                (FIXTURES / FILES["catalina"]).read_text().replace('port="9443"', 'port="8443"')
            ),
            "apply-config: repository/conf/tomcat/catalina-server.xml: //Connector[@port='9443']: element not found\n",
        ),
        (
            lambda home: (home / FILES["usermgt"]).write_text("<UserManager><Realm/></UserManager>\n"),
            "apply-config: repository/conf/user-mgt.xml: /UserManager/Realm/Configuration: element not found\n",
        ),
        (
            lambda home: (home / FILES["carbon"]).write_text(
                '<Server xmlns="http://wso2.org/projects/carbon/carbon.xml"><Version>5.3.0</Version></Server>'
            ),
            "apply-config: repository/conf/carbon.xml: /Server/Ports: element not found\n",
        ),
    ],
)
def test_an_edit_that_cannot_be_made_writes_nothing(node, break_it, message):
    """Every file is edited in memory first: a failure in the last files leaves the first ones
    (already edited in memory) untouched on disk, and creates no .orig."""
    root, home, secrets = node(make_settings("manager", "aws", "accessKey", "svn"))
    break_it(home)
    before = snapshot(home)
    r = run_apply(root, home, secrets)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", message)
    assert snapshot(home) == before


def test_a_broken_settings_file_is_named(node, tmp_path):
    root, home, secrets = node(make_settings("manager"))
    document = json.loads((root / "opt/wso2-cluster/node.json").read_text())
    del document["database"]
    (tmp_path / "alt.json").write_text(json.dumps(document))
    before = snapshot(home)
    r = run_apply(root, home, secrets, "--settings", str(tmp_path / "alt.json"))
    assert (r.returncode, r.stderr) == (1, f"apply-config: {tmp_path / 'alt.json'}: 'database': missing setting\n")
    (tmp_path / "alt.json").write_text("{not json")
    r = run_apply(root, home, secrets, "--settings", str(tmp_path / "alt.json"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert r.stderr.startswith(f"apply-config: {tmp_path / 'alt.json'}: /: Expecting property name")
    assert snapshot(home) == before


NEEDED_SECRETS = [
    (
        ("manager", "aws", "accessKey", "none"),
        ["dbPassword", "adminPassword", "discoveryAccessKey", "discoverySecretKey"],
    ),
    (("worker", "aws", "instanceRole", "svn"), ["dbPassword", "adminPassword", "svnPassword"]),
    (("worker", "wka", "accessKey", "efs"), ["dbPassword", "adminPassword"]),
]


@pytest.mark.parametrize("variant,needed", NEEDED_SECRETS)
def test_needs_exactly_the_secrets_of_its_mode(node, variant, needed):
    root, home, secrets = node(make_settings(*variant))
    before = snapshot(home)
    for missing in needed:
        for secrets_file in (
            write_secrets(secrets, [k for k in needed if k != missing]),
            write_secrets(secrets, needed, **{missing: ""}),
        ):
            r = run_apply(root, home, secrets_file)
            assert (r.returncode, r.stderr) == (1, f"apply-config: {secrets}: {missing}: required secret missing\n")
            assert snapshot(home) == before
    r = run_apply(root, home, None)
    assert (r.returncode, r.stderr) == (1, f"apply-config: --secrets: {sorted(needed)[0]}: required secret missing\n")
    # the secrets it needs are enough (no master password, nothing of other modes)
    r = run_apply(root, home, write_secrets(secrets, needed))
    assert (r.returncode, r.stderr) == (0, "")


def test_hostile_values_are_escaped(node, tmp_path):
    """The renderer refuses such values, but apply-config must not trust node.json: whatever it
    holds lands as data, never as markup."""
    evil = "a&b<c>\"d'e]]>\u00e9"
    root, home, secrets = node(make_settings("manager", "aws", "accessKey", "svn"))
    document = json.loads((root / "opt/wso2-cluster/node.json").read_text())
    document["cluster"]["domain"] = "dom" + evil
    document["cluster"]["aws"]["tagValue"] = "tag" + evil
    document["hosts"] = {"service": "svc" + evil, "management": "mgt" + evil}
    document["adminUsername"] = "adm" + evil
    document["deploymentSync"].update(svnUrl="https://svn/?a=1&b=<2>", svnUser="u" + evil)
    document["database"]["urlOptions"] = "a=1&b=<2>"
    (tmp_path / "alt.json").write_text(json.dumps(document))
    r = run_apply(root, home, secrets, "--settings", str(tmp_path / "alt.json"))
    assert r.returncode == 0, r.stderr
    values = managed_values(home)
    assert values["axis2"]["parameters"]["domain"] == "dom" + evil
    assert values["axis2"]["parameters"]["tagValue"] == "tag" + evil
    assert values["axis2"]["parameters"]["secretKey"] == SECRETS["discoverySecretKey"]
    assert values["carbon"]["HostName"] == ["svc" + evil] and values["carbon"]["MgtHostName"] == ["mgt" + evil]
    assert values["carbon"]["DeploymentSynchronizer"][0]["SvnUser"] == "u" + evil
    assert values["carbon"]["DeploymentSynchronizer"][0]["SvnUrl"] == "https://svn/?a=1&b=<2>"
    assert values["carbon"]["DeploymentSynchronizer"][0]["SvnPassword"] == SECRETS["svnPassword"]
    assert values["usermgt"]["AdminUser"] == [("adm" + evil, SECRETS["adminPassword"])]
    configuration = values["datasources"]["WSO2_USER_DB"]["configuration"]
    assert configuration["url"] == f"jdbc:mysql://{DB_HOST}:3306/WSO2_USER_DB?a=1&b=<2>"
    assert configuration["password"] == SECRETS["dbPassword"]
    # escaped as markup needs it, and é written in carbon.xml's declared encoding (ISO-8859-1)
    assert (
        "<HostName>svca&amp;b&lt;c&gt;\"d'e]]&gt;\u00e9</HostName>".encode("iso-8859-1")
        in (home / FILES["carbon"]).read_bytes()
    )
