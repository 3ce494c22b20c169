"""Table exports under faults, against a real S3-compatible server (s3rver): the object store
killed in the middle of an export, tidewaterd killed (SIGKILL) in the middle of an export, an
endpoint that nothing listens on, and a bucket the endpoint does not have.

Each case asserts what DynamoDB promises: an export ends COMPLETED or FAILED (never stays
IN_PROGRESS), a FAILED export says why (FailureCode, FailureMessage), the exported table is
only read (every item written is there, unchanged), tidewaterd keeps serving, and an export
requested again once the fault is gone COMPLETES with every item of the table exactly once.

These tests start their own processes (the suite's shared tidewaterd writes its exports to a
local directory): an s3rver on a free loopback port (restarted on the same port and
directory after it is killed) and a tidewaterd whose --s3-endpoint is that s3rver, with
throttling off for the bulk load. They are skipped against TIDEWATER_ENDPOINT (the processes
must be killed) and without s3rver, which scripts/common.sh install_s3rver puts into
build-tools/ (TIDEWATER_S3RVER names another binary).

tidewaterd has no option for the size of an export's data files (TableExportOptions'
default, 64 MiB of uncompressed data, applies), so the table is large enough for two data
files: ITEMS items of VALUE_BYTES random (incompressible) bytes, about 80 MiB of DynamoDB
JSON. The faults are injected once the first data file is stored in s3rver (its directory
shows the object's metadata, which s3rver writes after the object), so they land in the
middle of an export, deterministically."""

import base64
import concurrent.futures
import glob
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import tempfile
import time
import unittest
import uuid

import tidewater_fixture as tw
from s3rver_fixture import (BUCKET, S3RVER, START_TIMEOUT, S3EndpointServer, S3rver,
                            free_loopback_port)

ITEMS = 15000
VALUE_BYTES = 4000
# Bounds of the waits (seconds) besides START_TIMEOUT. An S3 request of tidewaterd gives up
# after 30 s.
EXPORT_TIMEOUT = 60
# A failure that names a connection to the endpoint that failed, whatever the stage.
CONNECTION_FAILURE = re.compile(r"(?i)refused|reset|closed|end of stream|broken pipe|eof")


def value_of(i):
    """Item i's binary attribute: VALUE_BYTES pseudo-random bytes, the same on every call."""
    return random.Random(i).randbytes(VALUE_BYTES)


def key_of(i):
    return "k%05d" % i


def item_of(i):
    return {"pk": {"S": key_of(i)}, "n": {"N": str(i)}, "v": {"B": value_of(i)}}


def md5_base64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def create_table(ddb, name):
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    deadline = time.monotonic() + START_TIMEOUT
    while ddb.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise AssertionError("table %s not ACTIVE after %ss" % (name, START_TIMEOUT))
        time.sleep(0.05)
    ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    return ddb.describe_table(TableName=name)["Table"]["TableArn"]


