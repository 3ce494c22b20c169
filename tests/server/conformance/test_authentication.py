"""Request authentication (AWS Signature Version 4) of a tidewaterd started with
--auth required: the AWS SDK and the AWS CLI with good credentials, DynamoDB's errors for
every kind of bad signature, temporary credentials, /metrics and /healthz, credentials
managed with `tidewater admin credentials`, and the start-up rules of --auth.

Runs against tidewaterd processes of its own (the shared fixture's server has auth off):
TIDEWATERD names the binary; the `tidewater` CLI is TIDEWATER, else the one of the same build
tree. The error types and messages asserted are DynamoDB's."""

import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import boto3
import botocore.config
from botocore.exceptions import ClientError

import tidewater_fixture as tw

AWS = "/usr/bin/aws"
REGION = tw.REGION

# The credentials of the --credentials-file every server here starts with.
ADMIN_KEY = "TWTESTADMIN000000001"
ADMIN_SECRET = "admin-secret-0000000000000000000000000000"
TEMP_KEY = "TWTESTTEMP0000000001"
TEMP_SECRET = "temp-secret-00000000000000000000000000000"
TEMP_TOKEN = "temp-session-token-000000000000000000000000000000000000"
EXPIRED_KEY = "TWTESTEXPIRED0000001"
EXPIRED_SECRET = "expired-secret-000000000000000000000000000"
EXPIRED_TOKEN = "expired-session-token-0000000000000000000000000000000000"
CREDENTIALS_FILE = """credentials:
  - access_key_id: %s
    secret_access_key: %s
    principal: admin
  - access_key_id: %s
    secret_access_key: %s
    session_token: %s
    principal: temporary
    expires: 2099-01-01T00:00:00Z
  - access_key_id: %s
    secret_access_key: %s
    session_token: %s
    principal: expired
    expires: 2020-01-01T00:00:00Z
""" % (ADMIN_KEY, ADMIN_SECRET, TEMP_KEY, TEMP_SECRET, TEMP_TOKEN, EXPIRED_KEY, EXPIRED_SECRET,
       EXPIRED_TOKEN)
FILE_SECRETS = (ADMIN_SECRET, TEMP_SECRET, TEMP_TOKEN, EXPIRED_SECRET, EXPIRED_TOKEN)

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.")
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"


def _tidewater_cli():
    configured = os.environ.get("TIDEWATER")
    if configured:
        return configured
    build_dir = os.path.dirname(os.path.dirname(os.path.abspath(os.environ["TIDEWATERD"])))
    return os.path.join(build_dir, "cli", "tidewater")


Server = tw.ServerProcess


def http_get(base_url, path, headers=None, timeout=5):
    parsed = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def http_post(base_url, headers, body, timeout=10):
    """POST / with exactly `headers` (Host included when given); (status, parsed JSON)."""
    parsed = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def amz_date(offset_seconds=0):
    moment = (datetime.datetime.now(datetime.timezone.utc) +
              datetime.timedelta(seconds=offset_seconds))
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signed(base_url, method, path, body, access_key_id, secret, date,
           target=None, token=None, region=REGION, service="dynamodb"):
    """The headers of a request signed with SigV4 (written from the AWS specification, so that
    a request can be signed at any time and then changed)."""
    parsed = urllib.parse.urlsplit(base_url)
    headers = {"host": "%s:%d" % (parsed.hostname, parsed.port), "x-amz-date": date}
    if target:
        headers["content-type"] = "application/x-amz-json-1.0"
        headers["x-amz-target"] = target
    if token:
        headers["x-amz-security-token"] = token
    names = sorted(headers)
    uri, _, query = path.partition("?")
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                                          urllib.parse.quote(v, safe="-_.~")) for k, v in pairs)
    canonical_request = "\n".join([
        method, uri, canonical_query,
        "".join("%s:%s\n" % (name, headers[name].strip()) for name in names),
        ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (date[:8], region, service)
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope,
                                hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), date[:8]), region), service),
                "aws4_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                                "Signature=%s" % (access_key_id, scope, ";".join(names), signature))
    return headers


def make_client(service, endpoint, access_key_id, secret, token=None, region=REGION):
    """A boto3 client of `service` signing with these credentials for `region`."""
    return boto3.session.Session(
        aws_access_key_id=access_key_id, aws_secret_access_key=secret, aws_session_token=token
    ).client(service, endpoint_url=endpoint,
             config=tw.client_config().merge(botocore.config.Config(region_name=region)))


