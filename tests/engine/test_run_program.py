"""engine/run_program.py: how the program's failures reach the user when the engine has gone."""

from __future__ import annotations

import subprocess
import sys

import grpc
import pulumi

from engine import run_program
from offline.stack_config import ROOT


class _EngineGone(grpc.RpcError):
    """What the SDK's Log stub raises once the CLI has stopped listening."""


def test_an_error_the_engine_can_no_longer_log_is_one_line_on_stderr(monkeypatch, capsys):
    def refuse(message, *args, **kwargs):
        raise _EngineGone()

    monkeypatch.setattr(pulumi.log, "error", refuse)
    run_program.report_error("Program failed with an unhandled exception:\nTraceback (most recent call last):\n  ...")

    captured = capsys.readouterr()
    assert captured.err == "error: Program failed with an unhandled exception:\n"
    assert captured.out == ""


def test_an_error_goes_through_the_engine_while_it_listens(monkeypatch, capsys):
    logged = []
    monkeypatch.setattr(pulumi.log, "error", logged.append)
    run_program.report_error("Resource monitor has terminated, shutting down")

    assert logged == ["Resource monitor has terminated, shutting down"]
    assert capsys.readouterr().err == ""


def test_an_exception_python_can_only_ignore_is_one_line_on_stderr():
    """What the SDK's run_pulumi_func does when the engine stopped the program: closed outside its
    loop, its `finally` awaits the callbacks' shutdown, which raises; Python reports it "ignored"."""
    script = """
import asyncio, sys
from engine import run_program
sys.unraisablehook = run_program.report_unraisable

class Suspend:
    def __await__(self):
        yield  # where the engine stopped the program

async def run_pulumi_func():
    try:
        await Suspend()
    finally:
        asyncio.get_running_loop()  # what _CallbackServicer.shutdown does first

coroutine = run_pulumi_func()
coroutine.send(None)
del coroutine  # collected at exit: Python closes it and can only ignore what that raises
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "note: while shutting down: RuntimeError: no running event loop\n"
