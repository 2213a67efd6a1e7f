"""A cloud double: Pulumi resource-provider plugins (`aws`, `random`, `tls`) that keep their
"cloud" in a JSON file instead of calling AWS.

The real Pulumi CLI starts them like the real plugins (found on PATH as `pulumi-resource-<name>`)
and speaks the provider gRPC protocol to them (the SDK's generated stubs). So the engine's own
logic runs for real: checks, diffs, create/update/delete/replace steps, delete-before-replace,
dependent replacements, protect, refresh. What the double decides:

- outputs: computed by the offline engine's `AwsMocks` (ids, ARNs, IPs inside the subnet),
  with a per-create generation in every id, so a replacement gets a new id, as in AWS;
- Diff: the changed top-level inputs, and as replacements those the Terraform providers behind
  pulumi-aws, pulumi-random and pulumi-tls replace on (offline/replacements.py, which the offline
  preview's change marks read too);
- the cloud's state (`$WSO2_DOUBLE_DIR/<package>.json`), which outlives one `pulumi` run and
  which tests read to see what exists.

With `WSO2_DOUBLE_MOTO` set to a moto server's URL, EC2 instances, target groups and their
attachments are also made in moto, under the ids the double reports, so code that calls AWS
during `pulumi up` (the health gates) sees them; a test controls a target's health by stopping
its instance in moto.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import threading
import uuid
from concurrent import futures
from pathlib import Path
from threading import Event
from typing import Any, Optional

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from e2e.double import moto_mirror
from offline.engine import AwsMocks
from offline.replacements import replacing_keys, value_at

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker of an unknown value
SECRET_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def plain(value: Any) -> Any:
    """A property value with every secret marker removed."""
    if isinstance(value, dict):
        if value.get(SECRET_KEY) == SECRET_SIG:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def has_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def diff(type_: str, old_inputs: dict, news: dict, ignore: set[str]) -> tuple[list[str], list[str]]:
    """(changed top-level keys, keys whose change forces a replacement)."""
    olds, news = plain(old_inputs), plain(news)

    def differs(key: str, path: list[str]) -> bool:
        return has_unknown(news.get(key)) or value_at(olds.get(key), path) != value_at(news.get(key), path)

    changed = sorted(k for k in set(olds) | set(news) if k not in ignore and k != "__defaults" and differs(k, []))
    return changed, replacing_keys(type_, olds, news, changed, differs)


class Cloud:
    """The double's persistent state: every resource it made, and the mocks' allocations."""

    def __init__(self, package: str):
        root = Path(os.environ.get("WSO2_DOUBLE_DIR", "build/double"))
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"{package}.json"
        self.lock = threading.Lock()
        # `seed` makes ids differ between clouds (e.g. two tests sharing one moto server).
        self.data = (
            json.loads(self.path.read_text())
            if self.path.exists()
            else {
                "seed": uuid.uuid4().hex[:8],
                "generation": 0,
                "resources": {},
                "subnets": {},
                "taken": {},
                "eniIps": {},
            }
        )

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        tmp.replace(self.path)


class SaltedMocks(AwsMocks):
    """AwsMocks whose ids carry a generation (a replacement is a new resource) and whose
    allocations (subnet CIDRs, taken IPs, ENI IPs) live in the double's cloud."""

    salt = ""

    def _hex(self, *parts: str, n: int = 17) -> str:
        return super()._hex(*parts, self.salt, n=n)

    def load(self, cloud: Cloud) -> None:
        self._subnet_cidrs = dict(cloud.data["subnets"])
        self._taken = {k: {ipaddress.IPv4Address(ip) for ip in v} for k, v in cloud.data["taken"].items()}
        self._eni_ips = dict(cloud.data["eniIps"])

    def store(self, cloud: Cloud) -> None:
        cloud.data["subnets"] = self._subnet_cidrs
        cloud.data["taken"] = {k: sorted(str(ip) for ip in v) for k, v in self._taken.items()}
        cloud.data["eniIps"] = self._eni_ips


class _Args:  # what AwsMocks.new_resource and .call read of the SDK's mock arguments
    def __init__(
        self, typ: str = "", name: str = "", inputs: Optional[dict] = None, token: str = "", args: Optional[dict] = None
    ):
        self.typ, self.name, self.inputs, self.token, self.args = typ, name, inputs or {}, token, args or {}


def _to_dict(struct: struct_pb2.Struct) -> dict:
    return json_format.MessageToDict(struct)