def load(ddb, table, indexes):
    """BatchWriteItem of item_of(i) for every i, 25 at a time on 4 threads."""
    def write(batch):
        requests = {table: [{"PutRequest": {"Item": item_of(i)}} for i in batch]}
        deadline = time.monotonic() + EXPORT_TIMEOUT
        while requests:
            requests = ddb.batch_write_item(RequestItems=requests).get("UnprocessedItems")
            if requests and time.monotonic() > deadline:
                raise AssertionError("BatchWriteItem left items unprocessed for %ss" %
                                     EXPORT_TIMEOUT)
    batches = [indexes[start:start + 25] for start in range(0, len(indexes), 25)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for done in pool.map(write, batches):
            pass


class ExportFaultTest(unittest.TestCase):

    maxDiff = 2000

    @classmethod
    def setUpClass(cls):
        if os.environ.get("TIDEWATER_ENDPOINT"):
            raise unittest.SkipTest("killing the server needs the tidewaterd this suite starts")
        binary = os.environ.get("TIDEWATERD")
        if not binary:
            raise unittest.SkipTest("set TIDEWATERD (server binary)")
        if not os.access(S3RVER, os.X_OK):
            raise unittest.SkipTest("s3rver is not installed at %s: run scripts/common.sh's "
                                    "install_s3rver (npm install --prefix build-tools "
                                    "s3rver@3.7.1)" % S3RVER)
        cls.binary = binary
        cls.workdir = tempfile.mkdtemp(prefix="tw-export-faults-")
        cls.s3 = S3rver(cls.workdir)
        cls.tw = None
        try:
            cls.s3.start()
            cls.tw = S3EndpointServer(binary, cls.s3.endpoint)
            cls.ddb = cls.tw.client()
            cls.s3_client = cls.s3.client()
            cls.table = tw.unique_name("exfault")
            cls.table_arn = create_table(cls.ddb, cls.table)
            load(cls.ddb, cls.table, list(range(ITEMS)))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for client in ("ddb", "s3_client"):
            if hasattr(cls, client):
                getattr(cls, client).close()
        if cls.tw is not None:
            cls.tw.stop()  # removes its own work directory unless TIDEWATER_KEEP_DATA
        cls.s3.kill()
        if os.environ.get("TIDEWATER_KEEP_DATA"):
            print("s3rver data and log kept in", cls.workdir)
        else:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def setUp(self):
        # A test that failed half-way may have left a process down: the next one starts
        # from running processes.
        self.s3.start()
        if self.tw.crashed() is not None:
            self.tw.restart_after_crash()

    def tearDown(self):
        # Every test leaves tidewaterd running (the one that kills it restarts it): one that
        # is not died on its own.
        status = self.tw.crashed()
        if status is not None:
            self.fail("tidewaterd died (exit status %s) during this test:\n%s" %
                      (status, self.tw.log_tail()))

    # ---- exports

    def export(self, prefix, bucket=BUCKET, ddb=None, table_arn=None):
        started = (ddb or self.ddb).export_table_to_point_in_time(
            TableArn=table_arn or self.table_arn, S3Bucket=bucket,
            S3Prefix=prefix)["ExportDescription"]
        self.assertEqual(started["ExportStatus"], "IN_PROGRESS", started)
        return started

    def wait_for_export(self, export_arn, ddb=None):
        """DescribeExport until the export is no longer IN_PROGRESS (bounded)."""
        deadline = time.monotonic() + EXPORT_TIMEOUT
        while True:
            description = (ddb or self.ddb).describe_export(
                ExportArn=export_arn)["ExportDescription"]
            if description["ExportStatus"] != "IN_PROGRESS":
                return description
            if time.monotonic() > deadline:
                self.fail("export %s still IN_PROGRESS after %ss" % (export_arn, EXPORT_TIMEOUT))
            time.sleep(0.05)

    def wait_for_first_data_file(self, prefix, export_arn):
        """Waits until s3rver has stored the export's first data file (its metadata is
        written, whole, after the object) while the export is still IN_PROGRESS."""
        pattern = os.path.join(self.s3.directory, BUCKET, *prefix.split("/"), "AWSDynamoDB",
                               "*", "data", "*._S3rver_metadata.json")
        deadline = time.monotonic() + EXPORT_TIMEOUT
        polls = 0
        while not any(self.s3.is_complete_json(path) for path in glob.glob(pattern)):
            polls += 1
            if polls % 20 == 0:
                description = self.ddb.describe_export(ExportArn=export_arn)["ExportDescription"]
                self.assertEqual(description["ExportStatus"], "IN_PROGRESS",
                                 "the export ended before its first data file was stored: %s"
                                 % description)
            if time.monotonic() > deadline:
                self.fail("export %s stored no data file in %ss" % (export_arn, EXPORT_TIMEOUT))
            time.sleep(0.01)

    def assert_failed(self, final):
        self.assertEqual(final["ExportStatus"], "FAILED", final)
        self.assertTrue(final.get("FailureCode"), final)
        self.assertTrue(final.get("FailureMessage"), final)
        self.assertIn("EndTime", final)
        self.assertGreaterEqual(final["EndTime"], final["StartTime"])
        self.assertNotIn("ExportManifest", final)

    def assert_store_down_failure(self, final, endpoint):
        """FAILED because the S3 endpoint could not be reached: the message names the
        endpoint and the connection failure, and the code does not claim a missing bucket."""
        self.assert_failed(final)
        self.assertNotEqual(final["FailureCode"], "S3NoSuchBucket", final)
        self.assertIn(endpoint, final["FailureMessage"])
        self.assertRegex(final["FailureMessage"], CONNECTION_FAILURE)

    def assert_no_manifest(self, prefix, export_arn):
        """What a failed export left in the bucket is not a readable export: its directory
        has no manifest-summary.json (readers start there)."""
        export_id = export_arn.rsplit("/", 1)[1]
        listing = self.s3_client.list_objects_v2(
            Bucket=BUCKET, Prefix="%s/AWSDynamoDB/%s/" % (prefix, export_id))
        keys = [entry["Key"].rsplit("/", 1)[1] for entry in listing.get("Contents", [])]
        self.assertIn("_started", keys)  # it did start writing
        self.assertNotIn("manifest-summary.json", keys)
        self.assertNotIn("manifest-files.json", keys)

    def listed(self, ddb=None, table_arn=None):
        """ListExports of the table, every page: {ExportArn: ExportStatus}."""
        request, statuses = {"TableArn": table_arn or self.table_arn}, {}
        for _ in range(100):
            page = (ddb or self.ddb).list_exports(**request)
            statuses.update({s["ExportArn"]: s["ExportStatus"] for s in page["ExportSummaries"]})
            if "NextToken" not in page:
                return statuses
            request["NextToken"] = page["NextToken"]
        self.fail("ListExports did not end in 100 pages")

    # ---- what the table and the exports hold

    def assert_table_intact(self):
        """A consistent Scan gives exactly the items written (every attribute), and GetItem
        some of them."""
        scanned, request = {}, {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self.ddb.scan(**request)
            for item in page["Items"]:
                key = item["pk"]["S"]
                self.assertNotIn(key, scanned, "Scan gave %s twice" % key)
                scanned[key] = item
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        self.assertEqual(len(scanned), ITEMS)
        self.assertEqual(set(scanned), {key_of(i) for i in range(ITEMS)})
        wrong = [key_of(i) for i in range(ITEMS) if scanned[key_of(i)] != item_of(i)]
        self.assertEqual(wrong, [], "items whose attributes changed")
        for i in (0, ITEMS // 2, ITEMS - 1):
            got = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": key_of(i)}},
                                    ConsistentRead=True)
            self.assertEqual(got.get("Item"), item_of(i))

    def get_object(self, key):
        return self.s3_client.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def assert_export_holds_the_table(self, final):
        """A COMPLETED export's manifests and data files (read from s3rver) hold every item
        of the table exactly once, attribute for attribute."""
        self.assertEqual(final["ExportStatus"], "COMPLETED",
                         "%s: %s" % (final.get("FailureCode"), final.get("FailureMessage")))
        self.assertEqual(final["ItemCount"], ITEMS)
        summary = json.loads(self.get_object(final["ExportManifest"]))
        self.assertEqual(summary["exportArn"], final["ExportArn"])
        self.assertEqual(summary["itemCount"], ITEMS)
        files = [json.loads(line) for line in
                 self.get_object(summary["manifestFilesS3Key"]).decode().splitlines() if line]
        # No option makes data files smaller than 64 MiB: this table needs two.
        self.assertGreaterEqual(len(files), 2, files)
        seen = {}
        for entry in files:
            compressed = self.get_object(entry["dataFileS3Key"])
            self.assertEqual(entry["md5Checksum"], md5_base64(compressed))
            lines = [line for line in gzip.decompress(compressed).splitlines() if line]
            self.assertEqual(entry["itemCount"], len(lines), entry)
            for line in lines:
                item = json.loads(line)["Item"]
                key = item["pk"]["S"]
                self.assertNotIn(key, seen, "%s exported twice" % key)
                seen[key] = item
        self.assertEqual(set(seen), {key_of(i) for i in range(ITEMS)})
        for i in range(ITEMS):
            exported = seen[key_of(i)]
            self.assertEqual((exported["n"], base64.b64decode(exported["v"]["B"])),
                             ({"N": str(i)}, value_of(i)), key_of(i))

    # ---- the faults

    def test_s3_killed_mid_export_fails_it_and_a_new_export_completes(self):
        prefix = "s3down-" + uuid.uuid4().hex[:8]
        started = self.export(prefix)
        arn = started["ExportArn"]
        self.wait_for_first_data_file(prefix, arn)
        self.s3.kill()

        final = self.wait_for_export(arn)
        self.assert_store_down_failure(final, self.s3.endpoint)
        self.assertIsNone(self.tw.crashed(), "tidewaterd died:\n" + self.tw.log_tail())
        self.assertEqual(self.listed()[arn], "FAILED")
        self.assertEqual(self.ddb.describe_table(TableName=self.table)["Table"]["TableStatus"],
                         "ACTIVE")
        self.assert_table_intact()

        self.s3.start()  # same port, same directory
        self.assert_no_manifest(prefix, arn)
        again = self.wait_for_export(self.export(prefix + "-again")["ExportArn"])
        self.assert_export_holds_the_table(again)
        # The failed export stays FAILED.
        self.assertEqual(self.ddb.describe_export(ExportArn=arn)["ExportDescription"], final)

    def test_tidewaterd_killed_mid_export_is_failed_after_restart(self):
        prefix = "twkill-" + uuid.uuid4().hex[:8]
        started = self.export(prefix)
        arn = started["ExportArn"]
        self.wait_for_first_data_file(prefix, arn)
        self.tw.kill9()
        self.tw.restart_after_crash()  # same data directory and port

        final = self.ddb.describe_export(ExportArn=arn)["ExportDescription"]
        self.assert_failed(final)
        self.assertIn("restarted", final["FailureMessage"])
        self.assertEqual(final["StartTime"], started["StartTime"])
        statuses = self.listed()
        self.assertEqual(statuses[arn], "FAILED")
        self.assertNotIn("IN_PROGRESS", statuses.values(), statuses)
        # The record was rewritten FAILED at the restart: another restart shows it the same.
        self.tw.restart()
        self.assertEqual(self.ddb.describe_export(ExportArn=arn)["ExportDescription"], final)
        self.assert_no_manifest(prefix, arn)
        self.assert_table_intact()

        again = self.wait_for_export(self.export(prefix + "-again")["ExportArn"])
        self.assert_export_holds_the_table(again)
        self.assertEqual(self.listed()[again["ExportArn"]], "COMPLETED")

    def test_endpoint_unreachable_from_the_start_fails_the_export(self):
        nobody = "http://127.0.0.1:%d" % free_loopback_port()  # nothing listens there
        server = S3EndpointServer(self.binary, nobody)
        ddb = server.client()
        try:
            table = tw.unique_name("exnos3")
            table_arn = create_table(ddb, table)
            items = [item_of(i) for i in range(3)]
            for item in items:
                ddb.put_item(TableName=table, Item=item)

            started = self.export("unreachable", ddb=ddb, table_arn=table_arn)
            final = self.wait_for_export(started["ExportArn"], ddb=ddb)
            self.assert_store_down_failure(final, nobody)
            self.assertEqual(self.listed(ddb=ddb, table_arn=table_arn),
                             {started["ExportArn"]: "FAILED"})
            self.assertIsNone(server.crashed(), "tidewaterd died:\n" + server.log_tail())
            for item in items:
                self.assertEqual(ddb.get_item(TableName=table, Key={"pk": item["pk"]},
                                              ConsistentRead=True).get("Item"), item)
        finally:
            ddb.close()
            server.stop()

    def test_bucket_the_endpoint_does_not_have_fails_with_no_such_bucket(self):
        # (test_exports.py covers a bucket no store serves; this one is sent to S3.)
        bucket = "no-such-bucket-" + uuid.uuid4().hex[:12]
        started = self.export("nobucket", bucket=bucket)
        final = self.wait_for_export(started["ExportArn"])
        self.assert_failed(final)
        self.assertEqual(final["FailureCode"], "S3NoSuchBucket")
        self.assertIn("bucket does not exist", final["FailureMessage"])
        self.assertEqual(final["S3Bucket"], bucket)
        self.assertEqual(self.listed()[started["ExportArn"]], "FAILED")
        self.assertFalse(os.path.exists(os.path.join(self.s3.directory, bucket)),
                         "the export created the bucket")
        self.assertNotIn(bucket, [b["Name"] for b in self.s3_client.list_buckets()["Buckets"]])


if __name__ == "__main__":
    unittest.main()
