"""Table exports: ExportTableToPointInTime (full exports in DYNAMODB_JSON and ION of items of
every attribute type, a full export at a past time, incremental exports of a window in both
view types, ClientToken idempotency, a bucket that does not exist), DescribeExport (also after
a restart), ListExports (table filter, pages), their errors, and the AWS CLI's commands.

Exports are written to the bucket tw.EXPORT_BUCKET, which the tidewaterd this suite starts
maps to a local directory (--s3-local-bucket); the tests read the exported files from there
(manifest-summary.json, manifest-files.json, the gzip data files and their MD5s), so they are
skipped against another endpoint. The installed botocore predates incremental exports
(ExportType, IncrementalExportSpecification) and sends timestamps in whole seconds, so
incremental exports and the validation cases go as signed raw requests: the wire format is
DynamoDB's. The suite's server accepts incremental windows from tw.EXPORT_MIN_INCREMENTAL_WINDOW
seconds (DynamoDB: 15 minutes)."""

import base64
import datetime
import gzip
import hashlib
import json
import math
import os
import re
import subprocess
import time
import unittest
import uuid

from boto3.dynamodb.types import TypeDeserializer

import tidewater_fixture as tw

AWS = "/usr/bin/aws"
BUCKET = tw.EXPORT_BUCKET
EXPORT_ID = re.compile(r"^\d{14}-[0-9a-f]{8}$")


def call(operation, **request):
    """(HTTP status, parsed answer) of a signed DynamoDB `operation`."""
    status, _, body = tw.raw_request(operation, json.dumps(request).encode())
    return status, json.loads(body)


def error_code(answer):
    return answer.get("__type", "").rsplit("#", 1)[-1]


def described_raw(export_arn):
    """DescribeExport's ExportDescription as sent: with the members the installed botocore
    does not know (ExportType, IncrementalExportSpecification)."""
    status, answer = call("DescribeExport", ExportArn=export_arn)
    assert status == 200, answer
    return answer["ExportDescription"]


def listed_raw(**request):
    """ListExports' ExportSummaries as sent (with ExportType, which the installed botocore
    does not know)."""
    status, answer = call("ListExports", **request)
    assert status == 200, answer
    return answer["ExportSummaries"]


def typed_item(i):
    """An item with an attribute of every type, as the low-level client writes it."""
    return {"pk": {"S": "p%d" % i}, "sk": {"N": str(i)},
            "s": {"S": "text %d \u00e9" % i}, "n": {"N": "%d.25" % i},
            "b": {"B": bytes([i, 0, 255])}, "flag": {"BOOL": i % 2 == 0},
            "nothing": {"NULL": True},
            "ss": {"SS": ["a", "b%d" % i]}, "ns": {"NS": ["1", str(i + 2)]},
            "bs": {"BS": [b"\x01", bytes([i + 2, 7])]},
            "m": {"M": {"k": {"S": "v"}, "n": {"N": str(i)}, "l": {"L": [{"NULL": True}]}}},
            "l": {"L": [{"S": "x"}, {"N": "1"}, {"BOOL": False}, {"M": {}}, {"B": b"\x02"}]}}


def plain_item(i, **attributes):
    item = {"pk": {"S": "p%d" % i}, "sk": {"N": str(i)}}
    item.update({name: {"S": value} for name, value in attributes.items()})
    return item


_deserializer = TypeDeserializer()


