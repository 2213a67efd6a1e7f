"""Limits shared by the stack configuration and the renderer: one source of truth.

`components/config` validates stack config with these rules before any resource is declared;
`render.py` checks the node settings with the same rules. So a value the validator accepts can
never be refused later by the renderer, halfway through `pulumi up`. Each rule raises
`ValueError("<what is allowed>")`, worded for the config error line.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

# EC2 refuses user data larger than this (the decoded payload: here the gzip bytes).
EC2_USER_DATA_LIMIT = 16384
# The worst-case valid configuration stays within 75% of EC2's limit (tests/userdata guard it).
USER_DATA_BUDGET = 12288

WSO2_HTTP_PORT = 9763
WSO2_HTTPS_PORT = 9443
MYSQL_PORT = 3306
PORT_OFFSET_MAX = 1000  # carbon.xml Ports/Offset, inclusive
CLUSTER_PORTS = range(1024, 65536)
AWS_MODE_PORTS = range(5701, 5801)  # WSO2's documented Hazelcast port range for AWS discovery
WKA_MEMBER_COUNTS = range(2, 6)  # at least two well-known members, at most five
# Other ports every node listens on (+ portOffset): carbon.xml's JMX RMI registry and RMI server.
WSO2_JMX_PORTS = (9999, 11111)

# An ALB host-header condition value holds at most 128 characters: longer host names could not
# be routed, so they are refused everywhere (carbon.xml, the listener rules, the certificate).
HOST_NAME_MAX = 128
# Download locations: long enough for any real bucket/key or URL, short enough that the user
# data of the worst-case configuration stays within USER_DATA_BUDGET.
URL_MAX = 140
DATABASE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
SHA256 = re.compile(r"[0-9a-f]{64}")
# The JDBC user store's stock rules (user-mgt.xml of Carbon 4.4.1): UsernameJavaRegEx
# ^[^~!#$;%^*+={}\\|\\\\<>,'"]{3,30}$ and PasswordJavaRegEx ^[\S]{5,30}$. The user name is kept
# to a plain subset (no @: Carbon reads user@domain as a tenant user).
ADMIN_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{2,29}")
# No control characters either: the password is written into user-mgt.xml, and XML 1.0 cannot
# hold them.
ADMIN_PASSWORD = re.compile(r"[^\s\x00-\x1f\x7f]{5,30}")
CLUSTER_DOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"{_LABEL}(\.{_LABEL})+")
_S3_BUCKET = re.compile(r"(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# S3 general purpose bucket naming rules ("Bucket naming rules", S3 user guide): besides the
# characters and length above, no IP-address form, no reserved prefix or suffix. The suffixes
# name access point and Object Lambda aliases, directory and table buckets: none of them is a
# bucket that s3:GetObject on arn:aws:s3:::<name>/<key> (identity.py) would reach.
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# Characters that never belong in a download location (controls, which YAML, JSON and curl
# would carry or mangle differently), and whitespace.
_UNPRINTABLE = re.compile(r"[\s\x00-\x1f\x7f]")


def check_host_name(value: object) -> str:
    if not isinstance(value, str) or len(value) > HOST_NAME_MAX or not _HOST.fullmatch(value):
        raise ValueError(f"must be a lower-case DNS host name like as.example.com, at most {HOST_NAME_MAX} characters")
    return value


def is_s3_bucket_name(name: object) -> bool:
    """A name S3 lets a general purpose bucket have (3-63 lower-case letters, digits, dots and
    hyphens; no IP-address form; no reserved prefix or suffix)."""
    if not isinstance(name, str) or not _S3_BUCKET.fullmatch(name):
        return False
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return False
    return not name.startswith(S3_RESERVED_PREFIXES) and not name.endswith(S3_RESERVED_SUFFIXES)


def check_s3_bucket(value: object) -> str:
    if not is_s3_bucket_name(value):
        raise ValueError(
            "must be an S3 bucket name like my-alb-logs (3 to 63 lower-case letters, digits, dots or "
            "hyphens; not an IP address; no reserved prefix like sthree- or suffix like -s3alias)"
        )
    return value


def check_port_offset(value: int) -> int:
    if not 0 <= value <= PORT_OFFSET_MAX:
        raise ValueError(f"must be an integer from 0 to {PORT_OFFSET_MAX}")
    return value


@dataclass(frozen=True)
class Location:
    """A parsed download location (product zip, JDBC driver, SVNKit jars)."""

    scheme: str  # "s3" or "https"
    host: str  # the bucket for s3
    path: str  # the key for s3 (no leading /), the path and query for https


def check_download_url(value: object) -> Location:
    """An s3://bucket/key URI or an https:// URL: no credentials, a valid port, a file path."""
    allowed = f"must be an s3://bucket/key URI or an https:// URL of the file (at most {URL_MAX} characters, no spaces)"
    if not isinstance(value, str) or len(value) > URL_MAX or _UNPRINTABLE.search(value) or not value.isascii():
        raise ValueError(allowed)
    if value.startswith("s3://"):
        bucket, _, key = value[len("s3://") :].partition("/")
        _no_credentials(bucket)
        if not is_s3_bucket_name(bucket) or not key or key.endswith("/"):
            raise ValueError(allowed)
        return Location("s3", bucket, key)
    if value.startswith("https://"):
        parts = urlsplit(value)
        _no_credentials(parts.netloc)
        if _port(parts) == 0:
            raise ValueError(allowed)
        if (
            not _is_host(parts.hostname or "")
            or not parts.path.strip("/")
            or parts.path.endswith("/")
            or parts.fragment
        ):
            raise ValueError(allowed)
        if _PRESIGNED.search(parts.query):
            raise ValueError(
                "must not be a pre-signed URL: its signature is a credential in the user data, and it expires; "
                "use s3://bucket/key, which the nodes read through their instance role"
            )
        return Location("https", parts.hostname, parts.path + (f"?{parts.query}" if parts.query else ""))
    raise ValueError(allowed)


