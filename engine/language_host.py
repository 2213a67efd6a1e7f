"""The Python language host (`pulumi-language-python`) the project's CLI build uses.

The Go module of Pulumi's own host (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
is not served by the module proxy this project's machines reach, at any version tried
(README: The real engine). This host speaks the same `LanguageRuntime` gRPC protocol
(pulumi/proto/language.proto, from the SDK's generated stubs) and runs the program the way
Pulumi's host does: the interpreter of the project's virtualenv (`runtime.options.virtualenv`)
starts `run_program.py` with the engine's arguments, `PULUMI_CONFIG` and
`PULUMI_CONFIG_SECRET_KEYS`; exit status 32 means the program already showed its error. The
required packages are the Pulumi plugins the virtualenv's packages declare (`pulumi-plugin.json`).
Everything else — config validation, the plan, steps, state — is the real CLI's.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from concurrent import futures
from pathlib import Path
from threading import Event

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

from engine.run_program import USER_ACTIONABLE_EXIT  # the program showed its error itself

RUN_PROGRAM = Path(__file__).resolve().parent / "run_program.py"


def virtualenv_python(info) -> str:
    """The interpreter of Pulumi.yaml's `runtime.options.virtualenv` (relative to the project)."""
    venv = (json_format.MessageToDict(info.options) if info.HasField("options") else {}).get("virtualenv")
    if not venv:
        return sys.executable
    path = Path(venv) if os.path.isabs(venv) else Path(info.root_directory) / venv
    python = path / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"Pulumi.yaml's virtualenv is {venv!r}, but {python} does not exist (make venv/.installed)"
        )
    return str(python)


def plugin_packages(python: str) -> list[dict]:
    """The resource plugins (name, version) that the virtualenv's packages declare."""
    script = (
        "import json, pathlib, site\n"
        "found = []\n"
        "for base in site.getsitepackages():\n"
        "    for f in sorted(pathlib.Path(base).glob('*/pulumi-plugin.json')):\n"
        "        found.append(json.loads(f.read_text()))\n"
        "print(json.dumps(found))\n"
    )
    output = subprocess.run([python, "-c", script], check=True, capture_output=True, text=True).stdout
    return [p for p in json.loads(output) if p.get("resource")]


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str = ""):
        self.engine_address = engine_address

    def Handshake(self, request, context):
        self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=importlib.metadata.version("pulumi"))

    def GetRequiredPackages(self, request, context):
        packages = [
            plugin_pb2.PackageDependency(
                name=p["name"], kind="resource", version=p.get("version", ""), server=p.get("server", "")
            )
            for p in plugin_packages(virtualenv_python(request.info))
        ]
        return language_pb2.GetRequiredPackagesResponse(packages=packages)

    def GetRequiredPlugins(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "GetRequiredPlugins is not implemented")

    def Run(self, request, context):
        args = [virtualenv_python(request.info), "-u", str(RUN_PROGRAM)]
        for flag, value in (
            ("monitor", request.monitor_address),
            ("engine", self.engine_address),
            ("project", request.project),
            ("root_directory", request.info.root_directory),
            ("stack", request.stack),
            ("pwd", request.pwd),
            ("dry_run", "true" if request.dryRun else "false"),
            ("parallel", str(request.parallel)),
            ("organization", request.organization),
        ):
            if value:
                args += [f"--{flag}", value]
        args.append(request.info.entry_point or ".")
        args += list(request.args)
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        code = subprocess.run(args, env=env, cwd=request.pwd or None).returncode
        if code == 0:
            return language_pb2.RunResponse()
        if code == USER_ACTIONABLE_EXIT:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {code}")

    def InstallDependencies(self, request, context):
        return iter(())  # `pulumi install` only; the project's Makefile installs the virtualenv

    def About(self, request, context):
        return language_pb2.AboutResponse(executable=sys.executable, version=sys.version.split()[0])

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def Cancel(self, request, context):
        return empty_pb2.Empty()


def main() -> None:
    positional = [a for a in sys.argv[1:] if not a.startswith("-")]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(positional[0] if positional else ""), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)  # the engine reads the port from the first line
    try:
        Event().wait()
    except KeyboardInterrupt:  # the engine interrupts its plugins when it is done
        server.stop(0)


if __name__ == "__main__":
    main()