def _binary_decoded(value):
    """An attribute value of an export's DynamoDB JSON (B and BS in base64) as the low-level
    client gives it (bytes)."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _binary_decoded(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_binary_decoded(v) for v in inner]}
    return value


def python_item(item, exported=False):
    """An item as Python values (TypeDeserializer): sets compare regardless of order."""
    return {name: _deserializer.deserialize(_binary_decoded(value) if exported else value)
            for name, value in item.items()}


def key_of(item):
    return (item["pk"]["S"], item["sk"]["N"])


def enable_recovery(table):
    tw.dynamodb().update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def put_items(table, items):
    for item in items:
        tw.retry_throttled(tw.dynamodb().put_item, TableName=table, Item=item)


def wait_for_export(export_arn):
    """DescribeExport until the export is no longer IN_PROGRESS; its ExportDescription."""
    deadline = time.monotonic() + tw.STATE_TIMEOUT
    while True:
        description = tw.dynamodb().describe_export(ExportArn=export_arn)["ExportDescription"]
        if description["ExportStatus"] != "IN_PROGRESS":
            return description
        if time.monotonic() > deadline:
            raise AssertionError("export %s still IN_PROGRESS after %ss" %
                                 (export_arn, tw.STATE_TIMEOUT))
        time.sleep(0.1)


def md5_base64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def sleep_past(moment):
    """Sleeps until the wall clock is past `moment` (epoch seconds)."""
    while time.time() <= moment:
        time.sleep(max(0.01, moment - time.time()))


class ExportedFiles:
    """What an export wrote to the local bucket: the two manifests (checked against their
    .md5 objects), each data file (checked against its md5Checksum), and its lines."""

    def __init__(self, test, description):
        self.root = tw.export_bucket_dir()
        manifest_key = description["ExportManifest"]
        test.assertTrue(manifest_key.endswith("/manifest-summary.json"), manifest_key)
        self.export_dir = manifest_key[:-len("manifest-summary.json")]
        self.summary_bytes = self.read(manifest_key)
        test.assertEqual(self.read(self.export_dir + "manifest-summary.md5").decode().strip(),
                         md5_base64(self.summary_bytes))
        self.summary = json.loads(self.summary_bytes)
        files_key = self.summary["manifestFilesS3Key"]
        test.assertEqual(files_key, self.export_dir + "manifest-files.json")
        files_bytes = self.read(files_key)
        test.assertEqual(self.read(self.export_dir + "manifest-files.md5").decode().strip(),
                         md5_base64(files_bytes))
        self.files = [json.loads(line) for line in files_bytes.decode().splitlines() if line]
        test.assertTrue(os.path.isfile(self.path(self.export_dir + "_started")))
        self.lines = []
        for entry in self.files:
            self.check_data_file(test, entry)

    def path(self, key):
        return os.path.join(self.root, *key.split("/"))

    def read(self, key):
        with open(self.path(key), "rb") as f:
            return f.read()

    def check_data_file(self, test, entry):
        self.assertKeys(test, entry, {"itemCount", "md5Checksum", "etag", "dataFileS3Key"})
        compressed = self.read(entry["dataFileS3Key"])
        test.assertEqual(entry["md5Checksum"], md5_base64(compressed))
        test.assertTrue(entry["etag"])
        lines = [line for line in gzip.decompress(compressed).decode().splitlines() if line]
        test.assertEqual(entry["itemCount"], len(lines), entry["dataFileS3Key"])
        self.lines += lines

    @staticmethod
    def assertKeys(test, mapping, keys):
        test.assertTrue(keys.issubset(mapping.keys()), "%s lacks some of %s" % (mapping, keys))


class ExportTestCase(tw.ConformanceTestCase):

    def new_table(self, prefix, recovery=True):
        name = tw.unique_name(prefix)
        self._tables_to_drop.append(name)
        tw.create_table(name, hash_key=("pk", "S"), range_key=("sk", "N"))
        if recovery:
            enable_recovery(name)
        return name, self.ddb.describe_table(TableName=name)["Table"]

    def export(self, table_arn, **request):
        """ExportTableToPointInTime to the local bucket; the ExportDescription answered."""
        return self.ddb.export_table_to_point_in_time(
            TableArn=table_arn, S3Bucket=BUCKET, **request)["ExportDescription"]

    def completed(self, description):
        final = wait_for_export(description["ExportArn"])
        self.assertEqual(final["ExportStatus"], "COMPLETED",
                         "%s: %s" % (final.get("FailureCode"), final.get("FailureMessage")))
        return final


class FullExportTest(ExportTestCase):
    """Full exports of a table holding items of every attribute type."""

    ITEMS = 12

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tw.export_bucket_dir()  # SkipTest against another endpoint
        cls.table = tw.unique_name("exfull")
        cls._tables_to_drop.append(cls.table)
        tw.create_table(cls.table, hash_key=("pk", "S"), range_key=("sk", "N"))
        enable_recovery(cls.table)
        cls.described = tw.dynamodb().describe_table(TableName=cls.table)["Table"]
        cls.items = [typed_item(i) for i in range(cls.ITEMS)]
        put_items(cls.table, cls.items)

    def test_dynamodb_json_export_holds_every_item(self):
        token = str(uuid.uuid4())
        started = self.export(self.described["TableArn"], S3Prefix="full/json",
                              ExportFormat="DYNAMODB_JSON", ClientToken=token)
        self.assertEqual(started["ExportStatus"], "IN_PROGRESS")
        arn = started["ExportArn"]
        prefix = self.described["TableArn"] + "/export/"
        self.assertTrue(arn.startswith(prefix), arn)
        export_id = arn[len(prefix):]
        self.assertRegex(export_id, EXPORT_ID)
        self.assertEqual(started["TableArn"], self.described["TableArn"])
        self.assertEqual(started["TableId"], self.described["TableId"])
        self.assertEqual(started["S3Bucket"], BUCKET)
        self.assertEqual(started["S3Prefix"], "full/json")
        self.assertEqual(started["ExportFormat"], "DYNAMODB_JSON")
        self.assertEqual(started["ClientToken"], token)
        self.assertIsInstance(started["StartTime"], datetime.datetime)
        self.assertIsInstance(started["ExportTime"], datetime.datetime)
        # DynamoDB shows ExportType only when the request named it.
        self.assertNotIn("ExportType", described_raw(arn))
        for member in ("EndTime", "ExportManifest", "ItemCount", "FailureCode"):
            self.assertNotIn(member, started)

        final = self.completed(started)
        self.assertEqual(final["ItemCount"], self.ITEMS)
        self.assertGreater(final["BilledSizeBytes"], 0)
        self.assertGreaterEqual(final["EndTime"], final["StartTime"])
        self.assertEqual(final["ExportManifest"],
                         "full/json/AWSDynamoDB/%s/manifest-summary.json" % export_id)

        files = ExportedFiles(self, final)
        summary = files.summary
        self.assertEqual(summary["version"], "2020-06-30")
        self.assertEqual(summary["exportArn"], arn)
        self.assertEqual(summary["tableArn"], self.described["TableArn"])
        self.assertEqual(summary["tableId"], self.described["TableId"])
        self.assertEqual(summary["s3Bucket"], BUCKET)
        self.assertEqual(summary["s3Prefix"], "full/json")
        self.assertEqual(summary["outputFormat"], "DYNAMODB_JSON")
        self.assertEqual(summary["itemCount"], self.ITEMS)
        self.assertEqual(summary["billedSizeBytes"], final["BilledSizeBytes"])
        ExportedFiles.assertKeys(self, summary, {"startTime", "endTime", "exportTime",
                                                 "s3SseAlgorithm", "s3SseKmsKeyId"})
        start = datetime.datetime.fromisoformat(summary["startTime"].replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(summary["endTime"].replace("Z", "+00:00"))
        self.assertLessEqual(start, end)
        self.assertEqual(sum(entry["itemCount"] for entry in files.files), self.ITEMS)
        for entry in files.files:
            self.assertTrue(entry["dataFileS3Key"].startswith(
                "full/json/AWSDynamoDB/%s/data/" % export_id), entry)
            self.assertTrue(entry["dataFileS3Key"].endswith(".json.gz"), entry)

        exported = []
        for line in files.lines:
            record = json.loads(line)
            self.assertEqual(list(record), ["Item"])
            exported.append(python_item(record["Item"], exported=True))
        exported.sort(key=lambda item: int(item["sk"]))
        self.assertEqual(exported, [python_item(item) for item in self.items])

    def test_ion_export_holds_every_item(self):
        started = self.export(self.described["TableArn"], S3Prefix="full/ion",
                              ExportFormat="ION")
        self.assertEqual(started["ExportFormat"], "ION")
        final = self.completed(started)
        self.assertEqual(final["ItemCount"], self.ITEMS)
        files = ExportedFiles(self, final)
        self.assertEqual(files.summary["outputFormat"], "ION")
        self.assertEqual(files.summary["itemCount"], self.ITEMS)
        for entry in files.files:
            self.assertTrue(entry["dataFileS3Key"].endswith(".ion.gz"), entry)
        self.assertEqual(len(files.lines), self.ITEMS)
        for line in files.lines:
            self.assertTrue(line.startswith("$ion_1_0 {Item:{"), line)
        text = "\n".join(files.lines)
        for item in self.items:
            self.assertIn('"%s"' % item["pk"]["S"], text)

    def test_export_without_a_prefix_is_at_the_bucket_root(self):
        final = self.completed(self.export(self.described["TableArn"]))
        self.assertNotIn("S3Prefix", final)
        self.assertTrue(final["ExportManifest"].startswith("AWSDynamoDB/"), final)
        files = ExportedFiles(self, final)
        self.assertIsNone(files.summary["s3Prefix"])
        self.assertEqual(files.summary["itemCount"], self.ITEMS)

    def test_sse_algorithm_and_export_type_are_reported(self):
        status, answer = call("ExportTableToPointInTime", TableArn=self.described["TableArn"],
                              S3Bucket=BUCKET, S3Prefix="sse", S3SseAlgorithm="AES256",
                              ExportType="FULL_EXPORT")
        self.assertEqual(status, 200, answer)
        started = answer["ExportDescription"]
        self.assertEqual((started["S3SseAlgorithm"], started["ExportType"]),
                         ("AES256", "FULL_EXPORT"))
        self.completed(started)
        final = described_raw(started["ExportArn"])
        self.assertEqual((final["S3SseAlgorithm"], final["ExportType"]), ("AES256", "FULL_EXPORT"))

    def test_export_survives_a_restart(self):
        final = self.completed(self.export(self.described["TableArn"], S3Prefix="restart"))
        tw.restart_managed_server()
        again = self.ddb.describe_export(ExportArn=final["ExportArn"])["ExportDescription"]
        self.assertEqual(again, final)
        listed = self.ddb.list_exports(TableArn=self.described["TableArn"])["ExportSummaries"]
        self.assertIn(final["ExportArn"], [summary["ExportArn"] for summary in listed])


class PointInTimeExportTest(ExportTestCase):

    def test_export_at_a_time_holds_the_table_as_it_was_then(self):
        table, described = self.new_table("expit")
        first = [plain_item(i, v="first") for i in range(5)]
        put_items(table, first)
        # botocore sends ExportTime in whole seconds: T is the first whole second after the
        # first batch, and the second batch waits until T has passed.
        export_time = math.ceil(time.time())
        sleep_past(export_time + 0.2)
        put_items(table, [plain_item(i, v="second") for i in range(5, 8)])
        put_items(table, [plain_item(0, v="changed")])
        self.ddb.delete_item(TableName=table, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}})

        at = datetime.datetime.fromtimestamp(export_time, datetime.timezone.utc)
        started = self.export(described["TableArn"], S3Prefix="pit", ExportTime=at)
        self.assertEqual(started["ExportTime"], at)
        final = self.completed(started)
        self.assertEqual(final["ItemCount"], len(first))
        files = ExportedFiles(self, final)
        exported = sorted((json.loads(line)["Item"] for line in files.lines), key=key_of)
        self.assertEqual(exported, sorted(first, key=key_of))
        self.assertEqual(datetime.datetime.fromisoformat(
            files.summary["exportTime"].replace("Z", "+00:00")), at)

        latest = self.completed(self.export(described["TableArn"], S3Prefix="pit-now"))
        self.assertEqual(latest["ItemCount"], 7)  # 5 + 3 - 1 deleted


class IncrementalExportTest(ExportTestCase):
    """One window of changes, exported with both view types."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tw.export_bucket_dir()  # SkipTest against another endpoint
        cls.table = tw.unique_name("exinc")
        cls._tables_to_drop.append(cls.table)
        tw.create_table(cls.table, hash_key=("pk", "S"), range_key=("sk", "N"))
        enable_recovery(cls.table)
        cls.table_arn = tw.dynamodb().describe_table(TableName=cls.table)["Table"]["TableArn"]
        # Before the window: kept (0), updated in it (1), deleted in it (2).
        put_items(cls.table, [plain_item(0, v="kept"), plain_item(1, v="old"),
                              plain_item(2, v="doomed")])
        time.sleep(0.2)
        cls.window_from = time.time()
        time.sleep(0.1)
        put_items(cls.table, [plain_item(1, v="new"), plain_item(3, v="inserted"),
                              plain_item(4, v="first"), plain_item(5, v="short-lived")])
        put_items(cls.table, [plain_item(4, v="last")])
        for sk in (2, 5):
            tw.dynamodb().delete_item(TableName=cls.table,
                                      Key={"pk": {"S": "p%d" % sk}, "sk": {"N": str(sk)}})
        sleep_past(cls.window_from + tw.EXPORT_MIN_INCREMENTAL_WINDOW + 0.2)
        cls.window_to = time.time()
        time.sleep(0.1)
        # After the window: not exported.
        put_items(cls.table, [plain_item(0, v="later"), plain_item(6, v="later")])

    def incremental(self, view_type, prefix, **extra):
        status, answer = call("ExportTableToPointInTime", TableArn=self.table_arn,
                              S3Bucket=BUCKET, S3Prefix=prefix, ExportType="INCREMENTAL_EXPORT",
                              IncrementalExportSpecification={
                                  "ExportFromTime": self.window_from,
                                  "ExportToTime": self.window_to,
                                  "ExportViewType": view_type}, **extra)
        self.assertEqual(status, 200, answer)
        return answer["ExportDescription"]

    def records(self, description):
        final = self.completed(description)
        files = ExportedFiles(self, final)
        records = {}
        for line in files.lines:
            record = json.loads(line)
            written = int(record["Metadata"]["WriteTimestampMicros"]["N"])
            self.assertGreaterEqual(written, int(self.window_from * 1e6) - 1)
            self.assertLess(written, int(self.window_to * 1e6) + 1)
            records[key_of(record["Keys"])] = record
        return final, files, records

    def test_new_and_old_images(self):
        started = self.incremental("NEW_AND_OLD_IMAGES", "inc/both")
        self.assertEqual(started["ExportType"], "INCREMENTAL_EXPORT")
        self.assertNotIn("ExportTime", started)
        spec = started["IncrementalExportSpecification"]
        self.assertEqual(spec["ExportViewType"], "NEW_AND_OLD_IMAGES")
        self.assertAlmostEqual(spec["ExportFromTime"], self.window_from, places=3)
        self.assertAlmostEqual(spec["ExportToTime"], self.window_to, places=3)

        final, files, records = self.records(started)
        self.assertEqual(sorted(records), [("p1", "1"), ("p2", "2"), ("p3", "3"), ("p4", "4")])
        self.assertEqual(final["ItemCount"], 4)
        updated = records[("p1", "1")]
        self.assertEqual(updated["Keys"], {"pk": {"S": "p1"}, "sk": {"N": "1"}})
        self.assertEqual(updated["NewImage"], plain_item(1, v="new"))
        self.assertEqual(updated["OldImage"], plain_item(1, v="old"))
        deleted = records[("p2", "2")]
        self.assertNotIn("NewImage", deleted)
        self.assertEqual(deleted["OldImage"], plain_item(2, v="doomed"))
        inserted = records[("p3", "3")]
        self.assertEqual(inserted["NewImage"], plain_item(3, v="inserted"))
        self.assertNotIn("OldImage", inserted)
        twice = records[("p4", "4")]
        self.assertEqual(twice["NewImage"], plain_item(4, v="last"))
        self.assertNotIn("OldImage", twice)

        summary = files.summary
        self.assertEqual(summary["version"], "2023-08-01")
        self.assertEqual(summary["exportType"], "INCREMENTAL_EXPORT")
        self.assertEqual(summary["outputView"], "NEW_AND_OLD_IMAGES")
        self.assertEqual(summary["itemCount"], 4)
        ExportedFiles.assertKeys(self, summary, {"exportFromTime", "exportToTime"})

    def test_new_images_only(self):
        final, _, records = self.records(self.incremental("NEW_IMAGE", "inc/new"))
        raw = described_raw(final["ExportArn"])
        self.assertEqual(raw["ExportType"], "INCREMENTAL_EXPORT")
        self.assertEqual(raw["IncrementalExportSpecification"]["ExportViewType"], "NEW_IMAGE")
        self.assertEqual(sorted(records), [("p1", "1"), ("p2", "2"), ("p3", "3"), ("p4", "4")])
        for record in records.values():
            self.assertNotIn("OldImage", record)
        self.assertEqual(records[("p1", "1")]["NewImage"], plain_item(1, v="new"))
        self.assertNotIn("NewImage", records[("p2", "2")])

    def test_listed_with_their_type(self):
        arn = self.incremental("NEW_IMAGE", "inc/listed")["ExportArn"]
        summary = next(s for s in listed_raw(TableArn=self.table_arn) if s["ExportArn"] == arn)
        self.assertEqual(summary["ExportType"], "INCREMENTAL_EXPORT")
        wait_for_export(arn)

    def test_window_rules(self):
        def refused(code, message, **spec):
            status, answer = call("ExportTableToPointInTime", TableArn=self.table_arn,
                                  S3Bucket=BUCKET, ExportType="INCREMENTAL_EXPORT",
                                  IncrementalExportSpecification=spec)
            self.assertEqual((status, error_code(answer)), (400, code), answer)
            if message:
                self.assertIn(message, answer.get("message", ""))

        now = time.time()
        refused("InvalidExportTimeException", "Difference between export period",
                ExportFromTime=self.window_from, ExportToTime=self.window_from + 0.5)
        refused("InvalidExportTimeException", "Difference between export period",
                ExportFromTime=now - 25 * 3600, ExportToTime=now - 60)
        refused("InvalidExportTimeException", None,
                ExportFromTime=self.window_from, ExportToTime=self.window_from - 5)
        refused("InvalidExportTimeException", None,
                ExportFromTime=now + 3600, ExportToTime=now + 7200)
        # Before point-in-time recovery was on.
        refused("InvalidExportTimeException", None,
                ExportFromTime=self.window_from - 3600, ExportToTime=self.window_from - 1800)
        refused("ValidationException", None, ExportToTime=self.window_to)

        status, answer = call("ExportTableToPointInTime", TableArn=self.table_arn,
                              S3Bucket=BUCKET, ExportType="INCREMENTAL_EXPORT")
        self.assertEqual((status, error_code(answer)), (400, "ValidationException"), answer)
        status, answer = call("ExportTableToPointInTime", TableArn=self.table_arn,
                              S3Bucket=BUCKET, IncrementalExportSpecification={
                                  "ExportFromTime": self.window_from,
                                  "ExportToTime": self.window_to})
        self.assertEqual((status, error_code(answer)), (400, "ValidationException"), answer)


