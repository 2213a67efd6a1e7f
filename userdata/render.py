"""Turn one node's `NodeSettings` into its EC2 user data (a gzip-compressed #cloud-config).

Pure and deterministic: the same settings give the same bytes (sorted keys, no timestamps, gzip
with mtime=0), and a node's bytes depend on nothing but its own settings. No Pulumi here.
"""

from __future__ import annotations

import ast
import base64
import functools
import io
import ipaddress
import json
import re
import struct
import tokenize
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Tuple

import jinja2

from . import jvm, limits
from .limits import EC2_USER_DATA_LIMIT
from .settings import (
    ALL_SECRETS,
    SECRET_ADMIN_PASSWORD,
    SECRET_DB_MASTER_PASSWORD,
    SECRET_DB_PASSWORD,
    SECRET_DISCOVERY_ACCESS_KEY,
    SECRET_DISCOVERY_SECRET_KEY,
    SECRET_SVN_PASSWORD,
    NodeSettings,
)
from .unpack import written_files

BASE_DIR = "/opt/wso2-cluster"
PRODUCT_HOME = "/opt/wso2as"
STATE_DIR = "/var/lib/wso2-cluster"
LOG_DIR = "/var/log/wso2-cluster"
UNIT_DIR = "/etc/systemd/system"
SHARED_MOUNT = "/mnt/wso2-shared"
NODE_JSON = f"{BASE_DIR}/node.json"
APPLY_CONFIG = f"{BASE_DIR}/bin/apply-config"
BOOT = f"{BASE_DIR}/bin/boot"
BOOT_UNIT = f"{BASE_DIR}/wso2-boot.service"
SERVICE_UNIT = f"{BASE_DIR}/wso2as.service"
BOOT_LOG = f"{LOG_DIR}/boot.log"

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
    need = [SECRET_DB_PASSWORD, SECRET_ADMIN_PASSWORD]
    if settings.role == "manager":
        need.append(SECRET_DB_MASTER_PASSWORD)
    aws = settings.aws_discovery if settings.membership_scheme == "aws" else None
    if aws is not None and aws.credentials == "accessKey":
        need += [SECRET_DISCOVERY_ACCESS_KEY, SECRET_DISCOVERY_SECRET_KEY]
    if settings.deployment_sync.mode == "svn":
        need.append(SECRET_SVN_PASSWORD)
    return tuple(need)


def validate(s: NodeSettings) -> None:
    """The renderer's checks, with the rules the stack configuration is checked with (limits)."""

    def check(what: str, rule, value) -> None:
        try:
            rule(value)
        except ValueError as error:
            raise ValueError(f"node {s.name!r}: {what} {error}") from None

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(f"node {s.name!r}: {what}")

    need(s.role in ("manager", "worker"), f"role must be 'manager' or 'worker', got {s.role!r}")
    need(
        s.membership_scheme in ("aws", "wka"), f"membership_scheme must be 'aws' or 'wka', got {s.membership_scheme!r}"
    )
    for ip in (s.private_ip, *s.wka_members):
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            need(False, f"not an IPv4 address: {ip!r}")
    need(s.cluster_port in limits.CLUSTER_PORTS, f"cluster_port out of range: {s.cluster_port}")
    need(0 < s.database.port < 65536, f"database.port out of range: {s.database.port}")
    check("port_offset", limits.check_port_offset, s.port_offset)
    check("service_host", limits.check_host_name, s.service_host)
    check("management_host", limits.check_host_name, s.management_host)
    need(bool(limits.CLUSTER_DOMAIN.fullmatch(s.cluster_domain)), f"cluster_domain not allowed: {s.cluster_domain!r}")
    need(bool(limits.ADMIN_USERNAME.fullmatch(s.admin_username)), f"admin_username not allowed: {s.admin_username!r}")
    for db in (s.database.user_store_db, s.database.registry_db):
        need(bool(limits.DATABASE_NAME.fullmatch(db)), f"database name must match [A-Za-z0-9_]{{1,64}}: {db!r}")
    sync = s.deployment_sync
    artifacts = [("product", s.product), ("jdbc_driver", s.jdbc_driver)]
    if sync.mode == "svn":
        need(
            bool(sync.svn_url and sync.svn_user and sync.svn_kit and sync.trilead_ssh),
            "deployment_sync svn needs svn_url, svn_user, svn_kit and trilead_ssh",
        )
        check("deployment_sync.svn_url", limits.check_svn_url, sync.svn_url)
        artifacts += [("svn_kit", sync.svn_kit), ("trilead_ssh", sync.trilead_ssh)]
        need(
            sync.svn_kit.sha256 is not None and sync.trilead_ssh.sha256 is not None,
            "deployment_sync svn needs the SHA-256 of svn_kit and trilead_ssh",
        )
    elif sync.mode == "efs":
        need(bool(sync.file_system_id), "deployment_sync efs needs file_system_id")
    else:
        need(sync.mode == "none", f"deployment_sync.mode must be none, svn or efs, got {sync.mode!r}")
    for what, artifact in artifacts:
        check(f"{what}.url", limits.check_download_url, artifact.url)
        check(f"{what}.sha256", limits.check_sha256, artifact.sha256)
    if s.membership_scheme == "aws":
        a = s.aws_discovery
        need(a is not None, "membership_scheme 'aws' needs aws_discovery")
        need(
            a.credentials in ("accessKey", "instanceRole"),
            f"aws_discovery.credentials must be accessKey or instanceRole: {a.credentials!r}",
        )
        need(
            a.credentials != "instanceRole" or bool(a.iam_role),
            "aws_discovery.credentials 'instanceRole' needs iam_role",
        )
    unknown = sorted(set(s.secrets) - set(ALL_SECRETS))
    need(not unknown, f"unknown secret names {unknown}; known: {list(ALL_SECRETS)}")
    missing = [k for k in required_secrets(s) if k not in s.secrets or not s.secrets[k].arn]
    need(not missing, f"secrets lacks the ARN of {missing}")
    need(s.role == "worker" or bool(s.database.master_username), "the manager needs database.master_username")
    need(
        jvm.MIN_HEAP_MIB <= s.heap_mb <= jvm.MAX_HEAP_MIB,
        f"heap_mb must be from {jvm.MIN_HEAP_MIB} to {jvm.MAX_HEAP_MIB}, got {s.heap_mb}",
    )


