"""Cross-key rules: what one key allows given the others.

A rule is a generator registered with `@_rule`; it yields (key, what is allowed) for each problem
and reads values through `v[key]`. Reading a key whose own value is invalid raises `_Invalid`,
which skips the whole rule: that key is already reported on its own line, and a rule never
judges a combination it cannot read. A rule that can still say something without one of its
keys asks `v.valid(key)` first. Rules are small on purpose — one per combination of keys — so
that an invalid key hides only the rules that read it, never an unrelated problem.

`problems(values)` runs every rule and returns the lines of those that apply.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any, Callable, Iterator, Mapping, Optional
from urllib.parse import urlsplit

from components import aws_facts
from components.config.parsers import PROGRAM_TAG_KEYS
from components.config.schema import FIELDS_BY_ALIAS, ClusterConfig
from components.firewall import rule_counts
from userdata import jvm, limits


class _Invalid(Exception):
    """A rule read a key whose own value is invalid: the rule does not apply."""


class Values:
    """What the rules read: the keys' parsed values, the keys that were invalid, and keys of
    other namespaces (aws:defaultTags); an unset key reads as its default."""

    def __init__(self, parsed: Mapping[str, Any], invalid: set[str], extra: Optional[Mapping[str, Any]] = None):
        self._parsed, self._invalid, self._extra = parsed, invalid, dict(extra or {})

    def __getitem__(self, key: str) -> Any:
        if key in self._invalid:
            raise _Invalid(key)
        if key in self._parsed:
            return self._parsed[key]
        if key in self._extra:  # keys of other namespaces the rules read (aws:defaultTags)
            return self._extra[key]
        return ClusterConfig.model_fields[FIELDS_BY_ALIAS[key]].default

    def valid(self, *keys: str) -> bool:
        """True when none of `keys` is itself invalid (a rule may then read them)."""
        return not any(key in self._invalid for key in keys)


Rule = Callable[[Values], Iterator[tuple[str, str]]]
_RULES: list[Rule] = []


def _rule(function: Rule) -> Rule:
    _RULES.append(function)
    return function


def problems(values: Values) -> list[tuple[str, Any, str]]:
    """(key, its value, what is allowed) for each problem of every rule whose keys are valid."""
    found = []
    for rule in _RULES:
        try:
            found.extend((key, values[key], allowed) for key, allowed in rule(values))
        except _Invalid:
            pass
    return found


@_rule
def _distinct_hosts(v: Values):
    if v["serviceHostName"] == v["managementHostName"]:
        yield "managementHostName", "must differ from serviceHostName (host-based routing tells them apart)"


@_rule
def _existing_vpc(v: Values):
    public, private = v["publicSubnetIds"], v["privateSubnetIds"]
    if v["vpcId"]:
        if len(public) < 2:
            yield "publicSubnetIds", "must list at least 2 subnets when vpcId is set"
        if len(private) < 2:
            yield "privateSubnetIds", "must list at least 2 subnets when vpcId is set"
        if set(public) & set(private):
            yield "privateSubnetIds", "must not repeat a subnet of publicSubnetIds"
    else:
        if public:
            yield "publicSubnetIds", "needs vpcId (the subnets of an existing VPC)"
        if private:
            yield "privateSubnetIds", "needs vpcId (the subnets of an existing VPC)"


def _instance_type_rule(key: str) -> Rule:
    def rule(v: Values):
        problem = aws_facts.instance_type_architecture_problem(v[key], v["architecture"])
        if problem:
            yield key, problem

    return rule


_rule(_instance_type_rule("managerInstanceType"))
_rule(_instance_type_rule("workerInstanceType"))


def _heap_rule(role: str) -> Rule:
    type_key, heap_key = f"{role}InstanceType", f"{role}HeapMb"

    def rule(v: Values):
        instance_type, heap = v[type_key], v[heap_key]
        memory = aws_facts.instance_memory_mib(instance_type)
        if memory is None:
            if heap is None:
                yield heap_key, f"required: the memory of {instance_type} is not in this release's table"
        elif heap is not None and heap > jvm.max_heap_mib(memory):
            yield (
                heap_key,
                (
                    f"must be at most {jvm.max_heap_mib(memory)} on {instance_type} ({memory} MiB): the OS, "
                    "the agents and the JVM's non-heap memory need the rest"
                ),
            )

    return rule


_rule(_heap_rule("manager"))
_rule(_heap_rule("worker"))


@_rule
def _aws_discovery_reaches_ec2(v: Values):
    # Hazelcast 3.5's AWS discovery calls ec2.<region>.amazonaws.com whatever the partition (it
    # ignores hostHeader once the region is set): there is no such endpoint in aws-cn.
    if v["membershipScheme"] == "aws" and aws_facts.partition_of(v["aws:region"]).dns_suffix != "amazonaws.com":
        yield (
            "membershipScheme",
            (
                f"must be wka in {v['aws:region']}: Hazelcast 3.5's AWS discovery calls "
                f"ec2.{v['aws:region']}.amazonaws.com, which does not exist there"
            ),
        )


@_rule
def _membership(v: Values):
    if v["membershipScheme"] == "aws":
        if v["clusterPort"] not in limits.AWS_MODE_PORTS:
            yield "clusterPort", "must be from 5701 to 5800 when membershipScheme is aws"
    elif v["wkaMemberCount"] > v["workerCount"] + 1:
        yield "wkaMemberCount", f"must be at most the number of nodes, workerCount + 1 = {v['workerCount'] + 1}"


@_rule
def _cluster_port_is_free(v: Values):
    offset, port = v["portOffset"], v["clusterPort"]
    if port in (limits.WSO2_HTTP_PORT + offset, limits.WSO2_HTTPS_PORT + offset):
        yield "clusterPort", "must differ from the product's HTTP and HTTPS ports (9763/9443 + portOffset)"
    elif port in tuple(jmx + offset for jmx in limits.WSO2_JMX_PORTS):
        yield "clusterPort", "must differ from the product's JMX ports (9999/11111 + portOffset)"


@_rule
def _certificate(v: Values):
    arn, self_signed = v["certificateArn"], v["selfSignedCertificate"]
    if arn is not None and self_signed:
        yield "selfSignedCertificate", "must be false when certificateArn is set"
    if arn is None and not self_signed:
        yield "certificateArn", "required for the HTTPS listener unless selfSignedCertificate is true"


@_rule
def _certificate_region(v: Values):
    arn = v["certificateArn"]
    if arn is not None:
        problem = aws_facts.certificate_region_problem(arn, v["aws:region"])
        if problem:
            yield "certificateArn", problem


@_rule
def _access_logs(v: Values):
    if not v["accessLogs"] and v["accessLogsBucket"] is not None:
        yield "accessLogsBucket", "only used when accessLogs is true"


@_rule
def _storage(v: Values):
    allocated, maximum = v["dbAllocatedStorageGb"], v["dbMaxAllocatedStorageGb"]
    if maximum < allocated:
        yield "dbMaxAllocatedStorageGb", "must be at least dbAllocatedStorageGb"
    elif allocated < maximum and maximum * 10 < allocated * 11:
        # RDS: "the maximum storage threshold must be at least 10% more than the allocated storage"
        yield (
            "dbMaxAllocatedStorageGb",
            (
                f"must equal dbAllocatedStorageGb (no autoscaling) or be at least 10% more "
                f"({-(-allocated * 11 // 10)}), as RDS storage autoscaling requires"
            ),
        )


@_rule
def _database_users(v: Values):
    if v["dbAppUsername"].lower() == v["dbUsername"].lower():
        yield "dbAppUsername", "must differ from dbUsername (the datasources must not use the master user)"


@_rule
def _engine_and_class(v: Values):
    problem = aws_facts.db_class_version_problem(v["dbInstanceClass"], v["dbEngineVersion"])
    if problem:
        yield "dbInstanceClass", problem


@_rule
def _deployment_synchronizer(v: Values):
    svn = v["deploymentSynchronizer"] == "svn"
    for key in ("svnUrl", "svnUser", "svnPassword", "svnKitSha256", "trileadSshSha256"):
        if not v.valid(key):
            continue
        if svn and v[key] is None:
            yield (
                key,
                "required when deploymentSynchronizer is svn"
                + (" (nodes refuse a jar they cannot check)" if key.endswith("Sha256") else ""),
            )
        if not svn and v[key] is not None:
            yield key, "only used when deploymentSynchronizer is svn"


@_rule
def _workers_in_a_batch(v: Values):
    batch = v["maxUnavailableWorkers"]
    if batch is not None and batch > v["workerCount"]:
        yield "maxUnavailableWorkers", f"must be at most workerCount ({v['workerCount']})"


def _tag_keys(tags: tuple) -> list[str]:
    return [tag.split("=", 1)[0] for tag in tags]


@_rule
def _tags_unique(v: Values):
    keys = [key.lower() for key in _tag_keys(v["tags"])]
    if len(set(keys)) != len(keys):
        yield "tags", "must not repeat a tag key, even in another case (IAM compares tag keys ignoring case)"


@_rule
def _tags_not_the_programs(v: Values):
    reserved = set(PROGRAM_TAG_KEYS) | ({v["discoveryTagKey"]} if v.valid("discoveryTagKey") else set())
    taken = reserved & set(_tag_keys(v["tags"]))
    if taken:
        yield "tags", "must not set " + ", ".join(sorted(taken)) + " (the program sets it on the nodes)"


@_rule
def _default_tags(v: Values):
    """The AWS provider's default tags (aws:defaultTags) land on every resource too."""
    default = v["aws:defaultTags"]
    if not default:
        return
    for key, value in default.items():
        try:
            aws_facts.check_tag(key, value)
        except ValueError as error:
            yield "aws:defaultTags", f"{json.dumps(key)}: {error}"
            return
    extra = _tag_keys(v["tags"])
    clash = sorted({k for k in default if k.lower() in {e.lower() for e in extra} and k not in extra})
    if clash:
        yield (
            "aws:defaultTags",
            (
                f"must not repeat a key of tags in another case ({', '.join(clash)}): IAM compares "
                "tag keys ignoring case"
            ),
        )
    program = {*PROGRAM_TAG_KEYS, v["discoveryTagKey"] if v.valid("discoveryTagKey") else "wso2:cluster"}
    count = len(set(default) | set(extra) | program)
    if count > aws_facts.MAX_TAGS_PER_RESOURCE:
        yield (
            "aws:defaultTags",
            (
                f"with tags and the {len(program)} tags the program sets, the nodes would carry "
                f"{count} tags, over AWS's {aws_facts.MAX_TAGS_PER_RESOURCE} per resource"
            ),
        )