# The query parameters of an S3 pre-signed URL (SigV4 and SigV2) or a CloudFront signed URL.
_PRESIGNED = re.compile(r"(^|&)(x-amz-signature|x-amz-credential|signature|awsaccesskeyid|key-pair-id)=", re.I)


def _no_credentials(netloc: str) -> None:
    if "@" in netloc:
        raise ValueError("must not carry credentials (user:password@): user data is readable in clear text")


def url_port(url: str) -> Optional[int]:
    """The explicit port of a URL, None when it has none (0 when it is not a valid port)."""
    return _port(urlsplit(url))


def _port(parts) -> Optional[int]:
    """The URL's port (None for the scheme's default); 0 when it is not one a server can listen on."""
    try:
        port = parts.port
    except ValueError:  # out of range or not a number
        return 0
    return port


def _is_host(host: str) -> bool:
    """A DNS name or an IPv4 address a node could reach. Not an IPv6 literal (the nodes' security
    group opens IPv4 only), nor a loopback, link-local, multicast or unspecified address."""
    if host.lower() == "localhost":
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return bool(re.fullmatch(rf"{_LABEL}(\.{_LABEL})*", host.lower())) and len(host) <= 253
    return (
        address.version == 4
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_multicast
        and not address.is_unspecified
        and not address.is_reserved
    )


SVN_DEFAULT_PORTS = {"https": 443}  # http:// and svn:// would send svnPassword in clear


def check_svn_url(value: object) -> str:
    """The deployment synchronizer's repository: https:// (SVNKit sends svnPassword with every
    request: over http:// or svn:// it would cross the network in clear), no credentials."""
    allowed = (
        "must be an https:// repository URL (over http:// or svn:// svnPassword would cross the network in "
        "clear), without spaces or user:password@"
    )
    if not isinstance(value, str) or len(value) > URL_MAX or _UNPRINTABLE.search(value) or not value.isascii():
        raise ValueError(allowed)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(allowed) from None
    if parts.scheme not in SVN_DEFAULT_PORTS or _port(parts) == 0 or not _is_host(parts.hostname or ""):
        raise ValueError(allowed)
    if "@" in parts.netloc:
        raise ValueError("must not carry credentials (user:password@): use svnUser and svnPassword")
    return value


def svn_port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or SVN_DEFAULT_PORTS[parts.scheme]


def check_sha256(value: Optional[str]) -> Optional[str]:
    if value is not None and (not isinstance(value, str) or not SHA256.fullmatch(value)):
        raise ValueError("must be a SHA-256 hex digest (64 lower-case hex characters)")
    return value
