"""Shared fixture of the black-box conformance suite.

The suite talks to a DynamoDB-compatible endpoint only through boto3, awscli
and raw signed HTTP, so the same tests run against real DynamoDB unchanged.

Where the endpoint comes from, in order:
  TIDEWATER_ENDPOINT   an endpoint that is already running (e.g. real DynamoDB
                       https://dynamodb.us-east-1.amazonaws.com, or dynalite);
                       TIDEWATER_STREAMS_ENDPOINT optionally names a separate
                       Streams endpoint (DynamoDB has one), default the same.
  TIDEWATERD           path of the tidewaterd binary: one server is started per
                       test process on a free loopback port in a temporary data
                       directory, and stopped (SIGTERM, then SIGKILL) at exit. Its
                       table exports go to the bucket EXPORT_BUCKET, mapped to a
                       local directory (export_bucket_dir()), and incremental
                       exports may be as short as EXPORT_MIN_INCREMENTAL_WINDOW
                       seconds (DynamoDB: 15 minutes). It runs with --auth required
                       and accepts the suite's credentials (below), so every test also
                       checks that its client signs correctly; TIDEWATER_AUTH=off starts
                       it without authentication instead.

Credentials default to dummy values (which a managed tidewaterd then accepts) and the
region to us-east-1 unless the environment sets AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION.
"""

import atexit
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
from botocore.exceptions import ClientError

os.environ.setdefault("AWS_ACCESS_KEY_ID", "conformance")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "conformance-secret")
REGION = os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

# Seconds to wait for asynchronous states (table ACTIVE, stream records) before failing.
STATE_TIMEOUT = float(os.environ.get("TIDEWATER_STATE_TIMEOUT", "60"))

# The bucket the managed tidewaterd writes table exports to (a local directory), and its
# shortest incremental export window in seconds.
EXPORT_BUCKET = "exports"
EXPORT_MIN_INCREMENTAL_WINDOW = 1