@_rule
def _private_zone_not_aws(v: Values):
    problem = aws_facts.private_zone_problem(v["privateZoneName"], v["aws:region"])
    if problem:
        yield "privateZoneName", problem


def _zone_hides_host_rule(key: str) -> Rule:
    def rule(v: Values):
        zone, host = v["privateZoneName"], v[key]
        if _is_within(host, zone):
            yield "privateZoneName", f"must not contain {key} {host}: inside the VPC the private zone would hide it"

    return rule


def _zone_hides_download_rule(key: str, svn_only: bool = False) -> Rule:
    def rule(v: Values):
        if svn_only and v["deploymentSynchronizer"] != "svn":
            return
        zone, url = v["privateZoneName"], v[key]
        if url is None:
            return
        if key == "svnUrl":
            host = urlsplit(url).hostname or ""
        else:
            location = limits.check_download_url(url)
            host = location.host if location.scheme == "https" else ""
        if host and _is_within(host.lower(), zone):
            yield (
                "privateZoneName",
                (
                    f"must not contain the host of {key} ({host}): nodes could not "
                    + ("reach it" if key == "svnUrl" else "download it")
                ),
            )

    return rule


for _key in ("serviceHostName", "managementHostName"):
    _rule(_zone_hides_host_rule(_key))
