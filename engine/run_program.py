"""Runs a Pulumi Python program for `language_host.py`, as Pulumi's own exec shim does.

Started by the language host with the project's virtualenv interpreter; it configures the SDK's
runtime from the engine's arguments and the config in the environment, then runs the program
(`__main__.py` of the entry point) inside the root stack resource. A `pulumi.RunError` (the
program's one-line config errors, for instance) is logged without a traceback; anything else is
logged with its traceback; an interrupt (the engine stopping the program after a failed step it
has reported) ends it quietly. Exit status 32 tells the host the user has already seen the error.
After a failed step the engine may stop listening before the program has finished; an error that
can no longer be logged through it is written to stderr as its first line, never as a traceback;
so is an exception Python can only report as "ignored" (a coroutine closed outside its loop).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import runpy
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

import grpc
import pulumi
import pulumi.runtime

USER_ACTIONABLE_EXIT = 32  # tells the language host the user has seen the error (Pulumi's exec shim: 32 too)


def report_error(message: str) -> None:
    """Log `message` as an error through the engine, or its first line on stderr if the engine has gone."""
    try:
        pulumi.log.error(message)
    except grpc.RpcError:
        print(f"error: {message.splitlines()[0] if message else 'the program failed'}", file=sys.stderr)


def report_unraisable(unraisable) -> None:
    """sys.unraisablehook: one line, not a traceback. After the engine stops the program, the SDK's
    unfinished `run_pulumi_func` coroutine is closed outside its event loop, and its shutdown step
    fails with "no running event loop"; nothing is lost then, and the user has seen the real error."""
    print(f"note: while shutting down: {unraisable.exc_type.__name__}: {unraisable.exc_value}", file=sys.stderr)


def main() -> int:
    sys.unraisablehook = report_unraisable
    parser = argparse.ArgumentParser()
    for flag in (
        "project",
        "root_directory",
        "stack",
        "parallel",
        "dry_run",
        "pwd",
        "monitor",
        "engine",
        "tracing",
        "organization",
    ):
        parser.add_argument(f"--{flag}")
    parser.add_argument("PROGRAM")
    parser.add_argument("ARGS", nargs="*")
    args = parser.parse_args()

    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env())
    settings = pulumi.runtime.Settings(
        monitor=args.monitor,
        engine=args.engine,
        project=args.project,
        stack=args.stack,
        parallel=int(args.parallel or 0),
        dry_run=args.dry_run == "true",
        organization=args.organization,
        root_directory=args.root_directory,
    )
    pulumi.runtime.configure(settings)
    if args.pwd:
        os.chdir(args.pwd)
    program = args.PROGRAM if args.PROGRAM.endswith(".py") else os.path.join(args.PROGRAM, "__main__.py")
    sys.argv = [program, *args.ARGS]
    sys.path.insert(0, os.path.dirname(os.path.abspath(program)))

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    executor = ThreadPoolExecutor(max_workers=max(settings.parallel or 1, 1) * 4)
    loop.set_default_executor(executor)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # unobserved futures after a failure
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
        return 0
    except pulumi.RunError as error:
        report_error(str(error))
        return 1
    except KeyboardInterrupt:  # the engine stopped the program after a failed step it has reported
        return USER_ACTIONABLE_EXIT
    except Exception:  # noqa: BLE001 - every other failure is shown with its traceback
        report_error("Program failed with an unhandled exception:\n" + traceback.format_exc())
        return USER_ACTIONABLE_EXIT
    finally:
        executor.shutdown(wait=True)
        loop.close()
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