class ExportRequestTest(ExportTestCase):
    """ClientToken idempotency, DescribeExport, ListExports and the errors."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tw.export_bucket_dir()  # SkipTest against another endpoint
        cls.table = tw.unique_name("exreq")
        cls._tables_to_drop.append(cls.table)
        tw.create_table(cls.table, hash_key=("pk", "S"), range_key=("sk", "N"))
        enable_recovery(cls.table)
        cls.table_arn = tw.dynamodb().describe_table(TableName=cls.table)["Table"]["TableArn"]
        put_items(cls.table, [plain_item(i, v="x") for i in range(3)])

    def test_client_token_makes_the_request_idempotent(self):
        token = str(uuid.uuid4())
        first = self.export(self.table_arn, S3Prefix="token", ClientToken=token)
        again = self.export(self.table_arn, S3Prefix="token", ClientToken=token)
        self.assertEqual(again["ExportArn"], first["ExportArn"])
        self.assertEqual(again["ClientToken"], token)
        for changed in ({"S3Prefix": "token2"}, {"ExportFormat": "ION"},
                        {"S3SseAlgorithm": "KMS"}):
            with self.subTest(changed=changed):
                request = dict({"S3Prefix": "token", "ClientToken": token}, **changed)
                error = self.assertClientError("ExportConflictException", self.export,
                                               self.table_arn, **request)
                self.assertIn("Duplicate request detected", error.response["Error"]["Message"])
        other, other_described = self.new_table("exreq2")
        self.assertClientError("ExportConflictException", self.export,
                               other_described["TableArn"], S3Prefix="token", ClientToken=token)
        self.completed(first)

    def test_a_refused_request_does_not_take_its_token(self):
        token = str(uuid.uuid4())
        status, answer = call("ExportTableToPointInTime", TableArn=self.table_arn, S3Bucket="",
                              ClientToken=token)
        self.assertEqual((status, error_code(answer)), (400, "ValidationException"), answer)
        started = self.export(self.table_arn, S3Prefix="retoken", ClientToken=token)
        self.assertEqual(started["ClientToken"], token)
        self.completed(started)

    def test_exports_without_a_token_are_distinct(self):
        first = self.export(self.table_arn, S3Prefix="twice")
        second = self.export(self.table_arn, S3Prefix="twice")
        self.assertNotEqual(first["ExportArn"], second["ExportArn"])
        self.assertTrue(first["ClientToken"])
        self.completed(first)
        self.completed(second)

    def test_list_exports_newest_first_in_pages(self):
        table, described = self.new_table("exlist")
        arns = [self.completed(self.export(described["TableArn"], S3Prefix="list%d" % i))[
            "ExportArn"] for i in range(3)]
        listed = self.ddb.list_exports(TableArn=described["TableArn"])
        self.assertEqual([s["ExportArn"] for s in listed["ExportSummaries"]],
                         sorted(arns, reverse=True))
        self.assertNotIn("NextToken", listed)
        for summary in listed_raw(TableArn=described["TableArn"]):
            self.assertEqual((summary["ExportStatus"], summary["ExportType"]),
                             ("COMPLETED", "FULL_EXPORT"))

        paged, request = [], {"TableArn": described["TableArn"], "MaxResults": 1}
        while True:
            page = self.ddb.list_exports(**request)
            self.assertLessEqual(len(page["ExportSummaries"]), 1)
            paged += [s["ExportArn"] for s in page["ExportSummaries"]]
            if "NextToken" not in page:
                break
            request["NextToken"] = page["NextToken"]
        self.assertEqual(paged, sorted(arns, reverse=True))

        everything = [s["ExportArn"] for s in self.ddb.list_exports()["ExportSummaries"]]
        self.assertTrue(set(arns).issubset(everything))
        self.assertEqual(everything, sorted(everything, reverse=True))

        unknown = described["TableArn"].rsplit("/", 1)[0] + "/" + tw.unique_name("nosuch")
        self.assertEqual(self.ddb.list_exports(TableArn=unknown)["ExportSummaries"], [])

    def test_list_exports_errors(self):
        status, answer = call("ListExports", MaxResults=26)
        self.assertEqual((status, error_code(answer)), (400, "ValidationException"), answer)
        status, answer = call("ListExports", MaxResults=0)
        self.assertEqual((status, error_code(answer)), (400, "ValidationException"), answer)
        status, answer = call("ListExports", NextToken="0123456789abcdef" * 16)
        self.assertEqual((status, error_code(answer)), (400, "ValidationException"), answer)
        self.assertIn("ListExports", answer["message"])
        status, answer = call("ListExports", TableArn="QWERTY")
        self.assertEqual((status, error_code(answer)), (400, "ValidationException"), answer)

    def test_export_to_a_bucket_that_does_not_exist_fails(self):
        bucket = "no-such-bucket-" + uuid.uuid4().hex[:12]
        started = self.ddb.export_table_to_point_in_time(
            TableArn=self.table_arn, S3Bucket=bucket)["ExportDescription"]
        self.assertEqual(started["ExportStatus"], "IN_PROGRESS")
        final = wait_for_export(started["ExportArn"])
        self.assertEqual(final["ExportStatus"], "FAILED")
        self.assertEqual(final["FailureCode"], "S3NoSuchBucket")
        self.assertIn("bucket does not exist", final["FailureMessage"])
        self.assertEqual(final["S3Bucket"], bucket)
        self.assertIn("EndTime", final)
        self.assertNotIn("ExportManifest", final)
        listed = self.ddb.list_exports(TableArn=self.table_arn)["ExportSummaries"]
        summary = next(s for s in listed if s["ExportArn"] == started["ExportArn"])
        self.assertEqual(summary["ExportStatus"], "FAILED")

    def test_recovery_off_is_refused(self):
        _, described = self.new_table("exnopitr", recovery=False)
        self.assertClientError("PointInTimeRecoveryUnavailableException", self.export,
                               described["TableArn"])

    def test_export_time_outside_the_recovery_window_is_refused(self):
        hour = datetime.timedelta(hours=1)
        now = datetime.datetime.now(datetime.timezone.utc)
        for when in (now + hour, now - hour):
            with self.subTest(when=when):
                error = self.assertClientError("InvalidExportTimeException", self.export,
                                               self.table_arn, ExportTime=when)
                self.assertIn("ExportTime", error.response["Error"]["Message"])
        status, answer = call("ExportTableToPointInTime", TableArn=self.table_arn,
                              S3Bucket=BUCKET, ExportTime=-1)
        self.assertEqual((status, error_code(answer)), (400, "InvalidExportTimeException"), answer)

    def test_unknown_table_is_refused(self):
        unknown = self.table_arn.rsplit("/", 1)[0] + "/" + tw.unique_name("nosuch")
        error = self.assertClientError("TableNotFoundException", self.export, unknown)
        self.assertIn("not found", error.response["Error"]["Message"])

    def test_describe_export_errors(self):
        self.assertClientError("ExportNotFoundException", self.ddb.describe_export,
                               ExportArn=self.table_arn + "/export/01234567890123-a1b2c3d4")
        for arn in (self.table_arn, "qwerty:aws:dynamodb:us-east-1:000000000000:table/nosuch"):
            with self.subTest(arn=arn):
                status, answer = call("DescribeExport", ExportArn=arn)
                self.assertEqual((status, error_code(answer)), (400, "ValidationException"),
                                 answer)
                self.assertIn("Invalid Export ARN", answer["message"])
        status, answer = call("DescribeExport", ExportArn="arn:short")
        self.assertEqual((status, error_code(answer)), (400, "ValidationException"), answer)
        self.assertIn("exportArn", answer["message"])

    def test_request_shape_is_validated(self):
        cases = [
            ({"S3Bucket": ""}, "s3Bucket"),
            ({"S3Bucket": None}, "s3Bucket"),
            ({"S3Bucket": "bad bucket"}, "s3Bucket"),
            ({"TableArn": None}, "tableArn"),
            ({"TableArn": ""}, "tableArn"),
            ({"TableArn": "QWERTY"}, "TableArn"),
            ({"ExportFormat": "CSV"}, "exportFormat"),
            ({"ExportFormat": ""}, "exportFormat"),
            ({"ExportType": "QWERTY"}, "exportType"),
            ({"ClientToken": ""}, "clientToken"),
            ({"ClientToken": "a$b"}, "clientToken"),
            ({"S3Prefix": ""}, "s3Prefix"),
            ({"S3BucketOwner": ""}, "s3BucketOwner"),
            ({"S3SseAlgorithm": "QWERTY"}, "s3SseAlgorithm"),
            ({"S3SseAlgorithm": "KMS", "S3SseKmsKeyId": ""}, "s3SseKmsKeyId"),
        ]
        for change, mentioned in cases:
            with self.subTest(change=change):
                request = {"TableArn": self.table_arn, "S3Bucket": BUCKET}
                request.update(change)
                request = {k: v for k, v in request.items() if v is not None}
                status, answer = call("ExportTableToPointInTime", **request)
                self.assertEqual((status, error_code(answer)), (400, "ValidationException"),
                                 answer)
                self.assertIn(mentioned, answer.get("message", ""))


@unittest.skipUnless(os.access(AWS, os.X_OK), "awscli is not installed at " + AWS)
class AwsCliExportTest(ExportTestCase):
    """The AWS CLI's export commands."""

    def aws(self, *args):
        env = dict(os.environ, AWS_PAGER="", AWS_DEFAULT_OUTPUT="json")
        command = [AWS, "dynamodb", *args, "--endpoint-url", tw.endpoint(),
                   "--region", tw.REGION, "--output", "json", "--no-cli-pager"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, "%s\nstdout: %s\nstderr: %s" %
                         (" ".join(command), result.stdout, result.stderr))
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def test_export_describe_list(self):
        tw.export_bucket_dir()  # SkipTest against another endpoint
        table, described = self.new_table("excli")
        item = plain_item(1, v="cli")
        self.aws("put-item", "--table-name", table, "--item", json.dumps(
            {"pk": item["pk"], "sk": item["sk"], "v": item["v"]}))
        started = self.aws("export-table-to-point-in-time", "--table-arn", described["TableArn"],
                           "--s3-bucket", BUCKET, "--s3-prefix", "cli",
                           "--export-format", "DYNAMODB_JSON")["ExportDescription"]
        self.assertEqual(started["ExportStatus"], "IN_PROGRESS")
        arn = started["ExportArn"]
        deadline = time.monotonic() + tw.STATE_TIMEOUT
        while True:
            final = self.aws("describe-export", "--export-arn", arn)["ExportDescription"]
            if final["ExportStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(final["ExportStatus"], "COMPLETED", final)
        self.assertEqual(final["ItemCount"], 1)
        listed = self.aws("list-exports", "--table-arn", described["TableArn"])
        self.assertEqual([(s["ExportArn"], s["ExportStatus"]) for s in listed["ExportSummaries"]],
                         [(arn, "COMPLETED")])
        files = ExportedFiles(self, final)
        self.assertEqual([json.loads(line)["Item"] for line in files.lines], [item])


if __name__ == "__main__":
    unittest.main()
