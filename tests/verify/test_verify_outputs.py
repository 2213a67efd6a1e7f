"""Loading the stack outputs: the contract, one-line errors with exit 2, and the pulumi CLI."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from verify.__main__ import main
from verify.outputs import StackOutputs, parse_outputs


def one_line(run) -> str:
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert run.out == ""
    return lines[0]


def test_contract_keys_are_the_documented_ones():
    assert sorted(f.alias or name for name, f in StackOutputs.model_fields.items()) == sorted(
        [
            "region",
            "managerInstanceId",
            "managerPrivateIp",
            "workerInstanceIds",
            "workerPrivateIps",
            "nodeSecurityGroupId",
            "nodeSecurityGroupName",
            "databaseSecurityGroupId",
            "clusterPort",
            "discoveryTagKey",
            "discoveryTagValue",
            "targetGroupArns",
            "databaseInstanceId",
            "serviceUrlHttp",
            "serviceUrlHttps",
            "managementConsoleUrl",
            "logGroupNames",
            "databaseNames",
            "managementAllowedCidrs",
        ]
    )


def test_nodes_are_manager_then_numbered_workers(static_outputs):
    nodes = parse_outputs(static_outputs).nodes()
    assert [(n.label, n.instance_id, n.private_ip) for n in nodes] == [
        ("manager", "i-0aaaaaaaaaaaaaaa0", "10.20.1.10"),
        ("worker-1", "i-0bbbbbbbbbbbbbbb1", "10.20.1.20"),
        ("worker-2", "i-0ccccccccccccccc2", "10.20.2.21"),
    ]


def test_missing_key_is_exit_2_with_one_line_naming_it(static_outputs, run_verify):
    del static_outputs["databaseInstanceId"]
    run = run_verify(static_outputs)
    assert run.code == 2
    assert one_line(run) == "error: stack outputs missing key(s): databaseInstanceId"


def test_several_missing_and_ill_typed_keys_share_one_line(static_outputs, run_verify):
    del static_outputs["databaseInstanceId"], static_outputs["region"]
    static_outputs["clusterPort"] = "5701"
    static_outputs["workerInstanceIds"] = ["i-1", 7]
    run = run_verify(static_outputs)
    assert run.code == 2
    line = one_line(run)
    assert line.startswith("error: stack outputs missing key(s): region, databaseInstanceId; invalid: ")
    assert "clusterPort: Input should be a valid integer (got str '5701')" in line
    assert "workerInstanceIds.1: Input should be a valid string (got int 7)" in line


def test_service_url_http_may_be_absent(static_outputs):
    del static_outputs["serviceUrlHttp"]
    assert parse_outputs(static_outputs).service_url_http is None


def test_redirect_mode_outputs_need_no_workers_http_group(static_outputs):
    """httpMode redirect: neither serviceUrlHttp nor targetGroupArns.workersHttp is an output."""
    del static_outputs["serviceUrlHttp"], static_outputs["targetGroupArns"]["workersHttp"]
    parsed = parse_outputs(static_outputs)
    assert parsed.service_url_http is None
    assert set(parsed.target_group_arns) == {"workersHttps", "managerHttps"}


def test_served_http_needs_the_workers_http_group(static_outputs, run_verify):
    """serviceUrlHttp (forward mode) without its target group would leave HTTP unchecked."""
    del static_outputs["targetGroupArns"]["workersHttp"]
    run = run_verify(static_outputs)
    assert run.code == 2
    assert one_line(run) == "error: stack outputs missing key(s): targetGroupArns.workersHttp"


@pytest.mark.parametrize("key", ["workersHttps", "managerHttps"])
def test_https_target_groups_are_always_required(static_outputs, key):
    from verify.outputs import OutputsError

    del static_outputs["serviceUrlHttp"], static_outputs["targetGroupArns"]["workersHttp"]
    del static_outputs["targetGroupArns"][key]
    with pytest.raises(OutputsError, match=f"missing key\\(s\\): targetGroupArns.{key}$"):
        parse_outputs(static_outputs)


def test_missing_target_group_key_is_named(static_outputs, run_verify):
    del static_outputs["targetGroupArns"]["managerHttps"]
    run = run_verify(static_outputs)
    assert run.code == 2
    assert one_line(run) == "error: stack outputs missing key(s): targetGroupArns.managerHttps"


def test_worker_lists_must_line_up(static_outputs, run_verify):
    static_outputs["workerPrivateIps"] = ["10.20.1.20"]
    run = run_verify(static_outputs)
    assert run.code == 2
    assert "workerInstanceIds has 2 entries but workerPrivateIps has 1" in one_line(run)


def test_out_of_range_port_and_bool_are_rejected(static_outputs):
    from verify.outputs import OutputsError

    for bad in (0, 70000, True, 5701.0):
        with pytest.raises(OutputsError, match="clusterPort"):
            parse_outputs(dict(static_outputs, clusterPort=bad))


def test_secret_value_gets_a_hint(static_outputs, run_verify):
    static_outputs["clusterPort"] = "[secret]"
    run = run_verify(static_outputs)
    assert run.code == 2
    assert "clusterPort: Input should be a valid integer (got a secret ('[secret]'" in one_line(run)


def test_unreadable_file_is_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert main(["--outputs", str(missing), "--no-http"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: cannot read outputs file {missing}: No such file or directory"]


def test_invalid_json_is_exit_2(run_verify):
    run = run_verify("{not json")
    assert run.code == 2
    assert one_line(run).startswith("error: outputs file ") and "is not valid JSON" in one_line(run)


def test_non_object_json_is_exit_2(run_verify):
    run = run_verify("[1, 2]")
    assert run.code == 2
    assert one_line(run) == "error: stack outputs must be a JSON object, got list"


def test_stack_and_outputs_together_are_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--stack", "dev", "--outputs", str(tmp_path / "o.json")])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_bad_timeout_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--outputs", "x.json", "--timeout", value])
    assert exit_info.value.code == 2
    assert "--timeout" in capsys.readouterr().err


# --- pulumi CLI --------------------------------------------------------------------------------


@pytest.fixture
def fake_pulumi(tmp_path, monkeypatch):
    """Put a `pulumi` on PATH that records its arguments and prints what the test says."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "pulumi"
    argv_file = tmp_path / "pulumi-argv.json"
    stdout_file = tmp_path / "pulumi-stdout"

    def install(stdout: str = "", stderr: str = "", code: int = 0):
        stdout_file.write_text(stdout)
        script.write_text(
            f"#!{sys.executable}\n"
            "import json, sys\n"
            f"json.dump(sys.argv[1:], open({str(argv_file)!r}, 'w'))\n"
            f"sys.stdout.write(open({str(stdout_file)!r}).read())\n"
            f"sys.stderr.write({stderr!r})\n"
            f"sys.exit({code})\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
        return lambda: json.loads(argv_file.read_text())

    return install


def test_reads_outputs_from_pulumi_with_the_stack(cluster, fake_pulumi, capsys):
    argv = fake_pulumi(stdout=json.dumps(cluster.outputs))
    code = main(["--stack", "org/wso2-as/prod", "--no-http"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert argv() == ["stack", "output", "--json", "--show-secrets=false", "--stack", "org/wso2-as/prod"]
    assert out.splitlines()[-1].startswith("RESULT: PASS")


def test_without_stack_pulumi_uses_the_selected_stack(static_outputs, fake_pulumi, capsys):
    del static_outputs["nodeSecurityGroupId"]
    argv = fake_pulumi(stdout=json.dumps(static_outputs))
    assert main(["--no-http"]) == 2
    assert argv() == ["stack", "output", "--json", "--show-secrets=false"]
    assert capsys.readouterr().err.strip() == "error: stack outputs missing key(s): nodeSecurityGroupId"


def test_failing_pulumi_is_exit_2_with_its_error(fake_pulumi, capsys):
    fake_pulumi(stderr="warning: something\nerror: no stack named 'prod' found\n", code=255)
    assert main(["--stack", "prod"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: `pulumi stack output` failed (exit 255): error: no stack named 'prod' found"
    ]


def test_missing_pulumi_cli_is_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no pulumi
    assert main([]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: the pulumi CLI was not found on PATH; install it or pass --outputs FILE"
    ]


# --- logGroupNames (issue #12 step 4): optional, so older stacks still parse -----------------------


def test_log_group_names_may_be_absent(static_outputs):
    assert "logGroupNames" not in static_outputs
    assert parse_outputs(static_outputs).carbon_log_group is None


def test_carbon_log_group_is_taken_as_given(static_outputs):
    groups = {
        "boot": "/wso2-cluster/dev/boot",
        "carbon": "/custom/name/for/carbon",
        "access": "/wso2-cluster/dev/http-access",
    }
    parsed = parse_outputs(dict(static_outputs, logGroupNames=groups))
    assert parsed.carbon_log_group == "/custom/name/for/carbon"
    assert parsed.log_group_names == groups


def test_log_group_names_without_carbon_is_exit_2(static_outputs, run_verify):
    run = run_verify(dict(static_outputs, logGroupNames={"boot": "/wso2-cluster/dev/boot"}))
    assert run.code == 2
    assert one_line(run) == "error: stack outputs missing key(s): logGroupNames.carbon"


def test_log_group_names_must_be_an_object_of_names(static_outputs, run_verify):
    run = run_verify(dict(static_outputs, logGroupNames="/wso2-cluster/dev/carbon"))
    assert run.code == 2
    assert "logGroupNames: Input should be a valid dictionary" in one_line(run)
    run = run_verify(dict(static_outputs, logGroupNames={"carbon": ""}))
    assert run.code == 2
    assert "logGroupNames.carbon: String should have at least 1 character" in one_line(run)