for _key in ("productArtifactUrl", "jdbcDriverUrl"):
    _rule(_zone_hides_download_rule(_key))
for _key in ("svnUrl", "svnKitUrl", "trileadSshUrl"):
    _rule(_zone_hides_download_rule(_key, svn_only=True))


@_rule
def _security_group_rules(v: Values):
    for group, direction, count in rule_counts(
        client_cidrs=v["allowedClientCidrs"], management_cidrs=v["managementAllowedCidrs"]
    ):
        if count > aws_facts.SECURITY_GROUP_RULES_PER_DIRECTION:
            key = "managementAllowedCidrs" if v["managementAllowedCidrs"] else "allowedClientCidrs"
            yield (
                key,
                (
                    f"needs {count} {direction} rules in the {group} security group, over AWS's default quota "
                    f"of {aws_facts.SECURITY_GROUP_RULES_PER_DIRECTION}: list fewer or wider CIDR blocks"
                ),
            )


MAX_CONSOLE_ADDRESSES_ON_PROD = 65536  # a /16


@_rule
def _console_sources_on_prod(v: Values):
    """The console administers every node: a protected stack opens it to at most a /16 in total."""
    if not (v["dbDeletionProtection"] or v["loadBalancerDeletionProtection"]):
        return
    addresses = sum(ipaddress.IPv4Network(cidr).num_addresses for cidr in v["managementAllowedCidrs"])
    if addresses > MAX_CONSOLE_ADDRESSES_ON_PROD:
        limit = MAX_CONSOLE_ADDRESSES_ON_PROD
        yield (
            "managementAllowedCidrs",
            (
                f"must open the management console to at most {limit} addresses (a /16) in total on a stack with "
                f"deletion protection, not {addresses}: list the operators' own ranges"
            ),
        )


# WSO2's documented default admin password and the stock keystore's: the first ones an attacker tries.
STOCK_ADMIN_PASSWORDS = ("admin", "wso2carbon")
STRONG_ADMIN_PASSWORD_LENGTH = 12


def admin_password_weakness(password: str, username: str) -> Optional[str]:
    """Why an admin password is weak, or None: a stock value, the user name, or too short."""
    if password.lower() in (*STOCK_ADMIN_PASSWORDS, username.lower()):
        return "is a stock value or the admin user name"
    if len(password) < STRONG_ADMIN_PASSWORD_LENGTH:
        return f"has fewer than {STRONG_ADMIN_PASSWORD_LENGTH} characters"
    return None


@_rule
def _admin_password_strength(v: Values):
    """Weak admin passwords are refused on a stack with deletion protection (posture warns on others)."""
    password = v["adminPassword"]
    if password is None or not (v["dbDeletionProtection"] or v["loadBalancerDeletionProtection"]):
        return
    weakness = admin_password_weakness(password.get_secret_value(), v["adminUsername"])
    if weakness:
        yield (
            "adminPassword",
            (
                f"{weakness}: on a stack with deletion protection it must have at least {STRONG_ADMIN_PASSWORD_LENGTH} "
                f"characters and be none of {', '.join(STOCK_ADMIN_PASSWORDS)} or adminUsername"
            ),
        )


def _is_within(host: str, zone: str) -> bool:
    return host == zone or host.endswith("." + zone)
