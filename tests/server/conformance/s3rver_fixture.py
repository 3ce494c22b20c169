"""A real S3-compatible server for the export and import tests: an s3rver child process
(the npm package, installed into build-tools/ by scripts/common.sh install_s3rver) on a
loopback port, which a test can kill (SIGKILL) and start again with its data, and a
tidewaterd of the fixture's kind that writes to it with --s3-endpoint."""

import glob
import json
import os
import signal
import socket
import subprocess
import time

import boto3
import botocore.config

import tidewater_fixture as tw

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "..", "..", ".."))
S3RVER = os.environ.get("TIDEWATER_S3RVER",
                        os.path.join(REPO_ROOT, "build-tools", "node_modules", ".bin", "s3rver"))
# s3rver knows one access key id (its secret is the same text) and does not check signatures.
S3RVER_KEY = "S3RVER"
BUCKET = "exports"
# Bounds of the waits for a process to serve (seconds).
START_TIMEOUT = 30


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class S3rver:
    """An s3rver child process serving BUCKET on a fixed loopback port from a fixed
    directory: kill() (SIGKILL) and start() again give an object store that went away and
    came back with its data."""

    def __init__(self, workdir):
        self.directory = os.path.join(workdir, "s3rver")
        os.makedirs(self.directory, exist_ok=True)
        self.log_path = os.path.join(workdir, "s3rver.log")
        self.port = free_loopback_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.process = None
        self.env = dict(os.environ)
        # Node 17+ (OpenSSL 3) needs the legacy provider for s3rver's DES continuation tokens.
        if subprocess.run(["node", "--openssl-legacy-provider", "-e", ""],
                          capture_output=True, timeout=30).returncode == 0:
            self.env["NODE_OPTIONS"] = "--openssl-legacy-provider"

    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        if self.running():
            return
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [S3RVER, "--directory", self.directory, "--address", "127.0.0.1",
                 "--port", str(self.port), "--silent", "--configure-bucket", BUCKET],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("s3rver exited (status %s) before serving:\n%s" %
                                   (self.process.returncode, self.log_tail()))
            if port_answers(self.port):
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("s3rver did not answer on port %d within %ss:\n%s" %
                           (self.port, START_TIMEOUT, self.log_tail()))

    def kill(self):
        """SIGKILL, as a crash of the store would be. Objects whose writes the kill cut
        short are then removed: S3 makes a PUT visible whole or not at all, while s3rver
        writes an object's file, then its metadata file, and answers 500 to every listing
        that meets a half-written metadata file."""
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.remove_interrupted_objects()

    def remove_interrupted_objects(self):
        for object_path in glob.glob(os.path.join(self.directory, "**", "*._S3rver_object"),
                                     recursive=True):
            metadata_path = object_path[:-len("object")] + "metadata.json"
            if not self.is_complete_json(metadata_path):
                for path in (object_path, object_path + ".md5", metadata_path):
                    if os.path.exists(path):
                        os.remove(path)

    @staticmethod
    def is_complete_json(path):
        """Whether the file exists and holds a whole JSON document."""
        try:
            with open(path, "rb") as f:
                json.load(f)
            return True
        except (OSError, ValueError):
            return False

    def log_tail(self, size=4000):
        with open(self.log_path, "rb") as f:
            f.seek(max(0, os.path.getsize(self.log_path) - size))
            return f.read().decode("utf-8", "replace")

    def client(self):
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=tw.REGION,
            aws_access_key_id=S3RVER_KEY, aws_secret_access_key=S3RVER_KEY,
            config=botocore.config.Config(connect_timeout=5, read_timeout=60,
                                          retries={"total_max_attempts": 1, "mode": "standard"},
                                          s3={"addressing_style": "path"}))


class S3EndpointServer(tw._ManagedServer):
    """The fixture's managed tidewaterd, but writing its exports to an S3 endpoint (with
    s3rver's credentials, from the environment as OPERATIONS.md advises) and not
    throttling, so that the bulk load is quick; kill9() crashes it."""

    def __init__(self, binary, s3_endpoint):
        self.s3_endpoint = s3_endpoint
        super().__init__(binary)

    def _start(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=S3RVER_KEY, AWS_SECRET_ACCESS_KEY=S3RVER_KEY)
        env.pop("AWS_SESSION_TOKEN", None)
        self.process = subprocess.Popen(
            [self.binary, "--data-dir", self.data_dir, "--listen", "127.0.0.1:%d" % self.port,
             "--region", tw.REGION, "--s3-endpoint", self.s3_endpoint, "--throttling", "off"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._wait_healthy(timeout=START_TIMEOUT)

    def kill9(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def client(self):
        return boto3.session.Session().client("dynamodb", endpoint_url=self.endpoint,
                                              config=tw.client_config(read_timeout=60))