def _artifact(artifact) -> Any:
    return None if artifact is None else {"url": artifact.url, "sha256": artifact.sha256}


def node_document(settings: NodeSettings) -> Dict[str, Any]:
    """The content of node.json: this node's settings, with secret ARNs but no secret values."""
    s = settings
    a = s.aws_discovery if s.membership_scheme == "aws" else None
    sync = s.deployment_sync
    return {
        "name": s.name,
        "role": s.role,
        "privateIp": s.private_ip,
        "region": s.region,
        "portOffset": s.port_offset,
        "hosts": {"service": s.service_host, "management": s.management_host},
        "adminUsername": s.admin_username,
        "cluster": {
            "domain": s.cluster_domain,
            "membershipScheme": s.membership_scheme,
            "port": s.cluster_port,
            "wkaMembers": [ip for ip in s.wka_members if ip != s.private_ip] if s.membership_scheme == "wka" else [],
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
            },
        },
        "database": {
            "host": s.database.host,
            "port": s.database.port,
            "username": s.database.username,
            "masterUsername": s.database.master_username if s.role == "manager" else None,
            "userStoreDb": s.database.user_store_db,
            "registryDb": s.database.registry_db,
            "driverClass": s.database.driver_class,
            "urlOptions": s.database.url_options,
        },
        "product": _artifact(s.product),
        "jdbcDriver": _artifact(s.jdbc_driver),
        "deploymentSync": {
            "mode": sync.mode,
            "svnUrl": sync.svn_url if sync.mode == "svn" else None,
            "svnUser": sync.svn_user if sync.mode == "svn" else None,
            "svnKit": _artifact(sync.svn_kit) if sync.mode == "svn" else None,
            "trileadSsh": _artifact(sync.trilead_ssh) if sync.mode == "svn" else None,
            "fileSystemId": sync.file_system_id if sync.mode == "efs" else None,
        },
        "logAgentParameter": s.log_agent_parameter,
        "heapMb": s.heap_mb,
        # only the secrets this node needs, so it fetches (and may read) nothing else
        "secrets": {
            name: {"arn": s.secrets[name].arn, "versionId": s.secrets[name].version_id} for name in required_secrets(s)
        },
    }


def _minify(text: str) -> str:
    """Drop blank and full-line-comment lines (keeps the #! line). The node scripts are written
    without multi-line strings whose lines could start with '#', so this is safe for them."""
    lines = text.splitlines()
    keep = lines[:1] + [ln for ln in lines[1:] if ln.strip() and not ln.lstrip().startswith("#")]
    return "\n".join(keep) + "\n"


def _python_for_node(source: str) -> str:
    """The Python source without docstrings and comments, one space per indentation level: like
    the comments of the shell scripts, they stay in the repository. Found by the parser and the tokenizer, so the code
    itself is kept byte for byte (and the same on any Python version)."""
    lines = source.splitlines()
    dropped_lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                dropped_lines.update(range(first.lineno + (len(node.body) == 1), first.end_lineno + 1))
                if len(node.body) == 1:  # a body that was only a docstring
                    lines[first.lineno - 1] = " " * first.col_offset + "pass"
    inside_strings = set()  # lines continuing a multi-line string: blank or not, they are its value
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        row, column = token.start
        if token.type == tokenize.COMMENT and row not in dropped_lines and not token.string.startswith("#!"):
            lines[row - 1] = lines[row - 1][:column].rstrip()
        elif token.end[0] > row and token.type != tokenize.NL:
            inside_strings.update(range(row + 1, token.end[0] + 1))
    kept = [
        line if number in inside_strings else _one_space_per_level(line)
        for number, line in enumerate(lines, 1)
        if number not in dropped_lines and (line.strip() or number in inside_strings)
    ]
    return "\n".join(kept) + "\n"


