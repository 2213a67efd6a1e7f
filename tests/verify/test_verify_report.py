"""Skipped checks: their own state, shown as SKIP, counted in RESULT, never a failure."""

from __future__ import annotations

import io
import json

import pytest

from verify.checks import CheckResult
from verify.report import JsonReport, TextReport, format_line, summary_line

PASSED = CheckResult("database db status", True, "available")
FAILED = CheckResult("database db public access", False, "publicly accessible (expected private)")
SKIPPED = CheckResult.skip("database schema", "not checked: SSM cannot run schema-status on manager (i-0a)")


def test_status_follows_ok_unless_skipped():
    assert (PASSED.status, PASSED.skipped) == ("pass", False)
    assert (FAILED.status, FAILED.skipped) == ("fail", False)
    assert (SKIPPED.status, SKIPPED.ok, SKIPPED.skipped) == ("skip", True, True)  # ok: it did not fail


@pytest.mark.parametrize("ok, status", [(False, "skip"), (False, "pass"), (True, "fail"), (True, "maybe")])
def test_inconsistent_status_is_refused(ok, status):
    with pytest.raises(ValueError, match="inconsistent CheckResult"):
        CheckResult("x", ok, "y", status)


def test_lines():
    assert format_line(PASSED) == "PASS  database db status: available"
    assert format_line(FAILED) == "FAIL  database db public access: publicly accessible (expected private)"
    assert format_line(SKIPPED) == "SKIP  database schema: not checked: SSM cannot run schema-status on manager (i-0a)"


@pytest.mark.parametrize(
    "results, line",
    [
        ([PASSED, PASSED], "RESULT: PASS - all 2 checks passed"),
        ([PASSED, SKIPPED], "RESULT: PASS - 1 of 2 checks passed, 1 skipped"),
        ([FAILED, PASSED], "RESULT: FAIL - 1 of 2 checks failed"),
        ([FAILED, SKIPPED, PASSED], "RESULT: FAIL - 1 of 3 checks failed, 1 skipped"),
    ],
)
def test_result_line_counts_skips(results, line):
    assert summary_line(results) == line
    out = io.StringIO()
    TextReport(out).finish(results)
    assert out.getvalue() == line + "\n"


def test_json_report_marks_the_skip_and_stays_ok():
    out = io.StringIO()
    JsonReport(out).finish([PASSED, SKIPPED])
    assert json.loads(out.getvalue()) == {
        "ok": True,
        "checks": [
            {"name": "database db status", "ok": True, "detail": "available", "status": "pass"},
            {
                "name": "database schema",
                "ok": True,
                "status": "skip",
                "detail": "not checked: SSM cannot run schema-status on manager (i-0a)",
            },
        ],
    }
    out = io.StringIO()
    JsonReport(out).finish([FAILED, SKIPPED])
    assert json.loads(out.getvalue())["ok"] is False
