"""Every problem at once: single-key problems and cross-key ones are reported together, sorted,
one line each; a cross-key rule that reads an invalid key is skipped (never a second line for the
same key, never a traceback), and an invalid key hides only the rules that read it."""

from __future__ import annotations

import pytest

from tests.config.support import CERT, LINE, SVN, line, problems

BOTH_HOSTS = "must differ from serviceHostName (host-based routing tells them apart)"


def test_single_key_and_cross_key_problems_come_together_sorted():
    found = problems(
        {
            # single-key problems
            "workerCount": "0",
            "httpMode": "both",
            "tags": ["aws:owner=me"],
            "logRetentionDays": "31",
            "workerCont": "3",
            # cross-key problems, on keys that are themselves valid
            "managementHostName": "as.dev.example.com",  # = serviceHostName
            "dbAllocatedStorageGb": "200",  # > dbMaxAllocatedStorageGb (100)
            "svnUrl": "https://svn.example.com/repos",  # without deploymentSynchronizer svn
            "accessLogs": "false",
            "accessLogsBucket": "my-alb-logs",
            "certificateArn": CERT,  # with selfSignedCertificate true (the dev stack)
            "architecture": "arm64",  # the dev stack's t3.medium types stay
            "privateZoneName": "maven.org",  # holds the JDBC driver's host
        }
    )
    assert found == sorted(found) and len(found) == len(set(found))
    assert all(LINE.fullmatch(p) for p in found)
    keys = [LINE.fullmatch(p).group("key").split(":", 1)[1] for p in found]
    assert sorted(keys) == sorted(
        [
            "workerCount",
            "httpMode",
            "tags",
            "logRetentionDays",
            "workerCont",  # single-key
            "managementHostName",
            "dbMaxAllocatedStorageGb",
            "svnUrl",
            "accessLogsBucket",
            "selfSignedCertificate",
            "managerInstanceType",
            "workerInstanceType",
            "privateZoneName",  # cross-key
        ]
    )
    assert line("managementHostName", "as.dev.example.com", BOTH_HOSTS) in found
    assert line("dbMaxAllocatedStorageGb", "100", "must be at least dbAllocatedStorageGb") in found
    assert line("svnUrl", "https://svn.example.com/repos", "only used when deploymentSynchronizer is svn") in found
    assert line("workerCount", "0", "must be an integer from 1 to 50") in found


# (overrides: one invalid key plus a cross-key problem that reads it; the one line expected)
SKIPPED = [
    pytest.param({"workerCount": "0", "maxUnavailableWorkers": "3"}, "workerCount", id="batch-reads-workerCount"),
    pytest.param(
        {"workerCount": "x", "membershipScheme": "wka", "wkaMemberCount": "5"},
        "workerCount",
        id="wka-reads-workerCount",
    ),
    pytest.param({"clusterPort": "80"}, "clusterPort", id="membership-reads-clusterPort"),
    pytest.param(
        {"membershipScheme": "wka", "portOffset": "2000", "clusterPort": "11443"},
        "portOffset",
        id="cluster-port-reads-portOffset",
    ),
    pytest.param({"architecture": "sparc"}, "architecture", id="types-read-architecture"),
    pytest.param(
        {"dbEngineVersion": "8.1", "dbInstanceClass": "db.m8a.large"}, "dbEngineVersion", id="class-reads-version"
    ),
    pytest.param(
        {"dbAllocatedStorageGb": "10", "dbMaxAllocatedStorageGb": "21"},
        "dbAllocatedStorageGb",
        id="storage-reads-allocated",
    ),
    pytest.param(
        {"serviceHostName": "AS.dev.example.com", "managementHostName": "AS.dev.example.com"},
        None,
        id="equal-invalid-hosts",
    ),
    pytest.param(
        {
            "aws:region": "mars-1",
            "selfSignedCertificate": "false",
            "certificateArn": CERT.replace("eu-west-1", "us-east-1"),
        },
        "aws:region",
        id="certificate-reads-region",
    ),
    pytest.param({"tags": ["team=a", "Team=b", "x=a,b"]}, "tags", id="tag-rules-read-tags"),
    pytest.param(
        {"deploymentSynchronizer": "svm", "svnUrl": "https://svn.example.com/r"},
        "deploymentSynchronizer",
        id="svn-reads-deploymentSynchronizer",
    ),
    pytest.param(
        {"allowedClientCidrs": [f"198.51.{i}.0/24" for i in range(31)], "managementAllowedCidrs": ["x"]},
        "managementAllowedCidrs",
        id="quota-reads-management",
    ),
    pytest.param({"vpcId": "vpc-1", "publicSubnetIds": ["subnet-0123456a"]}, "vpcId", id="subnets-read-vpcId"),
]


