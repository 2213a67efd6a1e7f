"""HTTP(S) probes of the service and management console URLs (stdlib urllib, no redirects)."""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request
from typing import Iterator, Optional
from urllib.parse import urlsplit, urlunsplit

from verify.checks import CheckResult
from verify.outputs import StackOutputs

CONSOLE_LOGIN_PATH = "/carbon/admin/login.jsp"
# What the load balancer's deny rule answers (with 403) to a source outside managementAllowedCidrs.
CONSOLE_DENIED_BODY = "The management console is not reachable from this address.\n"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a 3xx as it is instead of following it (a 3xx is itself a pass)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401, ANN001
        return None


def console_login_url(console_url: str) -> str:
    """The login page under the console URL: .../carbon[/] -> .../carbon/admin/login.jsp."""
    parts = urlsplit(console_url)
    path = parts.path.rstrip("/")
    if path.endswith(CONSOLE_LOGIN_PATH):
        new_path = path
    elif path.endswith("/carbon"):
        new_path = path + "/admin/login.jsp"
    else:
        new_path = path + CONSOLE_LOGIN_PATH
    return urlunsplit((parts.scheme, parts.netloc, new_path, "", ""))


def fetch(url: str, timeout: float, insecure: bool) -> tuple[Optional[int], str, str]:
    """(status, note, body of an error response) for a GET of `url`; status None when no HTTP response arrived."""
    context = None
    if url.lower().startswith("https:"):
        context = ssl.create_default_context()
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(url, method="GET", headers={"User-Agent": "wso2-cluster-verify"})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, "", ""
    except urllib.error.HTTPError as error:
        location = error.headers.get("Location") if error.headers else None
        body = error.read(200).decode("utf-8", "replace")
        error.close()
        return error.code, f" -> {location}" if location else "", body
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return (
                None,
                f"TLS verification failed: {reason.verify_message or reason} "
                "(use --insecure for a self-signed certificate)",
                "",
            )
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return None, f"timed out after {timeout:g}s", ""
        return None, f"error: {reason}", ""
    except (socket.timeout, TimeoutError):
        return None, f"timed out after {timeout:g}s", ""
    except (OSError, ValueError) as error:  # connection reset, bad URL, ...
        return None, f"error: {error}", ""


def _probe(name: str, url: str, timeout: float, insecure: bool, accept) -> CheckResult:  # noqa: ANN001
    status, note, _ = fetch(url, timeout, insecure)
    label = f"{name} ({url})"
    if status is None:
        return CheckResult(label, False, note)
    return CheckResult(label, accept(status), f"HTTP {status}{note}")


def _probe_console(url: str, outputs: StackOutputs, timeout: float, insecure: bool) -> CheckResult:
    """200 from an allowed source; the deny rule's 403 from anywhere else is what the stack intends."""
    status, note, body = fetch(url, timeout, insecure)
    label = f"management console ({url})"
    if status is None:
        return CheckResult(label, False, note)
    if status == 403 and body == CONSOLE_DENIED_BODY:
        allowed = ", ".join(outputs.management_allowed_cidrs or []) or "managementAllowedCidrs"
        return CheckResult(
            label,
            True,
            f"HTTP 403 from the load balancer: this address is outside {allowed}, "
            "as the stack intends (run verify from inside to see the console)",
        )
    return CheckResult(label, status == 200, f"HTTP {status}{note}")


def check_http(outputs: StackOutputs, timeout: float, insecure: bool = False) -> Iterator[CheckResult]:
    """Service URLs answer 2xx/3xx; the console login page answers 200, or the deny rule's 403 from outside."""
    service = lambda status: 200 <= status < 400  # noqa: E731
    if outputs.service_url_http:
        yield _probe("http service", outputs.service_url_http, timeout, insecure, service)
    if outputs.service_url_https is None:
        yield CheckResult("https service", False, "no serviceUrlHttps output to probe")
    else:
        yield _probe("https service", outputs.service_url_https, timeout, insecure, service)
    if outputs.management_console_url is None:
        yield CheckResult("management console", False, "no managementConsoleUrl output to probe")
    else:
        yield _probe_console(console_login_url(outputs.management_console_url), outputs, timeout, insecure)
