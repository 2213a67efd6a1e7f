"""A small offline Pulumi engine: runs the real program against mocks and records what it declares.

Used by the offline preview, the tests and the benchmarks. The mocks fabricate what AWS would
return (ids, ARNs, private IPs inside the subnet's CIDR, DNS names), deterministically, so the
same program gives the same inventory; nothing here decides what the program declares.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import dill
import pulumi
from pulumi.dynamic.dynamic import PROVIDER_KEY
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime import stack as pulumi_stack
from pulumi.runtime.sync_await import _sync_await

ACCOUNT_ID = "123456789012"
SECRET_SIG = rpc._special_secret_sig  # the marker of a secret value on the wire


_SECRET_OUTPUTS = {
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
    "aws:iam/accessKey:AccessKey": ("secret", "sesSmtpPasswordV4"),
    "tls:index/privateKey:PrivateKey": ("privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"),
    "aws:rds/instance:Instance": ("password",),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretString",),
}


@dataclass
class DeclaredResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]  # camelCase, as the engine receives them; secrets unwrapped
    outputs: dict[str, Any]  # as the mocks returned them; secrets unwrapped
    secret_inputs: frozenset[str]  # top-level input keys whose value is (or holds) a secret
    secret_outputs: frozenset[str]
    dependencies: frozenset[str]  # URNs of explicit and property dependencies
    options: dict[str, Any]  # deleteBeforeReplace, protect, ignoreChanges, replaceOnChanges, hooks (names)

    @property
    def id(self) -> Optional[str]:
        return self.outputs.get("id")


@dataclass
class Inventory:
    resources: list[DeclaredResource]
    outputs: dict[str, Any]  # stack outputs, resolved; secret ones as "[secret]"
    secret_outputs: frozenset[str]
    raw_outputs: dict[str, Any] = field(repr=False, default_factory=dict)  # with secret values
    warnings: list[str] = field(default_factory=list)  # what the program logged with pulumi.log.warn

    def of_type(self, type_token: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str) -> DeclaredResource:
        found = [r for r in self.of_type(type_token) if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_token} named {name}")
        return found[0]

    def by_urn(self, urn: str) -> DeclaredResource:
        return self._by_urn[urn]

    def __post_init__(self) -> None:
        self._by_urn = {r.urn: r for r in self.resources}
        self._children: dict[str, list[str]] = {}
        for r in self.resources:
            self._children.setdefault(r.parent, []).append(r.urn)

    def prerequisites(self, urn: str) -> set[str]:
        """URNs that must exist before `urn`: its dependencies, where a dependency on a
        component is a dependency on everything inside it."""
        found: set[str] = set()
        todo = list(self._by_urn[urn].dependencies)
        while todo:
            dep = todo.pop()
            if dep in found or dep not in self._by_urn:
                continue
            found.add(dep)
            todo.extend(self._children.get(dep, []))
        return found

    def depends_on(self, resource: DeclaredResource, target_urn: str) -> bool:
        """True if `resource` depends on `target_urn` directly or through others."""
        seen: set[str] = set()
        todo = [resource.urn]
        while todo:
            for dep in self.prerequisites(todo.pop()):
                if dep == target_urn:
                    return True
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return False


class AwsMocks(pulumi.runtime.Mocks):
    """Plausible, deterministic stand-ins for what AWS returns."""

    def __init__(self, region: str = "eu-west-1"):
        self.region = region
        self.partition = _partition(region)
        self._subnet_cidrs: dict[str, str] = {}
        self._taken: dict[str, set] = {}
        self._eni_ips: dict[str, str] = {}

    def _hex(self, *parts: str, n: int = 17) -> str:
        return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]

    def _arn(self, service: str, resource: str) -> str:
        region = "" if service in ("iam", "route53") else self.region
        account = "" if service == "route53" else ACCOUNT_ID
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def _allocate_ip(self, subnet_id: str, eni_name: str, requested: Optional[str]) -> str:
        """A free address of the subnet picked from the ENI's name, so that an ENI keeps its IP
        whatever order the program registers ENIs in (as a real ENI keeps its IP)."""
        if requested:
            return requested
        network = ipaddress.IPv4Network(self._subnet_cidrs.get(subnet_id, "10.99.0.0/24"))
        usable = network.num_addresses - 5  # AWS reserves the first four and the last address
        taken = self._taken.setdefault(subnet_id, set())
        offset = int(self._hex(eni_name, n=8), 16) % usable
        while network[4 + offset] in taken:
            offset = (offset + 1) % usable
        taken.add(network[4 + offset])
        return str(network[4 + offset])

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        t, name, inputs = args.typ, args.name, dict(args.inputs)
        h = self._hex(t, name)
        out = dict(inputs)
        rid = f"{name}-{h[:8]}"
        if t == "aws:ec2/vpc:Vpc":
            rid = f"vpc-{h}"
            out["arn"] = self._arn("ec2", f"vpc/{rid}")
        elif t == "aws:ec2/subnet:Subnet":
            rid = f"subnet-{h}"
            self._subnet_cidrs[rid] = inputs["cidrBlock"]
            out["arn"] = self._arn("ec2", f"subnet/{rid}")
        elif t == "aws:ec2/networkInterface:NetworkInterface":
            rid = f"eni-{h}"
            ip = self._allocate_ip(inputs["subnetId"], name, inputs.get("privateIp"))
            self._eni_ips[rid] = ip
            out.update(privateIp=ip, privateIps=[ip], arn=self._arn("ec2", f"network-interface/{rid}"))
        elif t == "aws:ec2/instance:Instance":
            rid = f"i-{h}"
            eni = (inputs.get("primaryNetworkInterface") or {}).get("networkInterfaceId")
            out.update(
                privateIp=self._eni_ips.get(eni, ""),
                arn=self._arn("ec2", f"instance/{rid}"),
                primaryNetworkInterfaceId=eni,
                instanceState="running",
            )
        elif t == "aws:ec2/securityGroup:SecurityGroup":
            rid = f"sg-{h}"
            out.setdefault("name", f"{name}-{h[:7]}")
            out["arn"] = self._arn("ec2", f"security-group/{rid}")
        elif t in (
            "aws:ec2/internetGateway:InternetGateway",
            "aws:ec2/natGateway:NatGateway",
            "aws:ec2/routeTable:RouteTable",
            "aws:ec2/eip:Eip",
        ):
            prefix = {"InternetGateway": "igw", "NatGateway": "nat", "RouteTable": "rtb", "Eip": "eipalloc"}
            rid = f"{prefix[t.rsplit(':', 1)[1]]}-{h}"
            if t.endswith("Eip"):
                out["publicIp"] = f"198.51.100.{int(h[:2], 16) % 250 + 1}"
        elif t == "aws:lb/loadBalancer:LoadBalancer":
            lb_name = inputs.get("name") or f"{name}-{h[:7]}"
            rid = self._arn("elasticloadbalancing", f"loadbalancer/app/{lb_name}/{h[:16]}")
            out.update(
                arn=rid,
                arnSuffix=f"app/{lb_name}/{h[:16]}",
                zoneId="Z32O12XQLNTSW2",
                dnsName=f"{lb_name}-{int(h[:8], 16)}.{self.region}.elb.amazonaws.com",
            )
        elif t == "aws:lb/targetGroup:TargetGroup":
            tg_name = inputs.get("name") or f"{name}-{h[:7]}"
            rid = self._arn("elasticloadbalancing", f"targetgroup/{tg_name}/{h[:16]}")
            out.update(arn=rid, arnSuffix=f"targetgroup/{tg_name}/{h[:16]}")
        elif t == "aws:lb/listener:Listener":
            rid = self._arn("elasticloadbalancing", f"listener/app/{name}/{h[:16]}")
            out["arn"] = rid
        elif t == "aws:rds/instance:Instance":
            identifier = inputs.get("identifier") or f"{name}-{h[:7]}"
            rid = identifier
            address = f"{identifier}.c{h[:10]}.{self.region}.rds.amazonaws.com"
            out.update(
                identifier=identifier,
                address=address,
                endpoint=f"{address}:3306",
                port=3306,
                arn=self._arn("rds", f"db:{identifier}"),
                resourceId=f"db-{h.upper()[:26]}",
            )
        elif t == "aws:secretsmanager/secret:Secret":
            secret_name = inputs.get("name") or f"{name}-{h[:7]}"
            rid = self._arn("secretsmanager", f"secret:{secret_name}-{h[:6]}")
            out.update(arn=rid, name=secret_name)
        elif t == "aws:secretsmanager/secretVersion:SecretVersion":
            # a new value is a new version, as in Secrets Manager
            version_id = _uuid(self._hex(name, str(inputs.get("secretString")), n=32))
            rid = f"{inputs.get('secretId')}|{version_id}"
            out.update(arn=inputs.get("secretId"), versionId=version_id)
        elif t in (
            "aws:iam/role:Role",
            "aws:iam/user:User",
            "aws:iam/instanceProfile:InstanceProfile",
            "aws:iam/policy:Policy",
            "aws:iam/group:Group",
        ):
            kind = {
                "Role": "role",
                "User": "user",
                "InstanceProfile": "instance-profile",
                "Policy": "policy",
                "Group": "group",
            }[t.rsplit(":", 1)[1]]
            iam_name = inputs.get("name") or f"{name}-{h[:7]}"
            rid = iam_name
            out.update(name=iam_name, arn=self._arn("iam", f"{kind}/{iam_name}"), uniqueId=f"AID{h.upper()[:17]}")
        elif t == "aws:iam/accessKey:AccessKey":
            rid = f"AKIA{h.upper()[:16]}"
            out.update(id=rid, secret=f"mock-secret-access-key-{h}")
        elif t == "aws:route53/zone:Zone":
            rid = f"Z{h.upper()[:20]}"
            out.update(zoneId=rid, arn=self._arn("route53", f"hostedzone/{rid}"))
        elif t == "aws:route53/record:Record":
            rid = f"{inputs.get('zoneId')}_{inputs.get('name')}_{inputs.get('type')}"
            out["fqdn"] = inputs.get("name")
        elif t == "aws:acm/certificate:Certificate":
            rid = self._arn("acm", f"certificate/{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}")
            out["arn"] = rid
        elif t == "aws:rds/parameterGroup:ParameterGroup" or t == "aws:rds/subnetGroup:SubnetGroup":
            rid = inputs.get("name") or f"{name}-{h[:7]}"
            out.update(name=rid, arn=self._arn("rds", f"pg:{rid}"))
        elif t == "aws:s3/bucket:Bucket":
            # the bucket's name is its id (bucket, else bucket_prefix + a unique suffix)
            rid = inputs.get("bucket") or (
                f"{inputs['bucketPrefix']}{h[:26]}" if inputs.get("bucketPrefix") else f"{name}-{h[:8]}"
            )
            out.update(bucket=rid, arn=f"arn:aws:s3:::{rid}", bucketDomainName=f"{rid}.s3.amazonaws.com")
        elif t == "aws:cloudwatch/logGroup:LogGroup":
            rid = inputs.get("name") or f"{name}-{h[:7]}"
            out.update(name=rid, arn=self._arn("logs", f"log-group:{rid}"))
        elif t == "random:index/randomId:RandomId":
            size = int(inputs.get("byteLength", 8))
            out.update(
                hex=h[: 2 * size],
                dec=str(int(h[: 2 * size], 16)),
                b64Std=base64.b64encode(bytes.fromhex(h[: 2 * size])).decode(),
            )
        elif t == "pulumi:index:Stash":
            out["output"] = inputs.get("input")  # a stash's output is the input it was created with
        elif t.startswith("pulumi-python:dynamic"):
            # Run the dynamic provider's own create (the project's providers make no cloud call there).
            provider = dill.loads(base64.b64decode(inputs[PROVIDER_KEY]))
            props = {k: v for k, v in inputs.items() if k != PROVIDER_KEY}
            result = provider.create(props)
            rid, out = result.id, {**inputs, **(result.outs or {})}
        elif t == "aws:kms/key:Key":
            rid = _uuid(self._hex(t, name, n=32))
            out.update(keyId=rid, arn=self._arn("kms", f"key/{rid}"))
        elif t == "aws:sns/topic:Topic":
            topic = inputs.get("name") or f"{name}-{h[:7]}"
            rid = self._arn("sns", topic)
            out.update(arn=rid, name=topic)
        elif t == "aws:ssm/parameter:Parameter":
            rid = inputs["name"]
            out["arn"] = self._arn("ssm", f"parameter/{rid.lstrip('/')}")
        elif t == "aws:efs/fileSystem:FileSystem":
            rid = f"fs-{h}"
            out.update(
                arn=self._arn("elasticfilesystem", f"file-system/{rid}"),
                dnsName=f"{rid}.efs.{self.region}.amazonaws.com",
            )
        elif t == "aws:cloudwatch/metricAlarm:MetricAlarm":
            alarm = inputs.get("name") or f"{name}-{h[:7]}"
            rid = alarm
            out.update(name=alarm, arn=self._arn("cloudwatch", f"alarm:{alarm}"))
        elif t == "aws:wafv2/webAcl:WebAcl":
            acl = inputs.get("name") or f"{name}-{h[:7]}"
            rid = _uuid(self._hex(t, name, n=32))
            out.update(name=acl, arn=self._arn("wafv2", f"regional/webacl/{acl}/{rid}"))
        elif t == "random:index/randomPassword:RandomPassword":
            out["result"] = f"Mock{h}Pw1"
        elif t == "tls:index/privateKey:PrivateKey":
            out.update(
                privateKeyPem=f"-----BEGIN PRIVATE KEY-----\nmock{h}\n-----END PRIVATE KEY-----\n",
                publicKeyPem="-----BEGIN PUBLIC KEY-----\nmock\n-----END PUBLIC KEY-----\n",
            )
        elif t == "tls:index/selfSignedCert:SelfSignedCert":
            out["certPem"] = f"-----BEGIN CERTIFICATE-----\nmock{h}\n-----END CERTIFICATE-----\n"
        out.setdefault("arn", self._arn(t.split(":")[1].split("/")[0], f"{name}/{h[:12]}"))
        out["id"] = rid
        for key in _SECRET_OUTPUTS.get(t, ()):  # what the real engine marks secret by provider schema
            if key in out:
                out[key] = {rpc._special_sig_key: SECRET_SIG, "value": out[key]}
        return rid, out

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        token, a = args.token, args.args
        if token == "aws:ssm/getParameter:getParameter":
            value = "ami-0a1b2c3d4e5f60718" if "x86_64" in a["name"] else "ami-0f1e2d3c4b5a69788"
            return {"name": a["name"], "value": value, "insecureValue": value, "type": "String"}
        if token == "aws:ec2/getAmi:getAmi":
            return {"id": "ami-0a1b2c3d4e5f60718", "architecture": "x86_64"}
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{s}" for s in "abcd"]
            return {"names": names, "zoneIds": [f"euw1-az{i}" for i in range(1, 5)], "id": self.region}
        if token in ("aws:index/getRegion:getRegion",):
            return {"name": self.region, "region": self.region, "id": self.region}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
                "userId": "AIDAMOCK",
                "id": ACCOUNT_ID,
            }
        if token == "aws:ec2/getSubnet:getSubnet":
            subnet_id = a.get("id", "subnet-unknown")
            index = int(self._hex(subnet_id, n=2), 16) % 2
            return {
                "id": subnet_id,
                "availabilityZone": f"{self.region}{'ab'[index]}",
                "cidrBlock": f"10.99.{int(self._hex(subnet_id, n=2), 16)}.0/24",
                "vpcId": a.get("vpcId", "vpc-existing"),
            }
        if token == "aws:ec2/getVpc:getVpc":
            return {"id": a.get("id"), "cidrBlock": "10.99.0.0/16", "arn": self._arn("ec2", f"vpc/{a.get('id')}")}
        raise NotImplementedError(f"the offline engine has no mock for the call {token}")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also records each registration's dependencies and options."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.declared: list[DeclaredResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.secret_stack_outputs: set[str] = set()
        self.stack_urn = ""

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
            return response
        inputs, secret_inputs = _unwrap_secrets(rpc.deserialize_properties(request.object, keep_internal=False))
        deps = set(request.dependencies)
        for property_deps in request.propertyDependencies.values():
            deps.update(property_deps.urns)
        outputs, secret_outputs = _unwrap_secrets(self.resources[response.urn].state)
        self.declared.append(
            DeclaredResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=request.custom,
                inputs=inputs,
                outputs=outputs,
                secret_inputs=frozenset(secret_inputs),
                secret_outputs=frozenset(secret_outputs),
                dependencies=frozenset(deps),
                options={
                    "deleteBeforeReplace": request.deleteBeforeReplace,
                    "protect": request.protect,
                    "ignoreChanges": list(request.ignoreChanges),
                    "replaceOnChanges": list(request.replaceOnChanges),
                    "customTimeouts": {
                        "create": request.customTimeouts.create,
                        "update": request.customTimeouts.update,
                        "delete": request.customTimeouts.delete,
                    },
                    "hooks": {field.name: list(value) for field, value in request.hooks.ListFields()},
                },
            )
        )
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn == self.stack_urn:
            outputs, secrets = _unwrap_secrets(rpc.deserialize_properties(request.outputs, keep_internal=False))
            self.stack_outputs = outputs
            self.secret_stack_outputs = set(secrets)
        return super().RegisterResourceOutputs(request)


def _unwrap_secrets(props: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Plain values and the top-level keys that held a secret. Whole numbers come back as ints,
    as `pulumi stack output --json` prints them (the wire format has only floats)."""
    secret_keys: set[str] = set()

    def unwrap(value: Any) -> tuple[Any, bool]:
        if isinstance(value, float) and value.is_integer():
            return int(value), False
        if isinstance(value, dict):
            if value.get(rpc._special_sig_key) == SECRET_SIG:
                inner, _ = unwrap(value.get("value"))
                return inner, True
            pairs = {k: unwrap(v) for k, v in value.items()}
            return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
        if isinstance(value, list):
            pairs = [unwrap(v) for v in value]
            return [v for v, _ in pairs], any(s for _, s in pairs)
        return value, False

    result = {}
    for key, value in props.items():
        result[key], secret = unwrap(value)
        if secret:
            secret_keys.add(key)
    return result, secret_keys


