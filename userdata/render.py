"""Turn one node's `NodeSettings` into its EC2 user data (a gzip-compressed #cloud-config).

Pure and deterministic: the same settings give the same bytes (sorted keys, no timestamps, gzip
with mtime=0), and a node's bytes depend on nothing but its own settings. No Pulumi here.
"""

from __future__ import annotations

import base64
import gzip
import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Tuple

import jinja2

from .settings import (
    SECRET_DB_PASSWORD,
    SECRET_DISCOVERY_ACCESS_KEY,
    SECRET_DISCOVERY_SECRET_KEY,
    SECRET_SVN_PASSWORD,
    NodeSettings,
)
from .unpack import written_files

# EC2 rejects user data larger than this many bytes (the decoded payload, here the gzip bytes).
EC2_USER_DATA_LIMIT = 16384

BASE_DIR = "/opt/wso2-cluster"
PRODUCT_HOME = "/opt/wso2as"
STATE_DIR = "/var/lib/wso2-cluster"
UNIT_DIR = "/etc/systemd/system"
NODE_JSON = f"{BASE_DIR}/node.json"
APPLY_CONFIG = f"{BASE_DIR}/bin/apply-config"
BOOT = f"{BASE_DIR}/bin/boot"
SERVICE_UNIT = f"{BASE_DIR}/wso2as.service"

_HERE = Path(__file__).resolve().parent
_NODE_DIR = _HERE / "node"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)

ALL_SECRETS = (
    SECRET_DB_PASSWORD,
    SECRET_DISCOVERY_ACCESS_KEY,
    SECRET_DISCOVERY_SECRET_KEY,
    SECRET_SVN_PASSWORD,
)
_DB_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class UserDataTooLarge(ValueError):
    """The gzip-compressed user data of a node exceeds EC2's limit."""


@dataclass(frozen=True)
class RenderedUserData:
    name: str  # the node's name
    cloud_config: str  # the decoded #cloud-config text
    user_data_base64: str  # what goes to ec2.Instance(user_data_base64=...)
    raw_size: int  # bytes of the cloud-config text
    sent_size: int  # bytes of the gzip payload EC2 receives (its 16,384-byte limit applies here)
    # absolute path of every write_files entry -> its content
    files: Dict[str, bytes] = field(hash=False)


def required_secrets(settings: NodeSettings) -> Tuple[str, ...]:
    """The secrets-file entries this node needs (names as in settings.SECRET_*)."""
    need = [SECRET_DB_PASSWORD]
    aws = settings.aws_discovery if settings.membership_scheme == "aws" else None
    if aws is not None and aws.credentials == "accessKey":
        need += [SECRET_DISCOVERY_ACCESS_KEY, SECRET_DISCOVERY_SECRET_KEY]
    if settings.deployment_sync.enabled:
        need.append(SECRET_SVN_PASSWORD)
    return tuple(need)


