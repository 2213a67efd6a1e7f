"""Print check results: one ASCII line per check as it completes, or a JSON report at the end."""

from __future__ import annotations

import json
from typing import IO, Iterable

from verify.checks import CheckResult


def format_line(result: CheckResult) -> str:
    return f"{'PASS' if result.ok else 'FAIL'}  {result.name}: {result.detail}"


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
        failed = [r for r in results if not r.ok]
        if failed:
            self._write(f"RESULT: FAIL - {len(failed)} of {len(results)} checks failed")
        else:
            self._write(f"RESULT: PASS - all {len(results)} checks passed")


class JsonReport:
    """Collects results and prints one JSON document: {"ok": bool, "checks": [...]}."""

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
