"""engine/run_program.py: how the program's failures reach the user when the engine has gone."""

from __future__ import annotations

import grpc
import pulumi

from engine import run_program


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