def _validate(s: NodeSettings) -> None:
    def bad(what: str) -> None:
        raise ValueError(f"node {s.name!r}: {what}")

    if s.role not in ("manager", "worker"):
        bad(f"role must be 'manager' or 'worker', got {s.role!r}")
    if s.membership_scheme not in ("aws", "wka"):
        bad(f"membership_scheme must be 'aws' or 'wka', got {s.membership_scheme!r}")
    for ip in (s.private_ip, *s.wka_members):
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            bad(f"not an IPv4 address: {ip!r}")
    for what, port in (("cluster_port", s.cluster_port), ("database.port", s.database.port)):
        if not 0 < port < 65536:
            bad(f"{what} out of range: {port}")
    if not 0 <= s.port_offset < 1000:
        bad(f"port_offset out of range: {s.port_offset}")
    for db in (s.database.user_store_db, s.database.registry_db):
        if not _DB_NAME.fullmatch(db):
            bad(f"database name must match [A-Za-z0-9_]{{1,64}}: {db!r}")
    for what, art in (("product", s.product), ("jdbc_driver", s.jdbc_driver)):
        if not art.url.startswith(("s3://", "https://")):
            bad(f"{what}.url must be s3:// or https://, got {art.url!r}")
        if art.sha256 is not None and not _SHA256.fullmatch(art.sha256):
            bad(f"{what}.sha256 must be 64 lowercase hex digits")
    if s.membership_scheme == "aws":
        a = s.aws_discovery
        if a is None:
            bad("membership_scheme 'aws' needs aws_discovery")
        if a.credentials not in ("accessKey", "instanceRole"):
            bad(f"aws_discovery.credentials must be accessKey or instanceRole: {a.credentials!r}")
        if a.credentials == "instanceRole" and not a.iam_role:
            bad("aws_discovery.credentials 'instanceRole' needs iam_role")
    if s.deployment_sync.enabled and not (s.deployment_sync.svn_url and s.deployment_sync.svn_user):
        bad("deployment_sync enabled needs svn_url and svn_user")
    unknown = sorted(set(s.secret_arns) - set(ALL_SECRETS))
    if unknown:
        bad(f"unknown secret names {unknown}; known: {list(ALL_SECRETS)}")
    missing = [k for k in required_secrets(s) if not s.secret_arns.get(k)]
    if missing:
        bad(f"secret_arns lacks the ARN of {missing}")


def node_document(settings: NodeSettings) -> Dict[str, Any]:
    """The content of node.json: this node's settings, with secret ARNs but no secret values."""
    s = settings
    a = s.aws_discovery if s.membership_scheme == "aws" else None
    return {
        "name": s.name,
        "role": s.role,
        "privateIp": s.private_ip,
        "region": s.region,
        "portOffset": s.port_offset,
        "hosts": {"service": s.service_host, "management": s.management_host},
        "cluster": {
            "domain": s.cluster_domain,
            "membershipScheme": s.membership_scheme,
            "port": s.cluster_port,
            "wkaMembers": [ip for ip in s.wka_members if ip != s.private_ip]
            if s.membership_scheme == "wka"
            else [],
            "aws": None
            if a is None
            else {
                "region": a.region,
                "securityGroup": a.security_group_name,
                "tagKey": a.tag_key,
                "tagValue": a.tag_value,
                "credentials": a.credentials,
                "iamRole": a.iam_role if a.credentials == "instanceRole" else None,
                "connTimeout": a.conn_timeout_seconds,
                "hostHeader": a.host_header or f"ec2.{a.region}.amazonaws.com",
            },
        },
        "database": {
            "host": s.database.host,
            "port": s.database.port,
            "username": s.database.username,
            "userStoreDb": s.database.user_store_db,
            "registryDb": s.database.registry_db,
            "driverClass": s.database.driver_class,
            "urlOptions": s.database.url_options,
        },
        "product": {"url": s.product.url, "sha256": s.product.sha256},
        "jdbcDriver": {"url": s.jdbc_driver.url, "sha256": s.jdbc_driver.sha256},
        "deploymentSync": {
            "enabled": s.deployment_sync.enabled,
            "svnUrl": s.deployment_sync.svn_url,
            "svnUser": s.deployment_sync.svn_user,
        },
        # only the secrets this node needs, so it fetches (and may read) nothing else
        "secretArns": {k: s.secret_arns[k] for k in required_secrets(s)},
    }


def _minify(text: str) -> str:
    """Drop blank and full-line-comment lines (keeps the #! line). The node scripts are written
    without multi-line strings whose lines could start with '#', so this is safe for them."""
    lines = text.splitlines()
    keep = lines[:1] + [ln for ln in lines[1:] if ln.strip() and not ln.lstrip().startswith("#")]
    return "\n".join(keep) + "\n"


def _yaml_str(value: Any) -> str:
    # A JSON string of ASCII characters is a valid YAML double-quoted scalar.
    return json.dumps(str(value), ensure_ascii=True)


