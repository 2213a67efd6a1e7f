"""--json: one machine-readable document on stdout, nothing else."""

from __future__ import annotations

import json


def test_json_report_of_a_healthy_cluster(cluster, run_verify):
    run = run_verify(cluster.outputs, "--json")
    assert run.code == 0
    document = json.loads(run.out)  # the whole of stdout is the JSON document
    assert set(document) == {"ok", "checks"}
    assert document["ok"] is True
    assert len(document["checks"]) == 36
    for check in document["checks"]:
        assert set(check) == {"name", "ok", "detail", "status"}
        assert isinstance(check["name"], str) and isinstance(check["detail"], str) and check["ok"] is True
        assert check["status"] == "pass"
    assert not any(line.startswith(("PASS", "FAIL", "--", "RESULT")) for line in run.lines)


def test_json_report_names_the_failure(cluster, run_verify):
    worker = cluster.outputs["workerInstanceIds"][1]
    cluster.ec2.modify_instance_metadata_options(InstanceId=worker, HttpTokens="optional")
    run = run_verify(cluster.outputs, "--json")
    assert run.code == 1
    document = json.loads(run.out)
    assert document["ok"] is False
    failed = [c for c in document["checks"] if not c["ok"]]
    assert failed == [
        {
            "name": f"worker-2 ({worker}) IMDSv2",
            "ok": False,
            "detail": "HttpTokens is optional (IMDSv2 not required)",
            "status": "fail",
        }
    ]
    assert sum(c["ok"] for c in document["checks"]) == 35


def test_json_mode_keeps_usage_errors_on_stderr(static_outputs, run_verify):
    del static_outputs["clusterPort"]
    run = run_verify(static_outputs, "--json")
    assert run.code == 2
    assert run.out == ""
    assert run.err.strip() == "error: stack outputs missing key(s): clusterPort"


def test_text_report_flushes_every_line():
    from verify.checks import CheckResult
    from verify.report import TextReport

    class Stream:
        def __init__(self):
            self.events = []

        def write(self, text):
            self.events.append(("write", text))

        def flush(self):
            self.events.append(("flush", None))

    stream = Stream()
    report = TextReport(stream)
    report.section("database")
    report.result(CheckResult("database db status", False, "stopped (expected available)"))
    report.finish([CheckResult("database db status", False, "stopped (expected available)")])
    assert stream.events == [
        ("write", "-- checking database\n"),
        ("flush", None),
        ("write", "FAIL  database db status: stopped (expected available)\n"),
        ("flush", None),
        ("write", "RESULT: FAIL - 1 of 1 checks failed\n"),
        ("flush", None),
    ]
