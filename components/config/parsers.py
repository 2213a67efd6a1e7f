"""Value parsers for the stack configuration and the annotated types the schema is written in.

Each parser accepts what the Pulumi CLI passes (strings) and plain Python values, and raises
ValueError("<what is allowed>") so that the message needs no translation.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any, Callable, Optional

from pydantic import BeforeValidator, SecretStr

from components import aws_facts
from userdata import limits


def _integer(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?[0-9]{1,18}", text) or not lo <= int(text) <= hi:
            raise ValueError(f"must be an integer from {lo} to {hi}")
        return int(text)

    return parse


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError("must be true or false")
    return text == "true"


def _pattern(regex: str, allowed: str) -> Callable[[Any], str]:
    compiled = re.compile(regex)

    def parse(value: Any) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValueError(f"must be {allowed}")
        return value

    return parse


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError("must be one of: " + ", ".join(options))
        return value

    return parse


def _list_of(
    item: Callable[[Any], Any], allowed: str, min_items: int = 0, max_items: Optional[int] = None, detail: bool = False
) -> Callable[[Any], tuple]:
    """An array key: the CLI passes it as a JSON string; tests may pass a list. With `detail`,
    the message also says what is wrong with the first bad item."""

    def parse(value: Any) -> tuple:
        items = value
        if isinstance(value, str):
            try:
                items = json.loads(value)
            except json.JSONDecodeError:
                items = None
        problem = f"must be a list of {allowed}"
        if min_items:
            problem += f", at least {min_items}"
        if max_items is not None:
            problem += f", at most {max_items}"
        if isinstance(items, tuple):
            items = list(items)
        if not isinstance(items, list) or len(items) < min_items or (max_items is not None and len(items) > max_items):
            raise ValueError(problem)
        parsed = []
        for x in items:
            try:
                parsed.append(item(x))
            except (ValueError, TypeError) as error:
                raise ValueError(problem + (f" ({json.dumps(x)}: {error})" if detail else "")) from None
        parsed = tuple(parsed)
        if len(set(parsed)) != len(parsed):
            raise ValueError(problem + ", without duplicates")
        return parsed

    return parse


def _ipv4_cidr(value: Any) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError, TypeError):
        raise ValueError("must be an IPv4 CIDR block like 203.0.113.0/24") from None
    if "/" not in str(value):
        raise ValueError("must be an IPv4 CIDR block like 203.0.113.0/24")
    return str(network)


# Private ranges a VPC may use: RFC 1918 and RFC 6598's shared space (Python's is_private also
# counts loopback, link-local and documentation ranges, which AWS refuses for a VPC).
VPC_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))


def _vpc_cidr(value: Any) -> str:
    cidr = _ipv4_cidr(value)
    network = ipaddress.IPv4Network(cidr)
    if not 16 <= network.prefixlen <= 20 or not any(network.subnet_of(r) for r in VPC_RANGES):
        raise ValueError("must be a private IPv4 CIDR block from /16 to /20, like 10.20.0.0/16")
    return cidr


def _url(value: Any) -> str:
    location = limits.check_download_url(value)
    if location.scheme == "https" and limits.url_port(value) not in (None, 443):
        raise ValueError("must use port 443: the nodes' security group opens outbound HTTPS on port 443 only")
    return value


def _tag(value: Any) -> str:
    if not isinstance(value, str) or "=" not in value:
        raise ValueError("a tag must be KEY=VALUE")
    key, tag_value = value.split("=", 1)
    aws_facts.check_tag(key, tag_value)
    return value


def _secret(check: Callable[[str], None]) -> Callable[[Any], SecretStr]:
    def parse(value: Any) -> SecretStr:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(text, str):
            raise ValueError("must be a string")
        check(text)
        return SecretStr(text)

    return parse


def _db_password(text: str) -> None:
    if not re.fullmatch(r"[\x21-\x7e]{8,41}", text) or re.search(r"[/@\"']", text):
        raise ValueError("must be 8 to 41 printable ASCII characters other than / @ \" ' and space")


def _admin_password(text: str) -> None:
    if not limits.ADMIN_PASSWORD.fullmatch(text):
        raise ValueError("must be 5 to 30 characters without spaces (the WSO2 user store's password rule)")


def _mysql_user(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,15}", value):
        raise ValueError("must be 1 to 16 letters, digits or _, starting with a letter")
    if value.lower() in aws_facts.MYSQL_RESERVED_USER_NAMES:
        raise ValueError(
            "must not be an RDS account name (rdsadmin, rdsrepladmin, rdsproxyadmin) or a MySQL reserved word"
        )
    return value


# Tags the program sets on the nodes itself; the discovery tag must not replace them.
PROGRAM_TAG_KEYS = ("Name", "wso2:role")


def _discovery_tag_key(value: Any) -> str:
    aws_facts.check_tag_key(value)
    if value in PROGRAM_TAG_KEYS:
        raise ValueError("must not be Name or wso2:role (the program sets those tags on the nodes)")
    return value


def _non_empty(text: str) -> None:
    if not text:
        raise ValueError("must be a non-empty string")


def _svn_password(text: str) -> None:
    _non_empty(text)
    if re.search(r"[\x00-\x1f\x7f]", text):
        raise ValueError("must not hold control characters (the nodes write it into carbon.xml)")


def _checked(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        check(value)
        return value

    return parse


# --- the types the schema's fields are declared with


def Int(lo: int, hi: int) -> Any:
    return Annotated[int, BeforeValidator(_integer(lo, hi))]


def Str(regex: str, allowed: str) -> Any:
    return Annotated[str, BeforeValidator(_pattern(regex, allowed))]


def Checked(check: Callable[[Any], Any]) -> Any:
    """A string that `check` accepts as it is (it raises ValueError otherwise)."""
    return Annotated[str, BeforeValidator(_checked(check))]


def Choice(*options: str) -> Any:
    return Annotated[str, BeforeValidator(_choice(*options))]


def Secret(check: Callable[[str], None]) -> Any:
    return Annotated[SecretStr, BeforeValidator(_secret(check))]


def Cidrs(min_items: int, max_items: Optional[int] = None) -> Any:
    return Annotated[
        tuple, BeforeValidator(_list_of(_ipv4_cidr, "IPv4 CIDR blocks like 203.0.113.0/24", min_items, max_items))
    ]


def Tags(max_items: int) -> Any:
    return Annotated[tuple, BeforeValidator(_list_of(_tag, "KEY=VALUE tags", max_items=max_items, detail=True))]


Bool = Annotated[bool, BeforeValidator(_boolean)]
Url = Annotated[str, BeforeValidator(_url)]
VpcCidr = Annotated[str, BeforeValidator(_vpc_cidr)]
HostName = Checked(limits.check_host_name)
Sha256 = Checked(limits.check_sha256)
HealthPath = Str(r"/[\x21-\x7e]{0,1023}", "a URL path starting with /, at most 1024 characters")
SubnetIds = Annotated[tuple, BeforeValidator(_list_of(_pattern(aws_facts.SUBNET_ID, ""), "subnet ids"))]
MysqlUser = Annotated[str, BeforeValidator(_mysql_user)]
DiscoveryTagKey = Checked(_discovery_tag_key)
DbPassword = Secret(_db_password)
AdminPassword = Secret(_admin_password)
SvnPassword = Secret(_svn_password)
LogRetentionDays = Annotated[int, BeforeValidator(aws_facts.check_log_retention)]
