"""Run one shell command on some nodes through SSM Run Command and collect what each printed."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from botocore.exceptions import ClientError

from verify.checks import aws_error

DOCUMENT = "AWS-RunShellScript"
# get_command_invocation statuses that may still change; any other status is final.
IN_FLIGHT = frozenset({"Pending", "InProgress", "Delayed", "Cancelling"})
POLL_INTERVAL_SECONDS = 1.0
SSM_MIN_TIMEOUT_SECONDS = 30  # SendCommand's TimeoutSeconds lower bound
MAX_DETAIL = 300


@dataclass(frozen=True)
class Answer:
    """What one node's invocation came to: its stdout when it succeeded, else why not (one line)."""

    ok: bool
    stdout: str = ""
    problem: str = ""


def one_line(text: str) -> str:
    line = " | ".join(part.strip() for part in text.strip().splitlines() if part.strip())
    return line if len(line) <= MAX_DETAIL else "..." + line[-(MAX_DETAIL - 3) :]


def _ended(invocation: dict) -> str:
    """Why a finished invocation did not succeed, from SSM's status, exit code and stderr."""
    status = invocation.get("Status", "unknown")
    extras = []
    details = invocation.get("StatusDetails")
    if details and details != status:
        extras.append(details)
    code = invocation.get("ResponseCode")
    if isinstance(code, int) and code >= 0:
        extras.append(f"exit {code}")
    text = f"ended {status}" + (f" ({', '.join(extras)})" if extras else "")
    stderr = one_line(invocation.get("StandardErrorContent") or "")
    return f"{text}: {stderr}" if stderr else text


class RemoteCommand:
    """SendCommand once to every instance, then poll each invocation until it is final or the budget ends."""

    def __init__(
        self,
        ssm: Any,
        comment: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        interval: float = POLL_INTERVAL_SECONDS,
    ):
        self.ssm, self.comment, self.sleep, self.clock, self.interval = ssm, comment, sleep, clock, interval

    def run(self, instance_ids: list[str], command: str, budget: float) -> dict[str, Answer]:
        deadline = self.clock() + budget
        try:
            sent = self.ssm.send_command(
                InstanceIds=instance_ids,
                DocumentName=DOCUMENT,
                Parameters={"commands": [command]},
                TimeoutSeconds=max(SSM_MIN_TIMEOUT_SECONDS, math.ceil(budget)),
                Comment=self.comment,
            )
        except ClientError as error:
            return {i: Answer(False, problem=f"SSM cannot run it: {aws_error(error)}") for i in instance_ids}
        command_id = sent["Command"]["CommandId"]
        answers: dict[str, Answer] = {}
        pending = list(instance_ids)
        while pending:
            for instance_id in list(pending):
                try:
                    invocation = self.ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
                except ClientError as error:
                    # Right after SendCommand an invocation may not exist yet: keep polling.
                    if error.response.get("Error", {}).get("Code") == "InvocationDoesNotExist":
                        continue
                    answers[instance_id] = Answer(False, problem=f"SSM cannot report it: {aws_error(error)}")
                    pending.remove(instance_id)
                    continue
                status = invocation.get("Status", "unknown")
                if status in IN_FLIGHT:
                    continue
                pending.remove(instance_id)
                if status == "Success":
                    answers[instance_id] = Answer(True, stdout=invocation.get("StandardOutputContent") or "")
                else:
                    answers[instance_id] = Answer(False, problem=f"SSM command {_ended(invocation)}")
            remaining = deadline - self.clock()
            if pending and remaining <= 0:
                for instance_id in pending:
                    answers[instance_id] = Answer(
                        False, problem=f"SSM command {command_id} did not finish within {budget:g}s"
                    )
                break
            if pending:
                self.sleep(min(self.interval, remaining))
        return answers