@pytest.mark.parametrize("overrides,key", SKIPPED)
def test_a_rule_reading_an_invalid_key_is_skipped(overrides, key):
    found = problems(overrides)
    keys = {LINE.fullmatch(p).group("key") for p in found}
    if key is None:  # both hosts invalid: one line each, no "must differ"
        assert keys == {"wso2-cluster:serviceHostName", "wso2-cluster:managementHostName"} and len(found) == 2
        assert not any(BOTH_HOSTS in p for p in found)
        return
    assert len(found) == 1, found
    assert keys == {key if ":" in key else f"wso2-cluster:{key}"}


def test_an_invalid_key_hides_only_the_rules_that_read_it():
    found = problems(
        {
            "aws:region": "mars-1",  # hides the certificate-region and zone-shadowing rules...
            "privateZoneName": "dev.example.com",  # ...but not the zone-holds-the-hosts rules
            "dbUsername": "1admin",  # hides "dbAppUsername must differ"...
            "dbAppUsername": "select",  # ...but not dbAppUsername's own reserved-word check
            "svnUrl": "ftp://svn",  # invalid; the other svn keys are still checked
            "deploymentSynchronizer": "svn",
            "svnUser": "u",
            "svnPassword": "p",
            "discoveryTagKey": "aws:x",  # hides nothing of the tag count
            "tags": ["Name=x"],
        }
    )
    keys = sorted(LINE.fullmatch(p).group("key") for p in found)
    assert keys == sorted(
        [
            "aws:region",
            "wso2-cluster:privateZoneName",
            "wso2-cluster:privateZoneName",  # holds both host names
            "wso2-cluster:dbUsername",
            "wso2-cluster:dbAppUsername",
            "wso2-cluster:svnUrl",
            "wso2-cluster:svnKitSha256",
            "wso2-cluster:trileadSshSha256",
            "wso2-cluster:discoveryTagKey",
            "wso2-cluster:tags",
        ]
    )


def test_the_same_problem_is_never_reported_twice():
    found = problems({"managementAllowedCidrs": ["0.0.0.0/0", "0.0.0.0/0"], "allowedClientCidrs": ["bad", "bad"]})
    assert len(found) == len(set(found)) == 2


def test_renderer_failures_after_the_rules_are_one_clean_line(monkeypatch):
    """Pass 3 (the trial render) runs only when passes 1 and 2 found nothing; should the renderer
    ever fail in an unforeseen way, the program still stops with one line, not a traceback."""
    import components.config.load as load

    def broken(*args, **kwargs):
        raise RuntimeError("round trip failed\nsecond line")

    monkeypatch.setattr(load, "trial_render_problems", broken)
    found = problems({})
    assert found == [
        "invalid config: the nodes' user data could not be rendered: RuntimeError: round trip failed\\nsecond line"
    ]
    assert problems({"workerCount": "0"}) == [line("workerCount", "0", "must be an integer from 1 to 50")]


def test_svn_with_every_key_missing_names_each_key_once():
    found = problems({"deploymentSynchronizer": "svn"})
    assert [LINE.fullmatch(p).group("key") for p in found] == [
        f"wso2-cluster:{k}" for k in sorted(k for k in SVN if k != "deploymentSynchronizer")
    ]