_PROGRAM_LOG = logging.getLogger("offline-engine.program")
_PROGRAM_LOG.propagate = False


class _WarningRecorder(logging.Handler):
    """Keeps the program's log messages of warning level (pulumi.log.warn)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _uuid(hex_digits: str) -> str:
    """A UUID-shaped id (KMS key ids, Secrets Manager version ids) from 32 hex digits."""
    h = hex_digits
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _partition(region: str) -> str:
    """The region's partition; `aws` for a name botocore does not know (the program reports it)."""
    from components.aws_facts import partition_of  # botocore's partition data

    try:
        return partition_of(region).name
    except KeyError:
        return "aws"


def run_program(
    program: Callable[[], None],
    config: Mapping[str, str],
    *,
    secret_keys: tuple[str, ...] = (),
    project: str = "wso2-cluster",
    stack: str = "dev",
    mocks: Optional[pulumi.runtime.Mocks] = None,
) -> Inventory:
    """Run `program` (e.g. the body of __main__.py) under mocks; return what it declared.

    Config is set before the program runs, as the Pulumi CLI would pass it (string values,
    `namespace:key`). Each call starts from a fresh runtime, so calls are independent.
    """
    region = str(config.get("aws:region", "eu-west-1"))
    monitor = RecordingMonitor(mocks or AwsMocks(region))
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    settings.ROOT.set(None)
    warnings = _WarningRecorder()
    pulumi_mocks.set_mocks(
        monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor, logger=_PROGRAM_LOG
    )
    settings.ROOT.set(None)  # set_mocks made a root stack; run_in_stack makes the one we record
    _PROGRAM_LOG.addHandler(warnings)
    try:
        _sync_await(pulumi_stack.run_in_stack(program))
    finally:
        _PROGRAM_LOG.removeHandler(warnings)
    public = {k: ("[secret]" if k in monitor.secret_stack_outputs else v) for k, v in monitor.stack_outputs.items()}
    return Inventory(
        resources=list(monitor.declared),
        outputs=public,
        secret_outputs=frozenset(monitor.secret_stack_outputs),
        raw_outputs=dict(monitor.stack_outputs),
        warnings=warnings.messages,
    )