def _to_struct(value: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def _with_secrets(outputs: dict, inputs: dict) -> dict:
    """Outputs that echo a secret input stay secret (as the bridge keeps them)."""
    result = dict(outputs)
    for key, value in inputs.items():
        if isinstance(value, dict) and value.get(SECRET_KEY) == SECRET_SIG and key in result:
            result[key] = {SECRET_KEY: SECRET_SIG, "value": plain(result[key])}
    return result


class DoubleProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, package: str, version: str):
        self.package, self.version = package, version
        self.cloud = Cloud(package)
        self.mocks = SaltedMocks(region=os.environ.get("AWS_REGION", "eu-west-1"))
        self.moto = moto_mirror.from_environment() if package == "aws" else None

    # --- plugin and provider configuration
    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=self.version)

    def Handshake(self, request, context):
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True, accept_resources=True, accept_outputs=False)

    def CheckConfig(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request, context):
        changed = plain(_to_dict(request.olds)) != plain(_to_dict(request.news))
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE
        )

    def Configure(self, request, context):
        config = plain(_to_dict(request.args)) | {k.split(":")[-1]: v for k, v in request.variables.items()}
        region = config.get("region")
        if isinstance(region, str) and region and region != UNKNOWN:
            self.mocks = SaltedMocks(region=region)
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True, acceptResources=True)

    def Cancel(self, request, context):
        return empty_pb2.Empty()

    def GetSchema(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "the cloud double has no schema")

    # --- functions
    def Invoke(self, request, context):
        args = plain(_to_dict(request.args))
        try:
            result = self.mocks.call(_Args(token=request.tok, args=args))
        except NotImplementedError as error:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, str(error))
        return provider_pb2.InvokeResponse(**{"return": _to_struct(result)})

    # --- resources
    def Check(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def Diff(self, request, context):
        old_inputs = _to_dict(request.old_inputs if request.HasField("old_inputs") else request.olds)
        changed, replaces = diff(
            request.type or _type_of(request.urn), old_inputs, _to_dict(request.news), set(request.ignoreChanges)
        )
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed, replaces=replaces)

    def Create(self, request, context):
        inputs = _to_dict(request.properties)
        if request.preview:
            return provider_pb2.CreateResponse(id="", properties=request.properties)
        type_, name = request.type or _type_of(request.urn), request.name or request.urn.rsplit("::", 1)[-1]
        with self.cloud.lock:
            self.cloud.data["generation"] += 1
            salt = f"{self.cloud.data['seed']}-{self.cloud.data['generation']}"
            rid, outputs = self._compute(type_, name, inputs, salt)
            if self.moto:
                rid, outputs = self.moto.created(type_, rid, plain(outputs))
            self.cloud.data["resources"][rid] = {
                "type": type_,
                "name": name,
                "salt": salt,
                "inputs": inputs,
                "outputs": outputs,
            }
            self.cloud.save()
        return provider_pb2.CreateResponse(id=rid, properties=_to_struct(outputs))

    def Update(self, request, context):
        news, olds = _to_dict(request.news), _to_dict(request.olds)
        if request.preview:
            return provider_pb2.UpdateResponse(properties=_to_struct({**olds, **news}))
        type_ = request.type or _type_of(request.urn)
        with self.cloud.lock:
            record = self.cloud.data["resources"].get(request.id)
            if record is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"{type_} {request.id} does not exist in the cloud double")
            compute_inputs = dict(news)
            if type_ == "aws:ec2/networkInterface:NetworkInterface":  # an ENI keeps its address
                compute_inputs["privateIp"] = plain(olds.get("privateIp"))
            _, outputs = self._compute(type_, record["name"], compute_inputs, record["salt"])
            # an update keeps the resource's identity (its ARN may be moto's, made at create)
            outputs.update({k: record["outputs"][k] for k in ("arn", "arnSuffix") if k in record["outputs"]})
            outputs["id"] = request.id
            record.update(inputs=news, outputs=outputs)
            self.cloud.save()
        return provider_pb2.UpdateResponse(properties=_to_struct(outputs))

    def Delete(self, request, context):
        type_ = request.type or _type_of(request.urn)
        with self.cloud.lock:
            record = self.cloud.data["resources"].pop(request.id, None)
            if record and type_ == "aws:ec2/networkInterface:NetworkInterface":
                self._release_ip(plain(record["outputs"]))
            if record and self.moto:
                self.moto.deleted(type_, request.id, plain(record["outputs"]))
            self.cloud.save()
        return empty_pb2.Empty()

    def Read(self, request, context):
        with self.cloud.lock:
            record = self.cloud.data["resources"].get(request.id)
        if record is None:
            return provider_pb2.ReadResponse(id="")  # gone: refresh drops it from the state
        return provider_pb2.ReadResponse(
            id=request.id, properties=_to_struct(record["outputs"]), inputs=_to_struct(record["inputs"])
        )

    # --- helpers
    def _compute(self, type_: str, name: str, inputs: dict, salt: str):
        self.mocks.load(self.cloud)
        self.mocks.salt = salt
        rid, outputs = self.mocks.new_resource(_Args(typ=type_, name=name, inputs=plain(inputs)))
        self.mocks.store(self.cloud)
        outputs = {k: v for k, v in outputs.items() if v is not None}
        return rid, _with_secrets(outputs, inputs)

    def _release_ip(self, outputs: dict) -> None:
        taken = self.cloud.data["taken"].get(outputs.get("subnetId"), [])
        if outputs.get("privateIp") in taken:
            taken.remove(outputs["privateIp"])
        self.cloud.data["eniIps"].pop(outputs.get("id"), None)


def _type_of(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def serve(package: str) -> None:
    version = _sdk_version(package)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(DoubleProvider(package, version), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        Event().wait()
    except KeyboardInterrupt:  # the engine interrupts its plugins when it is done
        server.stop(0)


def _sdk_version(package: str) -> str:
    """The plugin version the package's SDK asks for (its pulumi-plugin.json)."""
    import importlib.util

    spec = importlib.util.find_spec(f"pulumi_{package}")
    info = json.loads((Path(spec.origin).parent / "pulumi-plugin.json").read_text())
    return info["version"]


if __name__ == "__main__":
    serve(sys.argv[1])
