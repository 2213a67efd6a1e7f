"""HTTP(S) probes against local servers on 127.0.0.1 (bounded, in threads)."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from verify.outputs import parse_outputs
from verify.probes import CONSOLE_DENIED_BODY, check_http, console_login_url


class Site:
    """A tiny web server: `routes` maps a path to (status, headers[, body])."""

    def __init__(self, routes: dict, tls: ssl.SSLContext | None = None):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                site.requests.append(self.path)
                status, headers, *body = site.routes.get(self.path, (404, {}))
                content = body[0].encode() if body else b""
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        self.routes = routes
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def site():
    sites = []

    def start(routes, tls=None):
        sites.append(Site(routes, tls))
        return sites[-1]

    yield start
    for s in sites:
        s.close()


HEALTHY = {
    "/": (302, {"Location": "/index.html"}),
    "/index.html": (200, {}),
    "/carbon/admin/login.jsp": (200, {}),
    "/carbon/": (302, {"Location": "/carbon/admin/login.jsp"}),
}


def outputs_for(static_outputs, site, service="/", https_service="/index.html", console="/carbon/"):
    return dict(
        static_outputs,
        serviceUrlHttp=site.url(service),
        serviceUrlHttps=site.url(https_service),
        managementConsoleUrl=site.url(console),
    )


def probe(outputs: dict, timeout: float = 5, insecure: bool = False):
    return [(r.name, r.ok, r.detail) for r in check_http(parse_outputs(outputs), timeout, insecure)]


@pytest.mark.parametrize(
    "given, expected",
    [
        ("https://mgt.example.com/carbon/", "https://mgt.example.com/carbon/admin/login.jsp"),
        ("https://mgt.example.com/carbon", "https://mgt.example.com/carbon/admin/login.jsp"),
        ("https://mgt.example.com:9443/", "https://mgt.example.com:9443/carbon/admin/login.jsp"),
        ("https://mgt.example.com", "https://mgt.example.com/carbon/admin/login.jsp"),
        ("https://mgt.example.com/carbon/admin/login.jsp", "https://mgt.example.com/carbon/admin/login.jsp"),
    ],
)
def test_console_login_url(given, expected):
    assert console_login_url(given) == expected


def test_healthy_endpoints_pass_and_redirects_are_not_followed(static_outputs, site):
    s = site(HEALTHY)
    results = probe(outputs_for(static_outputs, s))
    assert results == [
        (f"http service ({s.url('/')})", True, "HTTP 302 -> /index.html"),
        (f"https service ({s.url('/index.html')})", True, "HTTP 200"),
        (f"management console ({s.url('/carbon/admin/login.jsp')})", True, "HTTP 200"),
    ]
    assert s.requests == ["/", "/index.html", "/carbon/admin/login.jsp"]  # the 302 was not followed


@pytest.mark.parametrize(
    "body, ok, detail",
    [
        (
            CONSOLE_DENIED_BODY,
            True,
            "HTTP 403 from the load balancer: this address is outside 10.20.0.0/16, as the stack "
            "intends (run verify from inside to see the console)",
        ),
        ("Forbidden by the product\n", False, "HTTP 403"),
    ],
)
def test_the_load_balancers_own_403_from_outside_passes_and_says_why(static_outputs, site, body, ok, detail):
    s = site({**HEALTHY, "/carbon/admin/login.jsp": (403, {"Content-Type": "text/plain"}, body)})
    assert probe(outputs_for(static_outputs, s))[-1] == (
        f"management console ({s.url('/carbon/admin/login.jsp')})",
        ok,
        detail,
    )


def test_absent_http_url_is_not_probed(static_outputs, site):
    s = site(HEALTHY)
    outputs = outputs_for(static_outputs, s)
    del outputs["serviceUrlHttp"]
    assert [name for name, _, _ in probe(outputs)] == [
        f"https service ({s.url('/index.html')})",
        f"management console ({s.url('/carbon/admin/login.jsp')})",
    ]


def test_server_error_and_missing_console_fail(static_outputs, site):
    s = site({"/": (503, {}), "/index.html": (200, {})})
    results = probe(outputs_for(static_outputs, s))
    assert results[0] == (f"http service ({s.url('/')})", False, "HTTP 503")
    assert results[2] == (f"management console ({s.url('/carbon/admin/login.jsp')})", False, "HTTP 404")


def test_console_must_answer_200_not_a_redirect(static_outputs, site):
    s = site(dict(HEALTHY, **{"/carbon/admin/login.jsp": (302, {"Location": "/sso"})}))
    results = probe(outputs_for(static_outputs, s))
    assert results[2] == (f"management console ({s.url('/carbon/admin/login.jsp')})", False, "HTTP 302 -> /sso")
    assert results[0][1] is True  # while a 302 from the service is fine


def test_unanswered_request_times_out_within_the_timeout(static_outputs):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (kernel backlog) but never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        outputs = dict(static_outputs, serviceUrlHttp=url, serviceUrlHttps=url, managementConsoleUrl=url)
        started = time.monotonic()
        results = probe(outputs, timeout=0.3)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert [(ok, detail) for _, ok, detail in results] == [(False, "timed out after 0.3s")] * 3
    assert elapsed < 3


def test_refused_connection_fails(static_outputs):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    url = f"http://127.0.0.1:{port}/"
    ok, detail = probe(dict(static_outputs, serviceUrlHttp=url))[0][1:]
    assert ok is False and detail.startswith("error:") and "refused" in detail.lower()


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


def test_self_signed_certificate_fails_unless_insecure(static_outputs, site, self_signed):
    s = site(HEALTHY, tls=self_signed)
    outputs = outputs_for(static_outputs, s)
    strict = probe(outputs)
    assert all(ok is False for _, ok, _ in strict)
    assert "TLS verification failed" in strict[1][2] and "use --insecure" in strict[1][2]
    assert probe(outputs, insecure=True) == [
        (f"http service ({s.url('/')})", True, "HTTP 302 -> /index.html"),
        (f"https service ({s.url('/index.html')})", True, "HTTP 200"),
        (f"management console ({s.url('/carbon/admin/login.jsp')})", True, "HTTP 200"),
    ]


# --- through the command line ------------------------------------------------------------------


def test_http_probes_run_by_default_and_pass(cluster, run_verify, site):
    s = site(HEALTHY)
    run = run_verify(outputs_for(cluster.outputs, s), http=None)
    assert run.code == 0, run.out
    assert "-- checking HTTP probes" in run.lines
    assert f"PASS  management console ({s.url('/carbon/admin/login.jsp')}): HTTP 200" in run.lines


def test_failing_probe_fails_the_run(cluster, run_verify, site):
    s = site({"/": (200, {}), "/index.html": (502, {})})
    run = run_verify(outputs_for(cluster.outputs, s), "--timeout", "2", http=True)
    assert run.code == 1
    assert run.failed == [
        f"FAIL  https service ({s.url('/index.html')}): HTTP 502",
        f"FAIL  management console ({s.url('/carbon/admin/login.jsp')}): HTTP 404",
    ]


def test_no_http_skips_the_probes(cluster, run_verify, site):
    s = site(HEALTHY)
    run = run_verify(outputs_for(cluster.outputs, s), http=False)
    assert run.code == 0
    assert s.requests == []
    assert not any(probe in line for line in run.lines for probe in ("service (", "console (", "HTTP probes"))


def test_insecure_flag_reaches_the_probes(cluster, run_verify, site, self_signed):
    s = site(HEALTHY, tls=self_signed)
    outputs = outputs_for(cluster.outputs, s)
    assert run_verify(outputs, http=True).code == 1
    run = run_verify(outputs, "--insecure", http=True)
    assert run.code == 0, run.out


def test_missing_urls_fail_the_probes_they_feed(static_outputs):
    outputs = dict(static_outputs)
    del outputs["serviceUrlHttp"], outputs["serviceUrlHttps"], outputs["managementConsoleUrl"]
    outputs["targetGroupArns"] = {k: v for k, v in outputs["targetGroupArns"].items() if k != "workersHttp"}
    results = list(check_http(parse_outputs(outputs), timeout=1))  # nothing left to connect to
    assert [(r.name, r.ok, r.detail) for r in results] == [
        ("https service", False, "no serviceUrlHttps output to probe"),
        ("management console", False, "no managementConsoleUrl output to probe"),
    ]