def client_environment(home, access_key_id=ADMIN_KEY, secret=ADMIN_SECRET):
    """The environment of the AWS CLI and the tidewater CLI: these credentials (none when
    None), this region, and a home without AWS files."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(HOME=home, AWS_DEFAULT_REGION=REGION, AWS_PAGER="")
    if access_key_id is not None:
        env.update(AWS_ACCESS_KEY_ID=access_key_id, AWS_SECRET_ACCESS_KEY=secret)
    return env


class _WorkdirTestCase(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def make_workdir(cls, name):
        workdir = tempfile.mkdtemp(prefix="tw-auth-%s-" % name)
        cls.addClassCleanup(shutil.rmtree, workdir, ignore_errors=True)
        return workdir

    @classmethod
    def start_server(cls, name, *args, listen_host="127.0.0.1"):
        server = Server(cls.make_workdir(name), *args, listen_host=listen_host)
        cls.addClassCleanup(server.stop)
        return server

    def client(self, service, endpoint, access_key_id, secret, token=None, region=REGION):
        client = make_client(service, endpoint, access_key_id, secret, token, region)
        self.addCleanup(client.close)
        return client

    def dynamodb(self, access_key_id, secret, token=None, region=REGION):
        return self.client("dynamodb", self.endpoint, access_key_id, secret, token, region)

    def assertAuthError(self, response, error_type, message=None, message_prefix=None):
        status, document = response
        self.assertEqual(status, 400, document)
        self.assertEqual(document.get("__type"), "com.amazon.coral.service#" + error_type, document)
        if message is not None:
            self.assertEqual(document.get("message"), message)
        if message_prefix is not None:
            self.assertTrue(document.get("message", "").startswith(message_prefix), document)

    def assertClientError(self, code, call, *args, message=None, **kwargs):
        with self.assertRaises(ClientError) as context:
            call(*args, **kwargs)
        error = context.exception.response["Error"]
        self.assertEqual(error["Code"], code, error)
        if message is not None:
            self.assertEqual(error["Message"], message)


@unittest.skipUnless(os.environ.get("TIDEWATERD"), "set TIDEWATERD (the tidewaterd binary)")
class RequiredAuthenticationTest(_WorkdirTestCase):
    """One tidewaterd with --auth required (and --log-level debug, so that the log check sees
    every line the authentication writes)."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = cls.make_workdir("required")
        cls.credentials_file = os.path.join(cls.workdir, "credentials.yaml")
        with open(cls.credentials_file, "w") as f:
            f.write(CREDENTIALS_FILE)
        cls.server = cls.start_server("required", "--auth", "required", "--credentials-file",
                                      cls.credentials_file, "--log-level", "debug")
        cls.endpoint = cls.server.endpoint
        cls.admin = make_client("dynamodb", cls.endpoint, ADMIN_KEY, ADMIN_SECRET)
        cls.addClassCleanup(cls.admin.close)

    def table(self, prefix, **kwargs):
        name = tw.unique_name(prefix)
        request = dict(TableName=name, BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                             {"AttributeName": "sk", "AttributeType": "N"}])
        request.update(kwargs)
        self.admin.create_table(**request)
        self.admin.get_waiter("table_exists").wait(TableName=name,
                                                   WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        self.addCleanup(self.admin.delete_table, TableName=name)
        return name

    def post(self, headers, body):
        return http_post(self.endpoint, headers, body)

    def signed_list_tables(self, access_key_id=ADMIN_KEY, secret=ADMIN_SECRET, date=None,
                           **kwargs):
        return signed(self.endpoint, "POST", "/", b"{}", access_key_id, secret,
                      date or amz_date(), target="DynamoDB_20120810.ListTables", **kwargs)

    def tidewater(self, *args, env=None, expect_exit=0):
        command = [_tidewater_cli(), "admin", "credentials", *args, "--endpoint", self.endpoint]
        result = subprocess.run(command, env=env or client_environment(self.workdir),
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, expect_exit, "%s\nstdout: %s\nstderr: %s" %
                         (" ".join(command), result.stdout, result.stderr))
        return result

    def create_with_cli(self, principal, *extra):
        """`tidewater admin credentials create`: its AWS_* lines as a dict."""
        output = self.tidewater("create", "--principal", principal, *extra).stdout
        return dict(line.split("=", 1) for line in output.splitlines()
                    if line and not line.startswith("#"))

    # --- Good credentials -------------------------------------------------------------

    def test_boto3_with_good_credentials_reaches_every_api(self):
        name = self.table("auth_sdk", StreamSpecification={"StreamEnabled": True,
                                                           "StreamViewType": "NEW_IMAGE"})
        self.admin.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"},
                                                  "v": {"S": "x"}})
        item = self.admin.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                                   ConsistentRead=True)["Item"]
        self.assertEqual(item["v"], {"S": "x"})
        queried = self.admin.query(TableName=name, KeyConditionExpression="pk = :p",
                                   ExpressionAttributeValues={":p": {"S": "a"}})
        self.assertEqual(queried["Count"], 1)

        streams = self.client("dynamodbstreams", self.endpoint, ADMIN_KEY, ADMIN_SECRET)
        listed = streams.list_streams(TableName=name)["Streams"]
        self.assertEqual(len(listed), 1)
        described = streams.describe_stream(StreamArn=listed[0]["StreamArn"])
        self.assertEqual(described["StreamDescription"]["TableName"], name)

        autoscaling = self.client("application-autoscaling", self.endpoint, ADMIN_KEY,
                                  ADMIN_SECRET)
        targets = autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb")
        self.assertIn("ScalableTargets", targets)

    @unittest.skipUnless(os.access(AWS, os.X_OK), "awscli is not installed at " + AWS)
    def test_aws_cli_with_good_credentials(self):
        name = self.table("auth_cli")
        env = client_environment(self.workdir)

        def aws(*args):
            return subprocess.run([AWS, "dynamodb", *args, "--endpoint-url", self.endpoint,
                                   "--output", "json"], env=env, capture_output=True, text=True,
                                  timeout=60)

        put = aws("put-item", "--table-name", name, "--item",
                  '{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"cli"}}')
        self.assertEqual(put.returncode, 0, put.stderr)
        got = aws("get-item", "--table-name", name, "--key", '{"pk":{"S":"a"},"sk":{"N":"1"}}')
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(json.loads(got.stdout)["Item"]["v"], {"S": "cli"})

        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        refused = aws("list-tables")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("InvalidSignatureException", refused.stderr)

    # --- Bad signatures, with DynamoDB's errors ----------------------------------------

    def test_request_without_authorization_is_missing_its_token(self):
        headers = {"Content-Type": "application/x-amz-json-1.0",
                   "X-Amz-Target": "DynamoDB_20120810.ListTables"}
        self.assertAuthError(self.post(headers, b"{}"), "MissingAuthenticationTokenException",
                             "Request is missing Authentication Token")

    def test_wrong_secret_is_an_invalid_signature(self):
        client = self.dynamodb(ADMIN_KEY, "not-the-secret-00000000000000000000000000")
        self.assertClientError("InvalidSignatureException", client.list_tables,
                               message=SIGNATURE_MISMATCH)

    def test_unknown_access_key_is_an_unrecognized_client(self):
        client = self.dynamodb("TWNOSUCHKEY000000001", ADMIN_SECRET)
        self.assertClientError("UnrecognizedClientException", client.list_tables,
                               message=INVALID_TOKEN)

    def test_signature_older_than_15_minutes_has_expired(self):
        date = amz_date(-20 * 60)
        self.assertAuthError(self.post(self.signed_list_tables(date=date), b"{}"),
                             "InvalidSignatureException",
                             message_prefix="Signature expired: %s is now earlier than " % date)

    def test_signature_from_the_future_is_not_yet_current(self):
        date = amz_date(20 * 60)
        self.assertAuthError(self.post(self.signed_list_tables(date=date), b"{}"),
                             "InvalidSignatureException",
                             message_prefix="Signature not yet current: %s is still later than "
                             % date)

    def test_captured_request_replays_only_within_15_minutes(self):
        # SigV4 binds a request to its time, not to one use: a captured request can be sent
        # again while its date is within 15 minutes of the server's clock (DynamoDB alike),
        # and is refused once it is older.
        fresh = self.signed_list_tables()
        self.assertEqual(self.post(fresh, b"{}")[0], 200)
        self.assertEqual(self.post(fresh, b"{}")[0], 200)
        captured_16_minutes_ago = self.signed_list_tables(date=amz_date(-16 * 60))
        self.assertAuthError(self.post(captured_16_minutes_ago, b"{}"),
                             "InvalidSignatureException", message_prefix="Signature expired: ")

    def test_body_changed_after_signing_is_an_invalid_signature(self):
        body = json.dumps({"Limit": 1}).encode()
        headers = signed(self.endpoint, "POST", "/", body, ADMIN_KEY, ADMIN_SECRET, amz_date(),
                         target="DynamoDB_20120810.ListTables")
        self.assertEqual(self.post(headers, body)[0], 200)
        self.assertAuthError(self.post(headers, json.dumps({"Limit": 2}).encode()),
                             "InvalidSignatureException", SIGNATURE_MISMATCH)

    def test_authorization_without_signed_headers_is_incomplete(self):
        headers = self.signed_list_tables()
        headers["authorization"] = re.sub(r"SignedHeaders=[^,]*, ", "",
                                          headers["authorization"])
        self.assertAuthError(self.post(headers, b"{}"), "IncompleteSignatureException",
                             message_prefix="Authorization header requires 'SignedHeaders' "
                             "parameter. Authorization=AWS4-HMAC-SHA256 Credential=")

    def test_host_must_be_a_signed_header(self):
        headers = self.signed_list_tables()
        headers["authorization"] = re.sub(r"(SignedHeaders=[^,]*?)host;", r"\1",
                                          headers["authorization"])
        self.assertAuthError(self.post(headers, b"{}"), "InvalidSignatureException",
                             "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                             "Authorization.")

    def test_authorization_without_signature_is_incomplete(self):
        headers = self.signed_list_tables()
        headers["authorization"] = re.sub(r", Signature=[0-9a-f]*", "", headers["authorization"])
        self.assertAuthError(self.post(headers, b"{}"), "IncompleteSignatureException",
                             message_prefix="Authorization header requires 'Signature' "
                             "parameter. Authorization=AWS4-HMAC-SHA256 Credential=")

    def test_scope_of_another_region_is_an_invalid_signature(self):
        client = self.dynamodb(ADMIN_KEY, ADMIN_SECRET, region="eu-west-1")
        self.assertClientError("InvalidSignatureException", client.list_tables,
                               message="Credential should be scoped to a valid region. ")

    def test_scope_of_another_service_is_an_invalid_signature(self):
        headers = self.signed_list_tables(service="s3")
        self.assertAuthError(self.post(headers, b"{}"), "InvalidSignatureException",
                             "Credential should be scoped to correct service: 'dynamodb'. ")

    # --- Temporary credentials ---------------------------------------------------------

    def test_session_token_must_come_with_temporary_credentials(self):
        good = self.dynamodb(TEMP_KEY, TEMP_SECRET, token=TEMP_TOKEN)
        self.assertIn("TableNames", good.list_tables())
        without_token = self.dynamodb(TEMP_KEY, TEMP_SECRET)
        self.assertClientError("UnrecognizedClientException", without_token.list_tables,
                               message=INVALID_TOKEN)
        wrong_token = self.dynamodb(TEMP_KEY, TEMP_SECRET, token=TEMP_TOKEN + "x")
        self.assertClientError("UnrecognizedClientException", wrong_token.list_tables,
                               message=INVALID_TOKEN)

    def test_expired_temporary_credentials(self):
        client = self.dynamodb(EXPIRED_KEY, EXPIRED_SECRET, token=EXPIRED_TOKEN)
        self.assertClientError("ExpiredTokenException", client.list_tables,
                               message=EXPIRED_TOKEN_MESSAGE)

    # --- /metrics, /healthz, the console -----------------------------------------------

    def test_metrics_need_a_signature_and_healthz_does_not(self):
        status, body = http_get(self.endpoint, "/metrics")
        self.assertEqual(status, 403)
        self.assertEqual(body, b"MissingAuthenticationTokenException: "
                               b"Request is missing Authentication Token\n")
        headers = signed(self.endpoint, "GET", "/metrics", b"", ADMIN_KEY, ADMIN_SECRET,
                         amz_date())
        status, body = http_get(self.endpoint, "/metrics", headers)
        self.assertEqual(status, 200, body)
        self.assertIn(b"tidewater_", body)
        wrong = signed(self.endpoint, "GET", "/metrics", b"", ADMIN_KEY, "not-the-secret",
                       amz_date())
        status, body = http_get(self.endpoint, "/metrics", wrong)
        self.assertEqual(status, 403)
        self.assertTrue(body.startswith(b"InvalidSignatureException: "), body)
        self.assertEqual(http_get(self.endpoint, "/healthz"), (200, b"ok"))

    def test_console_needs_a_signature_like_metrics(self):
        self.assertEqual(http_get(self.endpoint, "/console")[0], 403)
        self.assertEqual(http_get(self.endpoint, "/console/api/history")[0], 403)
        headers = signed(self.endpoint, "GET", "/console/api/history", b"", ADMIN_KEY,
                         ADMIN_SECRET, amz_date())
        self.assertEqual(http_get(self.endpoint, "/console/api/history", headers)[0], 200)

    # --- Credentials managed with `tidewater admin credentials` -------------------------

    def test_cli_created_credentials_work_survive_a_restart_and_stop_after_delete(self):
        created = self.create_with_cli("carol")
        self.assertEqual(sorted(created), ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])
        key, secret = created["AWS_ACCESS_KEY_ID"], created["AWS_SECRET_ACCESS_KEY"]
        self.assertIn("TableNames", self.dynamodb(key, secret).list_tables())

        listed = self.tidewater("list", "--json").stdout
        self.assertNotIn(secret, listed)
        entries = {entry["AccessKeyId"]: entry for entry in json.loads(listed)["Credentials"]}
        self.assertEqual(entries[key], {"AccessKeyId": key, "Principal": "carol",
                                        "Temporary": False})
        self.assertEqual(entries[ADMIN_KEY]["Principal"], "admin")
        self.assertIn(key, self.tidewater("list").stdout)

        self.server.restart()
        self.assertIn("TableNames", self.dynamodb(key, secret).list_tables())

        self.tidewater("delete", key)
        self.assertClientError("UnrecognizedClientException",
                               self.dynamodb(key, secret).list_tables,
                               message=INVALID_TOKEN)
        gone = self.tidewater("delete", key, expect_exit=1)
        self.assertIn("ResourceNotFoundException", gone.stderr)

    def test_cli_created_temporary_credentials(self):
        created = self.create_with_cli("dave", "--session-token", "--expires-in-seconds", "3600")
        key, secret = created["AWS_ACCESS_KEY_ID"], created["AWS_SECRET_ACCESS_KEY"]
        token = created["AWS_SESSION_TOKEN"]
        self.assertIn("TableNames", self.dynamodb(key, secret, token).list_tables())
        self.assertClientError("UnrecognizedClientException",
                               self.dynamodb(key, secret).list_tables)
        entry = next(entry for entry in json.loads(self.tidewater("list", "--json").stdout)
                     ["Credentials"] if entry["AccessKeyId"] == key)
        self.assertTrue(entry["Temporary"])
        self.assertAlmostEqual(entry["Expiration"], time.time() + 3600, delta=120)
        self.tidewater("delete", key)

    def test_cli_answers_json_and_refuses_bad_requests(self):
        answer = json.loads(self.tidewater("create", "--principal", "erin", "--json").stdout)
        credentials = answer["Credentials"]
        self.assertEqual(sorted(credentials), ["AccessKeyId", "Principal", "SecretAccessKey"])
        self.assertRegex(credentials["AccessKeyId"], r"^TW[A-Z2-7]{18}$")
        self.assertRegex(credentials["SecretAccessKey"], r"^[A-Za-z0-9+/]{40}$")
        self.tidewater("delete", credentials["AccessKeyId"])

        bad_principal = self.tidewater("create", "--principal", "no spaces", expect_exit=1)
        self.assertIn("ValidationException", bad_principal.stderr)
        given_at_start = self.tidewater("delete", ADMIN_KEY, expect_exit=1)
        self.assertIn("ValidationException", given_at_start.stderr)
        self.assertIn("--credentials-file", given_at_start.stderr)
        unsigned = self.tidewater("list", env=client_environment(self.workdir, None, None),
                                  expect_exit=1)
        self.assertIn("MissingAuthenticationTokenException", unsigned.stderr)

    def test_secrets_never_reach_the_log(self):
        created = self.create_with_cli("frank", "--session-token")
        self.dynamodb(created["AWS_ACCESS_KEY_ID"], created["AWS_SECRET_ACCESS_KEY"],
                 created["AWS_SESSION_TOKEN"]).list_tables()
        with self.assertRaises(ClientError):
            self.dynamodb(ADMIN_KEY, "a-wrong-secret-that-must-not-be-logged").list_tables()
        with self.assertRaises(ClientError):
            self.dynamodb(TEMP_KEY, TEMP_SECRET, "a-wrong-token-not-logged").list_tables()
        self.tidewater("delete", created["AWS_ACCESS_KEY_ID"])

        log = self.server.log()
        self.assertIn("event=credentials_created access_key_id=%s principal=frank"
                      % created["AWS_ACCESS_KEY_ID"], log)
        self.assertIn("event=authenticated", log)  # debug lines are in the log
        for secret in (*FILE_SECRETS, created["AWS_SECRET_ACCESS_KEY"],
                       created["AWS_SESSION_TOKEN"], "a-wrong-secret-that-must-not-be-logged",
                       "a-wrong-token-not-logged"):
            self.assertNotIn(secret, log)


