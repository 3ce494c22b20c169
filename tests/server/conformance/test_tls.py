"""tidewaterd over HTTPS (--tls-cert, --tls-key): the AWS CLI with --ca-bundle and boto3
with verify=CA work; without the CA the CLI fails on the certificate; the protocol and
cipher policy refuses TLS 1.1 and TLS 1.2 without forward secrecy (openssl s_client).

Runs a tidewaterd of its own (TIDEWATERD names the binary) with certificates made here with
the `openssl` command: a test CA and a server certificate for 127.0.0.1 and localhost."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import boto3
from botocore.exceptions import SSLError

import tidewater_fixture as tw

AWS = "/usr/bin/aws"
OPENSSL = shutil.which("openssl")


def _openssl(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(directory):
    """ca.pem, server.pem and server.key in `directory` (ECDSA P-256)."""
    key = ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(*key, "-x509", "-days", "2", "-subj", "/CN=tidewater-test-ca", "-keyout", "ca.key",
             "-out", "ca.pem", cwd=directory)
    _openssl(*key, "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr",
             cwd=directory)
    with open(os.path.join(directory, "server.ext"), "w") as ext:
        ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem",
             cwd=directory)


@unittest.skipUnless(os.environ.get("TIDEWATERD"), "set TIDEWATERD (the tidewaterd binary)")
@unittest.skipUnless(OPENSSL, "the openssl command is not installed")
class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="tw-tls-")
        make_certificates(cls.workdir)
        cls.ca = os.path.join(cls.workdir, "ca.pem")
        cls.port = tw._free_loopback_port()
        cls.endpoint = "https://127.0.0.1:%d" % cls.port
        cls.log = open(os.path.join(cls.workdir, "tidewaterd.log"), "ab")
        cls.process = subprocess.Popen(
            [os.environ["TIDEWATERD"], "--data-dir", os.path.join(cls.workdir, "data"),
             "--listen", "127.0.0.1:%d" % cls.port, "--region", tw.REGION, "--auth", "off",
             "--tls-cert", os.path.join(cls.workdir, "server.pem"),
             "--tls-key", os.path.join(cls.workdir, "server.key")],
            stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            if cls.process.poll() is not None:
                raise RuntimeError("tidewaterd exited: %s" % cls._log_text())
            if "event=listening scheme=https" in cls._log_text():
                break
            if time.time() > deadline:
                raise RuntimeError("tidewaterd did not start: %s" % cls._log_text())
            time.sleep(0.05)

    @classmethod
    def _log_text(cls):
        with open(os.path.join(cls.workdir, "tidewaterd.log"), errors="replace") as log:
            return log.read()

    @classmethod
    def tearDownClass(cls):
        cls.process.send_signal(signal.SIGTERM)
        try:
            cls.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            cls.process.kill()
            cls.process.wait()
        cls.log.close()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def aws(self, *args):
        env = dict(os.environ)
        env.pop("AWS_CA_BUNDLE", None)
        return subprocess.run([AWS, "dynamodb", *args, "--endpoint-url", self.endpoint,
                               "--region", tw.REGION, "--output", "json"],
                              capture_output=True, text=True, timeout=60, env=env)

    @unittest.skipUnless(os.access(AWS, os.X_OK), "awscli is not installed at " + AWS)
    def test_aws_cli_with_the_ca_bundle(self):
        listed = self.aws("list-tables", "--ca-bundle", self.ca)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("TableNames", listed.stdout)

    @unittest.skipUnless(os.access(AWS, os.X_OK), "awscli is not installed at " + AWS)
    def test_aws_cli_without_the_ca_bundle_fails_on_the_certificate(self):
        listed = self.aws("list-tables", "--cli-connect-timeout", "5")
        self.assertNotEqual(listed.returncode, 0)
        self.assertIn("SSL", listed.stderr)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", listed.stderr)

    def test_boto3_with_verify(self):
        client = boto3.client("dynamodb", endpoint_url=self.endpoint, region_name=tw.REGION,
                              verify=self.ca)
        name = tw.unique_name("tls")
        client.create_table(TableName=name,
                            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        client.put_item(TableName=name, Item={"k": {"S": "a"}, "v": {"N": "1"}})
        item = client.get_item(TableName=name, Key={"k": {"S": "a"}})["Item"]
        self.assertEqual(item["v"], {"N": "1"})
        unverified = boto3.client("dynamodb", endpoint_url=self.endpoint, region_name=tw.REGION)
        with self.assertRaises(SSLError):
            unverified.list_tables()

    def s_client(self, *args):
        return subprocess.run(
            [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % self.port, "-CAfile", self.ca,
             *args],
            input="", capture_output=True, text=True, timeout=30)

    def test_tls12_with_forward_secrecy_and_tls13_are_accepted(self):
        for args in (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], ["-tls1_3"]):
            shaken = self.s_client(*args)
            self.assertEqual(shaken.returncode, 0, shaken.stdout + shaken.stderr)
            self.assertIn("Verify return code: 0 (ok)", shaken.stdout)

    def test_tls11_is_refused(self):
        # Security level 0 lets the client offer TLS 1.1 at all; the server still refuses.
        refused = self.s_client("-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
        self.assertNotEqual(refused.returncode, 0, refused.stdout)

    def test_tls12_without_forward_secrecy_is_refused(self):
        refused = self.s_client("-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0")
        self.assertNotEqual(refused.returncode, 0, refused.stdout)
        refused = self.s_client("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA")
        self.assertNotEqual(refused.returncode, 0, refused.stdout)


if __name__ == "__main__":
    unittest.main()
