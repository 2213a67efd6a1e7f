"""python -m verify: is the deployed WSO2 AS cluster really up?

Exit status: 0 no check failed (a check skipped on request does not fail), 1 a check failed,
2 usage/input error (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from botocore.exceptions import NoCredentialsError

from verify.outputs import OutputsError, load_file, load_from_pulumi
from verify.report import JsonReport, TextReport
from verify.runner import Options, make_session, run_checks

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m verify",
        description="Check that the deployed WSO2 AS cluster is up: EC2 nodes, every node registered and "
        "healthy in its target groups, RDS, security group rules, (optionally) HTTP(S) endpoints, Hazelcast "
        "cluster membership (each node asked now through SSM; its log as a fallback) and the WSO2 database "
        "schemas (schema-status on the manager through SSM).",
        epilog="Exit status: 0 no check failed (--skip-schema skips, it does not fail), 1 a check failed, "
        "2 usage or input error.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", help="Pulumi stack to read outputs from (default: the selected stack)")
    source.add_argument(
        "--outputs",
        metavar="FILE",
        help="read stack outputs from FILE (JSON from `pulumi stack output --json`) instead of running pulumi",
    )
    parser.add_argument("--json", action="store_true", help="print a machine-readable JSON report instead of lines")
    parser.add_argument(
        "--http",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="probe the service and console URLs (default: on)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="skip TLS certificate verification in the HTTP probes (self-signed certificates)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=10.0,
        metavar="SECONDS",
        help="timeout for each HTTP probe and AWS connection, and how long to wait for each SSM command (default: 10)",
    )
    parser.add_argument(
        "--skip-schema",
        action="store_true",
        help="do not check the database schemas (when SSM cannot reach the manager)",
    )
    parser.add_argument(
        "--log-window",
        type=_positive,
        default=24.0,
        metavar="HOURS",
        help="how far back to read a node's log for its member list when SSM cannot ask it (default: 24)",
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        outputs = load_file(args.outputs) if args.outputs else load_from_pulumi(args.stack)
    except OutputsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE

    session, region = make_session(outputs)
    if region != outputs.region:
        print(
            f"note: checking region {region} (from the environment); the stack's region output is {outputs.region}",
            file=sys.stderr,
        )

    report = JsonReport(sys.stdout) if args.json else TextReport(sys.stdout)
    options = Options(
        http=args.http,
        timeout=args.timeout,
        insecure=args.insecure,
        schema=not args.skip_schema,
        log_window_hours=args.log_window,
    )
    results = []
    try:
        for result in run_checks(session, outputs, options, on_section=report.section):
            results.append(result)
            report.result(result)
    except NoCredentialsError:
        sys.stdout.flush()
        print(
            "error: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    report.finish(results)
    return EXIT_OK if results and all(r.ok for r in results) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