def _block_safe(text: str) -> bool:
    if not text or "\r" in text:
        return False
    for ch in text:
        o = ord(ch)
        if not (ch in "\t\n" or 0x20 <= o < 0x7F or (o >= 0xA0 and ch not in "\u2028\u2029\ufeff"
                                                      and not 0xD800 <= o < 0xE000)):
            return False
    lines = text.split("\n")
    if lines[0][:1] in (" ", "\t"):
        return False
    return all(ln == "" or ln.strip() for ln in lines)  # no whitespace-only lines


def _yaml_content(data: bytes) -> str:
    """The `content` of a write_files entry, indented for the template: a literal block scalar
    when that round-trips exactly, else base64."""
    if not data:
        return '  content: ""'
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and _block_safe(text):
        if not text.endswith("\n"):
            chomp, body = "-", text
        else:  # "|" keeps exactly one final newline, "|+" all of them
            chomp, body = ("+" if text.endswith("\n\n") else ""), text[:-1]
        lines = "\n".join(("    " + ln) if ln else "" for ln in body.split("\n"))
        return f"  content: |{chomp}\n{lines}"
    return "  encoding: b64\n  content: " + base64.b64encode(data).decode("ascii")


_ENV.filters["yaml_str"] = _yaml_str
_ENV.filters["yaml_content"] = _yaml_content


def template_context() -> Dict[str, str]:
    """The paths the node-side templates are rendered with."""
    return {"base": BASE_DIR, "product_home": PRODUCT_HOME, "state_dir": STATE_DIR,
            "unit_dir": UNIT_DIR}


def _files(settings: NodeSettings) -> Dict[str, Tuple[str, bytes]]:
    ctx = template_context()
    doc = json.dumps(node_document(settings), sort_keys=True, indent=1, ensure_ascii=True) + "\n"
    apply_config = (_NODE_DIR / "apply-config").read_text(encoding="utf-8")
    boot = _ENV.get_template("boot.sh.j2").render(**ctx)
    unit = _ENV.get_template("wso2as.service.j2").render(**ctx)
    return {
        NODE_JSON: ("0644", doc.encode()),
        APPLY_CONFIG: ("0755", _minify(apply_config).encode()),
        BOOT: ("0755", _minify(boot).encode()),
        SERVICE_UNIT: ("0644", unit.encode()),
    }


def _check_round_trip(cloud_config: str, files: Dict[str, bytes]) -> None:
    got = {path: written.content for path, written in written_files(cloud_config).items()}
    if got != files:
        raise RuntimeError("rendered cloud-config does not round-trip its write_files")


def render_user_data(settings: NodeSettings) -> RenderedUserData:
    """Render one node's user data. Raises ValueError for invalid settings and
    UserDataTooLarge when the gzip payload exceeds EC2_USER_DATA_LIMIT."""
    _validate(settings)
    entries = _files(settings)
    cloud_config = _ENV.get_template("cloud-config.yaml.j2").render(
        files=[
            {"path": p, "permissions": mode, "content": data}
            for p, (mode, data) in entries.items()
        ],
        boot=BOOT,
    )
    files = {p: data for p, (_, data) in entries.items()}
    _check_round_trip(cloud_config, files)
    raw = cloud_config.encode("utf-8")
    payload = gzip.compress(raw, compresslevel=9, mtime=0)
    if len(payload) > EC2_USER_DATA_LIMIT:
        raise UserDataTooLarge(
            f"user data of node {settings.name!r} is {len(payload)} bytes gzipped "
            f"({len(raw)} raw), over EC2's limit of {EC2_USER_DATA_LIMIT:,} bytes"
        )
    return RenderedUserData(
        name=settings.name,
        cloud_config=cloud_config,
        user_data_base64=base64.b64encode(payload).decode("ascii"),
        raw_size=len(raw),
        sent_size=len(payload),
        files=files,
    )