def _one_space_per_level(line: str) -> str:
    # The sources indent by 4: a quarter keeps every block's depth (and continuation lines may
    # be indented anyhow), and saves ~140 gzipped bytes of the 16 KB user data.
    stripped = line.lstrip(" ")
    return " " * ((len(line) - len(stripped)) // 4) + stripped


def _yaml_str(value: Any) -> str:
    # A JSON string of ASCII characters is a valid YAML double-quoted scalar.
    return json.dumps(str(value), ensure_ascii=True)


def _block_safe(text: str) -> bool:
    if not text or "\r" in text:
        return False
    for ch in text:
        o = ord(ch)
        if not (
            ch in "\t\n"
            or 0x20 <= o < 0x7F
            or (o >= 0xA0 and ch not in "\u2028\u2029\ufeff" and not 0xD800 <= o < 0xE000)
        ):
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
    """The paths the node-side templates are rendered with, and the JVM options (of the node's $heapMb)."""
    return {
        "base": BASE_DIR,
        "product_home": PRODUCT_HOME,
        "state_dir": STATE_DIR,
        "log_dir": LOG_DIR,
        "unit_dir": UNIT_DIR,
        "shared_mount": SHARED_MOUNT,
        "java_options": " ".join(jvm.java_options("${heapMb}", PRODUCT_HOME)),
    }


@functools.lru_cache(maxsize=None)
def _node_scripts() -> Tuple[Tuple[str, Tuple[str, bytes]], ...]:
    """The scripts and units, the same for every node: read, rendered and stripped once."""
    ctx = template_context()
    apply_config = (_NODE_DIR / "apply-config").read_text(encoding="utf-8")
    return (
        (APPLY_CONFIG, ("0755", _python_for_node(apply_config).encode())),
        (BOOT, ("0755", _minify(_ENV.get_template("boot.sh.j2").render(**ctx)).encode())),
        (BOOT_UNIT, ("0644", _minify(_ENV.get_template("wso2-boot.service.j2").render(**ctx)).encode())),
        (SERVICE_UNIT, ("0644", _minify(_ENV.get_template("wso2as.service.j2").render(**ctx)).encode())),
    )


def _files(settings: NodeSettings) -> Dict[str, Tuple[str, bytes]]:
    doc = json.dumps(node_document(settings), sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"
    return {NODE_JSON: ("0644", doc.encode()), **dict(_node_scripts())}


def _gzip(raw: bytes, boundaries) -> bytes:
    """gzip at level 9; deflate's own choice of blocks, or a new block at each boundary (each
    write_files entry), whichever is smaller. With long random-looking settings, blocks of their
    own (own Huffman codes) save some 2%. The header is that of gzip.compress(mtime=0) on any
    machine (no name, no time, OS "unknown"), so the bytes do not depend on where they are made."""

    def deflate(cuts) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
        body, start = [], 0
        for end in cuts:
            body += [compressor.compress(raw[start:end]), compressor.flush(zlib.Z_BLOCK)]
            start = end
        return b"".join(body) + compressor.compress(raw[start:]) + compressor.flush()

    body = min(deflate([]), deflate(sorted(set(boundaries))), key=len)
    header = b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + b"\x02\xff"
    return header + body + struct.pack("<II", zlib.crc32(raw), len(raw) & 0xFFFFFFFF)


def _check_round_trip(cloud_config: str, files: Dict[str, bytes]) -> None:
    got = {path: written.content for path, written in written_files(cloud_config).items()}
    if got != files:
        raise RuntimeError("rendered cloud-config does not round-trip its write_files")


def render_user_data(settings: NodeSettings) -> RenderedUserData:
    """Render one node's user data. Raises ValueError for invalid settings and
    UserDataTooLarge when the gzip payload exceeds EC2_USER_DATA_LIMIT."""
    validate(settings)
    entries = _files(settings)
    cloud_config = _ENV.get_template("cloud-config.yaml.j2").render(
        files=[{"path": p, "permissions": mode, "content": data} for p, (mode, data) in entries.items()],
        boot_unit=BOOT_UNIT,
        unit_dir=UNIT_DIR,
    )
    files = {p: data for p, (_, data) in entries.items()}
    _check_round_trip(cloud_config, files)
    raw = cloud_config.encode("utf-8")
    payload = _gzip(raw, [m.start() + 1 for m in re.finditer(rb"\n(- path: |runcmd:)", raw)])
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