@unittest.skipUnless(os.environ.get("TIDEWATERD"), "set TIDEWATERD (the tidewaterd binary)")
class OpenMetricsTest(_WorkdirTestCase):
    """--auth required --metrics-auth open: Prometheus scrapes without signing."""

    @classmethod
    def setUpClass(cls):
        workdir = cls.make_workdir("metrics-open")
        credentials_file = os.path.join(workdir, "credentials.yaml")
        with open(credentials_file, "w") as f:
            f.write(CREDENTIALS_FILE)
        cls.server = cls.start_server("metrics-open", "--auth", "required", "--metrics-auth",
                                      "open", "--credentials-file", credentials_file)

    def test_metrics_and_console_charts_are_open_and_the_api_is_not(self):
        status, body = http_get(self.server.endpoint, "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"tidewater_", body)
        self.assertEqual(http_get(self.server.endpoint, "/console")[0], 200)
        self.assertEqual(http_get(self.server.endpoint, "/console/api/history")[0], 200)
        # The live stream shows items: it needs a signature whatever --metrics-auth says.
        self.assertEqual(http_get(self.server.endpoint, "/console/api/stream?table=t")[0], 403)
        self.assertAuthError(
            http_post(self.server.endpoint, {"Content-Type": "application/x-amz-json-1.0",
                                             "X-Amz-Target": "DynamoDB_20120810.ListTables"},
                      b"{}"),
            "MissingAuthenticationTokenException", "Request is missing Authentication Token")
        self.assertIn('auth="required (SigV4 for region %s; 3 credentials given at start, '
                      '0 stored; GET /metrics open)"' % REGION, self.server.log())


@unittest.skipUnless(os.environ.get("TIDEWATERD"), "set TIDEWATERD (the tidewaterd binary)")
class AuthModeTest(_WorkdirTestCase):
    """--auth's defaults and start-up refusals."""

    def test_loopback_default_is_off_and_says_so(self):
        server = self.start_server("loopback")
        self.assertIn('auth="off (loopback only; requests are not authenticated)"', server.log())
        status, document = http_post(server.endpoint,
                                     {"Content-Type": "application/x-amz-json-1.0",
                                      "X-Amz-Target": "DynamoDB_20120810.ListTables"}, b"{}")
        self.assertEqual(status, 200, document)
        self.assertEqual(http_get(server.endpoint, "/metrics")[0], 200)
        # No credentials to manage without authentication.
        status, document = http_post(server.endpoint,
                                     {"Content-Type": "application/x-amz-json-1.0",
                                      "X-Amz-Target": "TidewaterAdmin_20261205.ListCredentials"},
                                     b"{}")
        self.assertEqual(status, 400)
        self.assertTrue(document["__type"].endswith("#ValidationException"), document)

    def test_default_on_every_interface_is_required(self):
        server = self.start_server("any-interface", listen_host="0.0.0.0")
        self.assertIn('auth="required (SigV4', server.log())
        status, document = http_post(server.endpoint,
                                     {"Content-Type": "application/x-amz-json-1.0",
                                      "X-Amz-Target": "DynamoDB_20120810.ListTables"}, b"{}")
        self.assertEqual(status, 400)
        self.assertEqual(document["__type"],
                         "com.amazon.coral.service#MissingAuthenticationTokenException")

    def run_refused(self, *args):
        workdir = self.make_workdir("refused")
        result = subprocess.run([os.environ["TIDEWATERD"], "--data-dir",
                                 os.path.join(workdir, "data"), *args],
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout + result.stderr

    def test_auth_off_on_every_interface_refuses_to_start(self):
        output = self.run_refused("--listen", "0.0.0.0:0", "--auth", "off")
        self.assertIn("--auth off would let anyone who reaches 0.0.0.0:0 do anything: "
                      "authentication may be off only on a loopback --listen address", output)

    def test_credentials_file_without_auth_refuses_to_start(self):
        output = self.run_refused("--listen", "127.0.0.1:0", "--credentials-file",
                                  "/nonexistent.yaml")
        self.assertIn("--credentials-file needs --auth required", output)


if __name__ == "__main__":
    unittest.main()