class _ManagedServer:
    """One tidewaterd child process with its own data directory and log file."""

    def __init__(self, binary):
        self.binary = binary
        self.workdir = tempfile.mkdtemp(prefix="tw-conformance-")
        self.data_dir = os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "tidewaterd.log")
        self.export_bucket_dir = os.path.join(self.workdir, "buckets", EXPORT_BUCKET)
        os.makedirs(self.export_bucket_dir, exist_ok=True)
        self.port = _free_loopback_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self._log = open(self.log_path, "ab")
        self.auth_arguments = self._auth_arguments()
        self._start()

    def _auth_arguments(self):
        """The suite's own credentials, from the environment, as the only ones accepted."""
        if os.environ.get("TIDEWATER_AUTH", "required") == "off":
            return []
        path = os.path.join(self.workdir, "credentials.yaml")
        with open(path, "w") as f:
            f.write("credentials:\n  - access_key_id: %s\n    secret_access_key: %s\n"
                    "    principal: conformance\n"
                    % (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]))
        return ["--auth", "required", "--credentials-file", path]

    def _start(self):
        self.process = subprocess.Popen(
            [self.binary, "--data-dir", self.data_dir, "--listen", "127.0.0.1:%d" % self.port,
             "--region", REGION,
             "--s3-local-bucket", "%s=%s" % (EXPORT_BUCKET, self.export_bucket_dir),
             "--incremental-export-min-window-seconds", str(EXPORT_MIN_INCREMENTAL_WINDOW)]
            + self.auth_arguments,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_healthy(timeout=20)

    def restart_after_crash(self):
        """Starts the server again on the same data directory and port, so that one crash
        fails one test, not every test after it (and recovery is exercised on the way)."""
        self._log.write(b"\n==== conformance fixture: restarting after a crash ====\n")
        self._start()

    def restart(self):
        """Stops the server cleanly (SIGTERM) and starts it again on the same data directory
        and port: what was acknowledged before must be there afterwards."""
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
        self._log.write(b"\n==== conformance fixture: restart ====\n")
        self._start()

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._fail_startup("exited with status %s" % self.process.returncode)
            try:
                status, _, _ = http_get(self.endpoint, "/healthz", timeout=1)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self._fail_startup("did not answer GET /healthz with 200 within %ss" % timeout)

    def _fail_startup(self, what):
        log = self.log_tail()
        self.stop()
        raise RuntimeError("tidewaterd %s during startup:\n%s" % (what, log))

    def crashed(self):
        """The exit status if the server died while the suite was running, else None."""
        return self.process.poll()

    def log_tail(self, size=4000):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            f.seek(max(0, os.path.getsize(self.log_path) - size))
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.process.poll() is None:
            # The server runs in its own process group (start_new_session): stop all of it.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
        if os.environ.get("TIDEWATER_KEEP_DATA"):
            print("tidewaterd data and log kept in", self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_lock = threading.Lock()
_server = None
_server_error = None
_clients = {}


def managed_server():
    """The tidewaterd process this suite started, or None when TIDEWATER_ENDPOINT is used."""
    endpoint()
    return _server


def export_bucket_dir():
    """The local directory of EXPORT_BUCKET of the tidewaterd this suite started (SkipTest
    against another endpoint, whose exports go to buckets this suite cannot read)."""
    server = managed_server()
    if server is None:
        raise unittest.SkipTest("reading exported files needs the tidewaterd this suite started")
    return server.export_bucket_dir


def restart_managed_server():
    """Restarts the tidewaterd this suite started (SkipTest against another endpoint)."""
    server = managed_server()
    if server is None:
        raise unittest.SkipTest("restarting needs the tidewaterd this suite started")
    server.restart()


def endpoint():
    """URL of the DynamoDB endpoint under test, starting tidewaterd on first use."""
    global _server
    configured = os.environ.get("TIDEWATER_ENDPOINT")
    if configured:
        return configured.rstrip("/")
    global _server_error
    with _lock:
        if _server_error is not None:  # a server that failed to start is not retried
            raise RuntimeError(_server_error)
        if _server is None:
            binary = os.environ.get("TIDEWATERD")
            if not binary:
                raise unittest.SkipTest("set TIDEWATERD (server binary) or TIDEWATER_ENDPOINT")
            try:
                _server = _ManagedServer(binary)
            except (OSError, RuntimeError) as e:
                _server_error = str(e)
                raise
            atexit.register(_server.stop)
        return _server.endpoint


def streams_endpoint():
    return os.environ.get("TIDEWATER_STREAMS_ENDPOINT", "").rstrip("/") or endpoint()


def client_config(read_timeout=30):
    # No retries: the suite must see every error the server returns, as returned.
    return botocore.config.Config(region_name=REGION, connect_timeout=5,
                                  read_timeout=read_timeout,
                                  retries={"total_max_attempts": 1, "mode": "standard"})


def dynamodb():
    """A shared boto3 DynamoDB client bound to the endpoint under test."""
    url = endpoint()
    with _lock:
        if "dynamodb" not in _clients:
            _clients["dynamodb"] = boto3.session.Session().client(
                "dynamodb", endpoint_url=url, config=client_config())
        return _clients["dynamodb"]


def streams():
    """A shared boto3 DynamoDB Streams client bound to the endpoint under test."""
    url = streams_endpoint()
    with _lock:
        if "streams" not in _clients:
            _clients["streams"] = boto3.session.Session().client(
                "dynamodbstreams", endpoint_url=url, config=client_config())
        return _clients["streams"]


def unique_name(prefix):
    """A table name no other test (or earlier run against a shared endpoint) uses."""
    return "tw_%s_%s" % (prefix, uuid.uuid4().hex[:10])


def wait_for_table_status(name, status="ACTIVE"):
    deadline = time.monotonic() + STATE_TIMEOUT
    while True:
        table = dynamodb().describe_table(TableName=name)["Table"]
        if table["TableStatus"] == status:
            return table
        if time.monotonic() > deadline:
            raise AssertionError("table %s is %s, not %s, after %ss" %
                                 (name, table["TableStatus"], status, STATE_TIMEOUT))
        time.sleep(0.2)


def wait_for_table_gone(name):
    deadline = time.monotonic() + STATE_TIMEOUT
    while time.monotonic() < deadline:
        try:
            dynamodb().describe_table(TableName=name)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise
        time.sleep(0.2)
    raise AssertionError("table %s still exists %ss after DeleteTable" % (name, STATE_TIMEOUT))


def create_table(name, hash_key=("pk", "S"), range_key=None, stream_view_type=None):
    """CreateTable (on-demand), waits until ACTIVE, returns the CreateTable response."""
    attributes = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        attributes.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    request = {"TableName": name, "AttributeDefinitions": attributes, "KeySchema": schema,
               "BillingMode": "PAY_PER_REQUEST"}
    if stream_view_type:
        request["StreamSpecification"] = {"StreamEnabled": True,
                                          "StreamViewType": stream_view_type}
    response = dynamodb().create_table(**request)
    wait_for_table_status(name)
    return response


def retry_throttled(call, *args, **kwargs):
    """call(*args, **kwargs), retried with backoff while it is throttled, as the SDKs retry by
    default: for bulk loads that outrun a new table's partitions (1,000 write units per
    second each), which this suite's clients, with retries off, would otherwise see."""
    deadline = time.monotonic() + STATE_TIMEOUT
    delay = 0.05
    while True:
        try:
            return call(*args, **kwargs)
        except ClientError as error:
            if (error.response["Error"]["Code"] != "ProvisionedThroughputExceededException"
                    or time.monotonic() > deadline):
                raise
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def delete_table_quietly(name):
    try:
        dynamodb().delete_table(TableName=name)
    except ClientError:
        pass


class ConformanceTestCase(unittest.TestCase):
    """Base class: shared clients, error assertions, and a server liveness check."""

    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.ddb = dynamodb()
        cls._tables_to_drop = []

    @classmethod
    def tearDownClass(cls):
        for name in cls._tables_to_drop:
            delete_table_quietly(name)

    @classmethod
    def create_class_table(cls, prefix, **kwargs):
        """A table that lives for the whole test class and is deleted afterwards."""
        name = unique_name(prefix)
        cls._tables_to_drop.append(name)
        create_table(name, **kwargs)
        return name

    def tearDown(self):
        server = managed_server()
        if server is not None and server.crashed() is not None:
            status, log = server.crashed(), server.log_tail()
            server.restart_after_crash()
            self.fail("tidewaterd died (exit status %s) during this test:\n%s" % (status, log))

    def assertClientError(self, code, call, *args, message=None, **kwargs):
        """call(*args, **kwargs) fails with error `code`, its message containing `message`."""
        with self.assertRaises(ClientError) as context:
            call(*args, **kwargs)
        error = context.exception.response["Error"]
        self.assertEqual(error["Code"], code, "message was: %r" % error.get("Message"))
        if message is not None:
            self.assertIn(message, error.get("Message", ""))
        return context.exception


class ServerProcess:
    """A tidewaterd process of a test's own (not the suite's managed server), on a free port
    with its data directory and log file under `workdir`, started by the constructor."""

    def __init__(self, workdir, *args, listen_host="127.0.0.1"):
        self.binary = os.environ["TIDEWATERD"]
        self.data_dir = os.path.join(workdir, "data")
        self.log_path = os.path.join(workdir, "tidewaterd.log")
        self.port = _free_loopback_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.args = ["--data-dir", self.data_dir, "--listen", "%s:%d" % (listen_host, self.port),
                     "--region", REGION, *args]
        self.process = None
        self.start()

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([self.binary, *self.args], stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("tidewaterd exited with %s:\n%s" %
                                   (self.process.returncode, self.log()))
            try:
                if http_get(self.endpoint, "/healthz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("tidewaterd did not become healthy:\n" + self.log())

    def kill(self):
        """SIGKILL: no clean shutdown of any kind."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self):
        self.stop()
        self.start()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def http_get(base_url, path, timeout=5, signed=False):
    """GET `path`; `signed` adds a SigV4 signature with the suite's credentials (what
    /metrics needs from a server with --auth required)."""
    parsed = urllib.parse.urlsplit(base_url)
    connection_class = (http.client.HTTPSConnection if parsed.scheme == "https"
                        else http.client.HTTPConnection)
    connection = connection_class(parsed.hostname, parsed.port, timeout=timeout)
    headers = {}
    if signed:
        request = botocore.awsrequest.AWSRequest(method="GET", url=base_url + path)
        credentials = boto3.session.Session().get_credentials()
        botocore.auth.SigV4Auth(credentials, "dynamodb", REGION).add_auth(request)
        headers = dict(request.headers.items())
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _service_endpoint(service_prefix):
    return streams_endpoint() if service_prefix.startswith("DynamoDBStreams") else endpoint()


def signed_headers(target, body, service_prefix="DynamoDB_20120810"):
    """Headers of a SigV4-signed JSON 1.0 POST of `body` (bytes) to X-Amz-Target `target`."""
    url = _service_endpoint(service_prefix) + "/"
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=url, data=body,
        headers={"Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Target": "%s.%s" % (service_prefix, target)})
    credentials = boto3.session.Session().get_credentials()
    botocore.auth.SigV4Auth(credentials, "dynamodb", REGION).add_auth(request)
    return dict(request.headers.items())


def raw_request(target, body, timeout=30, extra_headers=None,
                service_prefix="DynamoDB_20120810"):
    """POST a signed request with an arbitrary body (and unsigned `extra_headers`, such as
    Content-Encoding) to the DynamoDB endpoint, or to the Streams endpoint when
    `service_prefix` is DynamoDBStreams_20120810; returns (status, headers, body bytes)."""
    parsed = urllib.parse.urlsplit(_service_endpoint(service_prefix))
    connection_class = (http.client.HTTPSConnection if parsed.scheme == "https"
                        else http.client.HTTPConnection)
    connection = connection_class(parsed.hostname, parsed.port, timeout=timeout)
    headers = signed_headers(target, body, service_prefix)
    headers.update(extra_headers or {})
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def endpoint_address():
    """(host, port) of the endpoint under test."""
    parsed = urllib.parse.urlsplit(endpoint())
    return parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)


def open_socket(timeout=10):
    """A raw stream connection to the endpoint (TLS-wrapped for https endpoints)."""
    host, port = endpoint_address()
    sock = socket.create_connection((host, port), timeout=timeout)
    if urllib.parse.urlsplit(endpoint()).scheme == "https":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    return sock
