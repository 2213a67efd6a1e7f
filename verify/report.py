"""Print check results: one ASCII line per check as it completes, or a JSON report at the end."""

from __future__ import annotations

import json
from typing import IO, Iterable

from verify.checks import CheckResult


def format_line(result: CheckResult) -> str:
    return f"{result.status.upper()}  {result.name}: {result.detail}"


def summary_line(results: list[CheckResult]) -> str:
    """RESULT line: FAIL when any check failed; skipped checks are counted but fail nothing."""
    failed = sum(1 for r in results if not r.ok)
    skipped = sum(1 for r in results if r.skipped)
    total = len(results)
    tail = f", {skipped} skipped" if skipped else ""
    if failed:
        return f"RESULT: FAIL - {failed} of {total} checks failed{tail}"
    if skipped:
        return f"RESULT: PASS - {total - skipped} of {total} checks passed{tail}"
    return f"RESULT: PASS - all {total} checks passed"


class TextReport:
    """Streams lines to `out`, flushing after each so an operator sees progress."""

    def __init__(self, out: IO[str]):
        self.out = out

    def _write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def section(self, title: str) -> None:
        self._write(f"-- checking {title}")

    def result(self, result: CheckResult) -> None:
        self._write(format_line(result))

    def finish(self, results: list[CheckResult]) -> None:
        self._write(summary_line(results))


class JsonReport:
    """Collects results and prints one JSON document: {"ok": bool, "checks": [...]}.

    Each check is {"name", "ok", "detail", "status"}: status is pass, fail or skip; a skipped
    check has ok true (it did not fail), so the top-level ok agrees with the exit status.
    """

    def __init__(self, out: IO[str]):
        self.out = out

    def section(self, title: str) -> None:
        pass

    def result(self, result: CheckResult) -> None:
        pass

    def finish(self, results: list[CheckResult]) -> None:
        json.dump(to_document(results), self.out, indent=2)
        self.out.write("\n")
        self.out.flush()


def to_document(results: Iterable[CheckResult]) -> dict:
    checks = [r.to_dict() for r in results]
    return {"ok": all(c["ok"] for c in checks) and bool(checks), "checks": checks}
