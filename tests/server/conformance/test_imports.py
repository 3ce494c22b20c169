"""Table imports: ImportTable (the round trip of an export back into a new table for every
attribute type in DYNAMODB_JSON and ION; CSV with a header line, with HeaderList and with
another delimiter, number and binary keys; GZIP, ZSTD and uncompressed objects; bad rows; a
global secondary index built by the import; the table CREATING until the import ends, and its
stream), DescribeImport and ListImports (also after a restart, and after a kill -9 during an
import), ClientToken idempotency and the errors.

The objects to import are files written into the directory that the tidewaterd this suite
starts maps to bucket tw.EXPORT_BUCKET (--s3-local-bucket), where its exports go too; the
tests are skipped against another endpoint. S3EndpointImportTest reads them from a real
S3-compatible server instead: an s3rver and a tidewaterd of its own (s3rver_fixture.py),
skipped without s3rver (scripts/common.sh install_s3rver).

What DynamoDB does and these tests expect (its developer guide, "Import format quotas and
validation", and tests that other emulators checked against DynamoDB):
  * rows that are not items of the table are left out and the others imported; the table is
    ACTIVE afterwards, but the import is FAILED with FailureCode ItemValidationError, also
    when no row at all was an item (the table is then empty);
  * a bucket that does not exist: FAILED, FailureCode S3NoSuchBucket, no table;
  * a prefix matching no object: COMPLETED, an empty table;
  * an existing table name: ResourceInUseException "Table already exists: <name>";
  * ProcessedItemCount = ImportedItemCount + ErrorCount; the counts read zero while the
    import runs; EndTime and ProcessedSizeBytes appear once it ended;
  * TableCreationParameters has no StreamSpecification (nor LocalSecondaryIndexes): an
    imported table has no stream, and one enabled afterwards holds none of the imported items.
Instead of CloudWatch Logs, tidewaterd writes one event=import_bad_row line per bad row to its
log; the tests read them from the log of the tidewaterd they started."""

import base64
import concurrent.futures
import decimal
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

from botocore.exceptions import ClientError

import s3rver_fixture as s3_faults
import test_exports as export_tests
import tidewater_fixture as tw

BUCKET = tw.EXPORT_BUCKET
IMPORT_ID = re.compile(r"^\d{14}-[0-9a-f]{8}$")
ITEM_VALIDATION_ERROR = "ItemValidationError"

call = export_tests.call
error_code = export_tests.error_code


def write_object(key, data):
    """Stores `data` (bytes or text) as object `key` of BUCKET."""
    path = os.path.join(tw.export_bucket_dir(), *key.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def unique_prefix(name):
    return "imports/%s-%s/" % (name, uuid.uuid4().hex[:10])


def _wire_value(value):
    """An attribute value of the low-level client (bytes for B and BS) as DynamoDB JSON writes
    it (base64)."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(v).decode() for v in inner]}
    if kind == "M":
        return {"M": {k: _wire_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_wire_value(v) for v in inner]}
    return value


def json_lines(items):
    """The DYNAMODB_JSON import format of `items`: one {"Item": ...} a line."""
    return "".join(json.dumps({"Item": {name: _wire_value(value) for name, value in
                                        item.items()}}) + "\n" for item in items)


def bulk_lines(start, count):
    """DYNAMODB_JSON lines of `count` small items keyed k<number> from `start`."""
    return "".join('{"Item":{"pk":{"S":"k%08d"},"v":{"S":"value of item %d"}}}\n' % (i, i)
                   for i in range(start, start + count))


def zstd_compress(data):
    """A ZSTD frame of `data`: the zstandard module when installed (Debian's
    python3-zstandard), else the zstd command line tool (Debian's zstd); None without both."""
    try:
        import zstandard
    except ImportError:
        zstandard = None
    if zstandard is not None:
        return zstandard.ZstdCompressor().compress(data)
    tool = shutil.which("zstd")
    if tool is None:
        return None
    return subprocess.run([tool, "-q", "-c"], input=data, capture_output=True,
                          check=True).stdout


def table_parameters(name, hash_key=("pk", "S"), range_key=None, **extra):
    """TableCreationParameters of an on-demand table keyed as given."""
    definitions = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        definitions.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    parameters = {"TableName": name, "AttributeDefinitions": definitions, "KeySchema": schema,
                  "BillingMode": "PAY_PER_REQUEST"}
    parameters.update(extra)
    return parameters


def wait_for_import(import_arn, ddb=None):
    """DescribeImport (through `ddb`, default the suite's client) until the import is no
    longer IN_PROGRESS; its ImportTableDescription."""
    ddb = ddb or tw.dynamodb()
    deadline = time.monotonic() + tw.STATE_TIMEOUT
    while True:
        description = ddb.describe_import(ImportArn=import_arn)["ImportTableDescription"]
        if description["ImportStatus"] != "IN_PROGRESS":
            return description
        if time.monotonic() > deadline:
            raise AssertionError("import %s still IN_PROGRESS after %ss" %
                                 (import_arn, tw.STATE_TIMEOUT))
        time.sleep(0.1)


def scan_all(table, ddb=None):
    items, request = [], {"TableName": table}
    while True:
        page = (ddb or tw.dynamodb()).scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def sort_key(item):
    """A Python item's (pk, sk) for sorting; items without sk sort first."""
    return (str(item["pk"]), decimal.Decimal(item.get("sk", 0)))


def python_value(value):
    """An attribute value as a Python value: numbers as exact Decimals (boto3's deserializer
    refuses numbers of more than 38 digits, which DynamoDB's 9.99...E+125 is when written out
    in full), sets as frozensets (their order is not kept)."""
    (kind, inner), = value.items()
    if kind == "N":
        return decimal.Decimal(inner)
    if kind == "NS":
        return frozenset(decimal.Decimal(n) for n in inner)
    if kind in ("SS", "BS"):
        return frozenset(bytes(b) if kind == "BS" else b for b in inner)
    if kind == "B":
        return bytes(inner)
    if kind == "M":
        return {k: python_value(v) for k, v in inner.items()}
    if kind == "L":
        return [python_value(v) for v in inner]
    return (kind, inner)


def python_items(items):
    """Items as Python values (sets compare regardless of order), sorted by key."""
    return sorted(({name: python_value(v) for name, v in item.items()} for item in items),
                  key=sort_key)


def round_trip_items():
    """Items of every attribute type: the exports' typed items, deep nesting, empty lists and
    maps, Unicode keys and values, DynamoDB's number range, and a 360 KB item."""
    items = [export_tests.typed_item(i) for i in range(20)]
    items.append({"pk": {"S": "nested"}, "sk": {"N": "1000"}, "deep": {"M": {
        "a": {"L": [{"M": {"b": {"L": [{"SS": ["x", "y"]}, {"NS": ["1.5", "-2"]},
                                       {"BS": [b"\x00", b"\xff"]}]}}},
                    {"NULL": True}, {"BOOL": True}]},
        "empty list": {"L": []}, "empty map": {"M": {}}}}})
    items.append({"pk": {"S": "\u00fcn\u00efc\u00f8d\u00e9 \u2713 \u65e5\u672c \U0001f30a"},
                  "sk": {"N": "-1.5e-3"},
                  "text": {"S": "\u03a9mega \u2028 line\nbreak \"quoted\" \\ back\ttab"},
                  "emoji set": {"SS": ["\U0001f30a", "\u2603", "\u00e9"]}})
    items.append({"pk": {"S": "numbers"}, "sk": {"N": "0"},
                  "tiny": {"N": "-1E-130"},
                  "huge": {"N": "9.9999999999999999999999999999999999999E+125"},
                  "precise": {"N": "12345678901234567890123456789012345678"}})
    items.append({"pk": {"S": "large"}, "sk": {"N": "99999999999999999999999999999999999999"},
                  "big": {"S": "x" * 300_000}, "blob": {"B": os.urandom(60_000)}})
    return items


class ImportTestCase(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tw.export_bucket_dir()  # SkipTest against another endpoint

    def start_import(self, prefix, parameters, input_format="DYNAMODB_JSON", **request):
        """ImportTable from BUCKET/prefix; the ImportTableDescription answered. The table is
        dropped after the test class."""
        self._tables_to_drop.append(parameters["TableName"])
        return self.ddb.import_table(
            S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": prefix}, InputFormat=input_format,
            TableCreationParameters=parameters, **request)["ImportTableDescription"]

    def ended(self, description, status="COMPLETED", failure_code=None):
        final = wait_for_import(description["ImportArn"])
        self.assertEqual(final["ImportStatus"], status,
                         "%s: %s" % (final.get("FailureCode"), final.get("FailureMessage")))
        if failure_code is not None:
            self.assertEqual(final["FailureCode"], failure_code, final.get("FailureMessage"))
        self.assertEqual(final["ProcessedItemCount"],
                         final["ImportedItemCount"] + final["ErrorCount"], final)
        self.assertGreaterEqual(final["EndTime"], final["StartTime"])
        return final

    def import_items(self, items, input_format="DYNAMODB_JSON", **parameters):
        """Imports `items` (one uncompressed object) into a new table; its name and the final
        description."""
        prefix = unique_prefix("items")
        write_object(prefix + "data.json", json_lines(items))
        table = tw.unique_name("imitems")
        final = self.ended(self.start_import(prefix, table_parameters(table, **parameters),
                                             input_format))
        return table, final

    def assertTableHolds(self, table, items):
        self.assertEqual(python_items(scan_all(table)), python_items(items))


class RoundTripTest(ImportTestCase):
    """A table exported with ExportTableToPointInTime and imported again from the export's
    data/ folder: every item comes back exactly, in both export formats."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = tw.unique_name("imsource")
        cls._tables_to_drop.append(cls.source)
        tw.create_table(cls.source, hash_key=("pk", "S"), range_key=("sk", "N"))
        export_tests.enable_recovery(cls.source)
        cls.source_arn = tw.dynamodb().describe_table(TableName=cls.source)["Table"]["TableArn"]
        cls.items = round_trip_items()
        export_tests.put_items(cls.source, cls.items)

    def exported_data(self, export_format):
        """Exports the source table in `export_format`; the prefix of its data files."""
        started = self.ddb.export_table_to_point_in_time(
            TableArn=self.source_arn, S3Bucket=BUCKET, S3Prefix=unique_prefix("roundtrip"),
            ExportFormat=export_format)["ExportDescription"]
        final = export_tests.wait_for_export(started["ExportArn"])
        self.assertEqual(final["ExportStatus"], "COMPLETED", final)
        self.assertEqual(final["ItemCount"], len(self.items))
        return final["ExportManifest"][:-len("manifest-summary.json")] + "data/"

    def round_trip(self, export_format):
        prefix = self.exported_data(export_format)
        table = tw.unique_name("imround")
        started = self.start_import(prefix, table_parameters(table, range_key=("sk", "N")),
                                    export_format, InputCompressionType="GZIP")
        final = self.ended(started)
        self.assertEqual((final["ProcessedItemCount"], final["ImportedItemCount"],
                          final["ErrorCount"]), (len(self.items), len(self.items), 0))
        self.assertGreater(final["ProcessedSizeBytes"], 0)
        self.assertEqual(final["InputFormat"], export_format)
        self.assertEqual(final["InputCompressionType"], "GZIP")
        self.assertTableHolds(table, self.items)

    def test_dynamodb_json_export_imports_back_exactly(self):
        self.round_trip("DYNAMODB_JSON")

    def test_ion_export_imports_back_exactly(self):
        self.round_trip("ION")


class CsvImportTest(ImportTestCase):
    """CSV: the key columns typed by AttributeDefinitions, every other column a string, an
    empty field no attribute."""

    def import_csv(self, text, parameters, csv_options=None):
        prefix = unique_prefix("csv")
        write_object(prefix + "rows.csv", text)
        request = {"InputFormatOptions": {"Csv": csv_options}} if csv_options else {}
        final = self.ended(self.start_import(prefix, parameters, "CSV", **request))
        if csv_options:
            self.assertEqual(final["InputFormatOptions"], {"Csv": csv_options})
        else:
            self.assertNotIn("InputFormatOptions", final)
        return final

    def test_first_line_is_the_header(self):
        table = tw.unique_name("imcsv")
        final = self.import_csv(
            'pk,sk,name,note\nalpha,1,Alice,hello world\nbeta,2.5,Bob,"quoted, with a comma"\n'
            'gamma,-3,Carol,\n',
            table_parameters(table, range_key=("sk", "N")))
        self.assertEqual((final["ImportedItemCount"], final["ErrorCount"]), (3, 0))
        self.assertTableHolds(table, [
            {"pk": {"S": "alpha"}, "sk": {"N": "1"}, "name": {"S": "Alice"},
             "note": {"S": "hello world"}},
            {"pk": {"S": "beta"}, "sk": {"N": "2.5"}, "name": {"S": "Bob"},
             "note": {"S": "quoted, with a comma"}},
            {"pk": {"S": "gamma"}, "sk": {"N": "-3"}, "name": {"S": "Carol"}}])

    def test_header_list_makes_the_first_line_data(self):
        table = tw.unique_name("imcsvhl")
        self.import_csv("alpha,10,42\nbeta,20,7\n",
                        table_parameters(table, range_key=("sk", "N")),
                        {"HeaderList": ["pk", "sk", "count"]})
        # Only key columns are typed: "count" is a string.
        self.assertTableHolds(table, [
            {"pk": {"S": "alpha"}, "sk": {"N": "10"}, "count": {"S": "42"}},
            {"pk": {"S": "beta"}, "sk": {"N": "20"}, "count": {"S": "7"}}])

    def test_other_delimiters(self):
        for delimiter in ("|", "\t", ";"):
            with self.subTest(delimiter=repr(delimiter)):
                table = tw.unique_name("imcsvdl")
                rows = ["pk", "city", "motto"], ["one", "Paris", "a,b"], ["two", "Lyon", "c"]
                self.import_csv("".join(delimiter.join(row) + "\n" for row in rows),
                                table_parameters(table), {"Delimiter": delimiter})
                self.assertTableHolds(table, [
                    {"pk": {"S": "one"}, "city": {"S": "Paris"}, "motto": {"S": "a,b"}},
                    {"pk": {"S": "two"}, "city": {"S": "Lyon"}, "motto": {"S": "c"}}])

    def test_binary_and_number_keys(self):
        table = tw.unique_name("imcsvbn")
        keys = [bytes([0, 1, 2]), b"\xff\xfe", b"tidewater"]
        text = "id,version,label\n" + "".join(
            "%s,%d,row %d\n" % (base64.b64encode(key).decode(), i * 1000, i)
            for i, key in enumerate(keys))
        self.import_csv(text, table_parameters(table, hash_key=("id", "B"),
                                               range_key=("version", "N")))
        items = scan_all(table)
        self.assertEqual(sorted((item["id"]["B"], item["version"]["N"], item["label"]["S"])
                                for item in items),
                         sorted((key, str(i * 1000), "row %d" % i)
                                for i, key in enumerate(keys)))
        got = self.ddb.get_item(TableName=table,
                                Key={"id": {"B": b"\xff\xfe"}, "version": {"N": "1000"}})
        self.assertEqual(got["Item"]["label"], {"S": "row 1"})


class CompressionTest(ImportTestCase):
    """The same DYNAMODB_JSON object uncompressed, gzip- and zstd-compressed."""

    ITEMS = [{"pk": {"S": "c%d" % i}, "v": {"S": "compressed \u00e9 %d" % i},
              "b": {"B": bytes([i, 255 - i])}} for i in range(50)]

    def import_compressed(self, compression, data):
        prefix = unique_prefix("compression")
        write_object(prefix + "data", data)
        table = tw.unique_name("imcomp")
        final = self.ended(self.start_import(prefix, table_parameters(table),
                                             InputCompressionType=compression))
        self.assertEqual(final["InputCompressionType"], compression)
        self.assertEqual(final["ProcessedSizeBytes"], len(data))
        self.assertEqual(final["ImportedItemCount"], len(self.ITEMS))
        self.assertTableHolds(table, self.ITEMS)

    def test_uncompressed(self):
        self.import_compressed("NONE", json_lines(self.ITEMS).encode())

    def test_gzip(self):
        self.import_compressed("GZIP", gzip.compress(json_lines(self.ITEMS).encode()))

    def test_zstd(self):
        data = zstd_compress(json_lines(self.ITEMS).encode())
        if data is None:
            self.skipTest("neither the zstandard module nor the zstd tool is installed")
        self.import_compressed("ZSTD", data)

    def test_compression_defaults_to_none(self):
        table, final = self.import_items(self.ITEMS[:3])
        self.assertEqual(final["InputCompressionType"], "NONE")
        self.assertTableHolds(table, self.ITEMS[:3])


class BadRowsTest(ImportTestCase):
    """Rows that are not items of the table: left out, counted, logged; the others imported."""

    def bad_row_lines(self, import_arn):
        """The event=import_bad_row lines tidewaterd logged for this import."""
        import_id = import_arn.rsplit("/", 1)[1]
        log = tw.managed_server().log_tail(size=1 << 20)
        return [line for line in log.splitlines()
                if "event=import_bad_row" in line and "import=%s " % import_id in line]

    def test_bad_rows_are_counted_and_the_good_ones_imported(self):
        prefix = unique_prefix("bad")
        good = [{"pk": {"S": "good%d" % i}, "v": {"N": str(i)}} for i in range(3)]
        write_object(prefix + "1-good.json", json_lines(good))
        # One defect an object: DynamoDB gives up the rest of an object after a row it cannot
        # parse, so each is reached only in an object of its own.
        write_object(prefix + "2-malformed.json", '{"Item": {"pk": {"S": "x"}\n')
        write_object(prefix + "3-no-item.json", '{"pk": {"S": "no item member"}}\n')
        write_object(prefix + "4-missing-key.json", json_lines([{"other": {"S": "x"}}]))
        write_object(prefix + "5-wrong-key-type.json", json_lines([{"pk": {"N": "5"}}]))
        table = tw.unique_name("imbad")
        final = self.ended(self.start_import(prefix, table_parameters(table)),
                           status="FAILED", failure_code=ITEM_VALIDATION_ERROR)
        self.assertEqual((final["ProcessedItemCount"], final["ImportedItemCount"],
                          final["ErrorCount"]), (7, 3, 4))
        self.assertIn("failed validation", final["FailureMessage"])
        # The table stays, with the items that were valid.
        self.assertEqual(self.ddb.describe_table(TableName=table)["Table"]["TableStatus"],
                         "ACTIVE")
        self.assertTableHolds(table, good)
        lines = self.bad_row_lines(final["ImportArn"])
        self.assertEqual(len(lines), 4, lines)
        for line in lines:
            self.assertRegex(line, r'object="imports/[^"]+" line=\d+ reason=".+"$')

    def test_a_damaged_compressed_object_is_reported_and_none_of_its_rows_imported(self):
        prefix = unique_prefix("damaged")
        good = [{"pk": {"S": "kept%d" % i}} for i in range(5)]
        write_object(prefix + "1-good.json.gz", gzip.compress(json_lines(good).encode()))
        lost = [{"pk": {"S": "lost%d" % i}, "pad": {"S": "x" * 500}} for i in range(50)]
        whole = gzip.compress(json_lines(lost).encode())
        write_object(prefix + "2-truncated.json.gz", whole[:len(whole) // 2])
        table = tw.unique_name("imdamaged")
        final = self.ended(self.start_import(prefix, table_parameters(table),
                                             InputCompressionType="GZIP"),
                           status="FAILED", failure_code=ITEM_VALIDATION_ERROR)
        self.assertEqual((final["ImportedItemCount"], final["ErrorCount"]), (5, 1), final)
        self.assertTableHolds(table, good)
        (line,) = self.bad_row_lines(final["ImportArn"])
        self.assertIn("2-truncated.json.gz", line)

    def test_an_import_of_only_bad_rows_leaves_an_empty_table(self):
        prefix = unique_prefix("allbad")
        write_object(prefix + "a.json", json_lines([{"pk": {"B": b"\x01"}}]))
        write_object(prefix + "b.json", "not json at all\n")
        table = tw.unique_name("imallbad")
        final = self.ended(self.start_import(prefix, table_parameters(table)),
                           status="FAILED", failure_code=ITEM_VALIDATION_ERROR)
        self.assertEqual((final["ProcessedItemCount"], final["ImportedItemCount"],
                          final["ErrorCount"]), (2, 0, 2))
        self.assertEqual(self.ddb.describe_table(TableName=table)["Table"]["TableStatus"],
                         "ACTIVE")
        self.assertEqual(scan_all(table), [])

    def test_a_prefix_without_objects_is_an_empty_import(self):
        table = tw.unique_name("imempty")
        final = self.ended(self.start_import(unique_prefix("nothing"), table_parameters(table)))
        self.assertEqual((final["ProcessedItemCount"], final["ImportedItemCount"],
                          final["ErrorCount"], final["ProcessedSizeBytes"]), (0, 0, 0, 0))
        self.assertEqual(scan_all(table), [])

    def test_duplicate_keys_are_not_errors(self):
        items = [{"pk": {"S": "same"}, "v": {"N": str(i)}} for i in range(3)]
        table, final = self.import_items(items)
        self.assertEqual((final["ImportedItemCount"], final["ErrorCount"]), (3, 0))
        self.assertEqual(len(scan_all(table)), 1)


class GlobalIndexImportTest(ImportTestCase):

    def test_the_import_builds_the_global_index(self):
        index = {"IndexName": "by_city", "Projection": {"ProjectionType": "ALL"},
                 "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"},
                               {"AttributeName": "age", "KeyType": "RANGE"}]}
        parameters = table_parameters(tw.unique_name("imgsi"), GlobalSecondaryIndexes=[index])
        parameters["AttributeDefinitions"] += [{"AttributeName": "city", "AttributeType": "S"},
                                               {"AttributeName": "age", "AttributeType": "N"}]
        people = [{"pk": {"S": "p%d" % i}, "city": {"S": "Paris" if i % 2 else "Lyon"},
                   "age": {"N": str(20 + i)}} for i in range(10)]
        unindexed = [{"pk": {"S": "nocity"}, "age": {"N": "1"}}]
        prefix = unique_prefix("gsi")
        write_object(prefix + "people.json", json_lines(people + unindexed))
        table = parameters["TableName"]
        final = self.ended(self.start_import(prefix, parameters))
        self.assertEqual(final["TableCreationParameters"], parameters)
        described = self.ddb.describe_table(TableName=table)["Table"]
        self.assertEqual([i["IndexName"] for i in described["GlobalSecondaryIndexes"]],
                         ["by_city"])
        expected = [item for item in people if item["city"]["S"] == "Paris"]
        deadline = time.monotonic() + tw.STATE_TIMEOUT
        while True:  # global indexes are eventually consistent
            found = self.ddb.query(TableName=table, IndexName="by_city",
                                   KeyConditionExpression="city = :c",
                                   ExpressionAttributeValues={":c": {"S": "Paris"}})["Items"]
            if len(found) == len(expected) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual([item["pk"]["S"] for item in found],
                         [item["pk"]["S"] for item in sorted(expected,
                                                             key=lambda i: int(i["age"]["N"]))])


class TableStateTest(ImportTestCase):

    def test_table_is_creating_until_the_import_ends(self):
        prefix = unique_prefix("creating")
        for part in range(5):
            write_object(prefix + "part%d.json.gz" % part,
                         gzip.compress(bulk_lines(part * 10_000, 10_000).encode()))
        table = tw.unique_name("imcreating")
        started = self.start_import(prefix, table_parameters(table), InputCompressionType="GZIP")
        self.assertEqual(started["ImportStatus"], "IN_PROGRESS")
        self.assertEqual((started["ProcessedItemCount"], started["ImportedItemCount"],
                          started["ErrorCount"]), (0, 0, 0))
        for member in ("EndTime", "ProcessedSizeBytes", "FailureCode", "FailureMessage"):
            self.assertNotIn(member, started)
        described = self.ddb.describe_table(TableName=table)["Table"]
        self.assertEqual(described["TableStatus"], "CREATING")
        self.assertEqual(described["TableId"], started["TableId"])
        self.assertEqual(described["TableArn"], started["TableArn"])
        # Reads are refused while the table is CREATING (a read that got through came after
        # the import ended).
        try:
            self.ddb.get_item(TableName=table, Key={"pk": {"S": "k00000001"}})
            self.assertNotEqual(self.ddb.describe_import(ImportArn=started["ImportArn"])[
                "ImportTableDescription"]["ImportStatus"], "IN_PROGRESS")
        except ClientError as error:
            self.assertEqual(error.response["Error"]["Code"], "ResourceNotFoundException")

        final = self.ended(started)
        self.assertEqual(final["ImportedItemCount"], 50_000)
        self.assertEqual(self.ddb.describe_table(TableName=table)["Table"]["TableStatus"],
                         "ACTIVE")
        self.assertEqual(len(scan_all(table)), 50_000)
        self.assertEqual(self.ddb.get_item(TableName=table, Key={"pk": {"S": "k00000001"}})[
            "Item"]["v"], {"S": "value of item 1"})

    def test_an_imported_table_has_no_stream_and_its_items_are_in_none(self):
        items = [{"pk": {"S": "s%d" % i}} for i in range(20)]
        table, _ = self.import_items(items)
        described = self.ddb.describe_table(TableName=table)["Table"]
        self.assertNotIn("StreamSpecification", described)
        self.assertNotIn("LatestStreamArn", described)
        self.ddb.update_table(TableName=table, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        stream_arn = tw.wait_for_table_status(table)["LatestStreamArn"]
        self.ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
        streams = tw.streams()
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        records = []
        for shard in shards:
            iterator = streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            records += streams.get_records(ShardIterator=iterator)["Records"]
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in records], ["after"])

    def test_stream_backfill_extension_logs_each_imported_item_once(self):
        """TidewaterStreamBackfill (a tidewater extension, sent raw): the imported table has a
        stream of that view type in which each imported item is one INSERT."""
        if os.environ.get("TIDEWATER_ENDPOINT"):
            self.skipTest("a tidewater extension")
        items = [{"pk": {"S": "f%d" % i}, "n": {"N": str(i)}} for i in range(40)]
        prefix = unique_prefix("backfill")
        write_object(prefix + "data.json", json_lines(items))
        table = tw.unique_name("imfill")
        self._tables_to_drop.append(table)
        status, answer = call("ImportTable", S3BucketSource={"S3Bucket": BUCKET,
                                                             "S3KeyPrefix": prefix},
                              InputFormat="DYNAMODB_JSON",
                              TableCreationParameters=table_parameters(table),
                              TidewaterStreamBackfill="NEW_AND_OLD_IMAGES")
        self.assertEqual(status, 200, answer)
        self.ended(answer["ImportTableDescription"])
        described = tw.wait_for_table_status(table)
        self.assertEqual(described["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        streams = tw.streams()
        shards = streams.describe_stream(StreamArn=described["LatestStreamArn"])[
            "StreamDescription"]["Shards"]
        records = []
        for shard in shards:
            iterator = streams.get_shard_iterator(
                StreamArn=described["LatestStreamArn"], ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            records += streams.get_records(ShardIterator=iterator)["Records"]
        self.assertEqual({r["eventName"] for r in records}, {"INSERT"})
        self.assertEqual(python_items(r["dynamodb"]["NewImage"] for r in records),
                         python_items(items))


class ImportRequestTest(ImportTestCase):
    """The response's members, ClientToken idempotency, DescribeImport, ListImports, errors."""

    def test_description_members(self):
        prefix = unique_prefix("describe")
        write_object(prefix + "one.json", json_lines([{"pk": {"S": "only"}}]))
        table = tw.unique_name("imdescribe")
        parameters = table_parameters(table)
        token = str(uuid.uuid4())
        started = self.start_import(prefix, parameters, ClientToken=token)
        described = self.ddb.describe_table(TableName=table)["Table"]
        arn = started["ImportArn"]
        self.assertTrue(arn.startswith(described["TableArn"] + "/import/"), arn)
        self.assertRegex(arn.rsplit("/", 1)[1], IMPORT_ID)
        self.assertEqual(started["TableArn"], described["TableArn"])
        self.assertEqual(started["TableId"], described["TableId"])
        self.assertEqual(started["ClientToken"], token)
        self.assertEqual(started["S3BucketSource"], {"S3Bucket": BUCKET, "S3KeyPrefix": prefix})
        self.assertEqual(started["InputFormat"], "DYNAMODB_JSON")
        self.assertEqual(started["TableCreationParameters"], parameters)
        final = self.ended(started)
        self.assertEqual((final["ProcessedItemCount"], final["ImportedItemCount"],
                          final["ErrorCount"]), (1, 1, 0))
        self.assertEqual(final["StartTime"], started["StartTime"])
        for member in ("ImportArn", "TableArn", "TableId", "ClientToken", "S3BucketSource",
                       "TableCreationParameters"):
            self.assertEqual(final[member], started[member])
        self.assertNotIn("FailureCode", final)

    def test_client_token_makes_the_request_idempotent(self):
        prefix = unique_prefix("token")
        write_object(prefix + "one.json", json_lines([{"pk": {"S": "t"}}]))
        table = tw.unique_name("imtoken")
        token = str(uuid.uuid4())
        first = self.start_import(prefix, table_parameters(table), ClientToken=token)
        again = self.start_import(prefix, table_parameters(table), ClientToken=token)
        self.assertEqual(again["ImportArn"], first["ImportArn"])
        for changed in ({"prefix": prefix + "other/"},
                        {"parameters": table_parameters(table, BillingMode="PROVISIONED",
                                                        ProvisionedThroughput={
                                                            "ReadCapacityUnits": 1,
                                                            "WriteCapacityUnits": 1})},
                        {"input_format": "ION"}):
            with self.subTest(changed=sorted(changed)):
                arguments = dict({"prefix": prefix, "parameters": table_parameters(table)},
                                 **changed)
                error = self.assertClientError("ImportConflictException", self.start_import,
                                               ClientToken=token, **arguments)
                self.assertIn("Duplicate request", error.response["Error"]["Message"])
        self.ended(first)
        # Still the same import once it ended.
        self.assertEqual(self.start_import(prefix, table_parameters(table), ClientToken=token)[
            "ImportArn"], first["ImportArn"])
        # Another token is another request: the table exists now.
        self.assertClientError("ResourceInUseException", self.start_import, prefix,
                               table_parameters(table), ClientToken=str(uuid.uuid4()))

    def test_an_existing_table_is_refused(self):
        table = tw.unique_name("imexists")
        self._tables_to_drop.append(table)
        tw.create_table(table)
        error = self.assertClientError("ResourceInUseException", self.start_import,
                                       unique_prefix("exists"), table_parameters(table))
        self.assertIn("Table already exists: " + table, error.response["Error"]["Message"])

    def test_a_bucket_that_does_not_exist_fails_the_import_and_drops_its_table(self):
        bucket = "no-such-bucket-" + uuid.uuid4().hex[:12]
        table = tw.unique_name("imnobucket")
        self._tables_to_drop.append(table)
        started = self.ddb.import_table(
            S3BucketSource={"S3Bucket": bucket}, InputFormat="DYNAMODB_JSON",
            TableCreationParameters=table_parameters(table))["ImportTableDescription"]
        self.assertEqual(started["ImportStatus"], "IN_PROGRESS")
        final = self.ended(started, status="FAILED", failure_code="S3NoSuchBucket")
        self.assertIn("The specified bucket does not exist", final["FailureMessage"])
        self.assertEqual(final["S3BucketSource"], {"S3Bucket": bucket})
        self.assertEqual((final["ProcessedItemCount"], final["ImportedItemCount"]), (0, 0))
        self.assertClientError("ResourceNotFoundException", self.ddb.describe_table,
                               TableName=table)
        self.assertNotIn(table, self.ddb.list_tables()["TableNames"])

    def test_request_shape_is_validated(self):
        table = tw.unique_name("imshape")
        valid = {"S3BucketSource": {"S3Bucket": BUCKET, "S3KeyPrefix": "shape/"},
                 "InputFormat": "DYNAMODB_JSON", "TableCreationParameters": table_parameters(table)}
        csv = {"InputFormat": "CSV"}
        cases = [
            ({"InputFormat": "XML"}, "inputFormat"),
            ({"InputFormat": None}, "inputFormat"),
            ({"InputCompressionType": "BZIP2"}, "inputCompressionType"),
            ({"S3BucketSource": None}, "s3BucketSource"),
            ({"S3BucketSource": {"S3KeyPrefix": "x"}}, "s3BucketSource.s3Bucket"),
            ({"S3BucketSource": {"S3Bucket": "bad bucket"}}, "s3BucketSource.s3Bucket"),
            ({"S3BucketSource": {"S3Bucket": BUCKET, "S3BucketOwner": "12"}},
             "s3BucketSource.s3BucketOwner"),
            ({"S3BucketSource": {"S3Bucket": BUCKET, "S3KeyPrefix": "p" * 1025}},
             "s3BucketSource.s3KeyPrefix"),
            ({"ClientToken": "a$b"}, "clientToken"),
            (dict(csv, InputFormatOptions={"Csv": {"Delimiter": "#"}}),
             "inputFormatOptions.csv.delimiter"),
            (dict(csv, InputFormatOptions={"Csv": {"Delimiter": ",;"}}),
             "inputFormatOptions.csv.delimiter"),
            (dict(csv, InputFormatOptions={"Csv": {"HeaderList": []}}),
             "inputFormatOptions.csv.headerList"),
            (dict(csv, InputFormatOptions={"Csv": {"HeaderList": ["pk", "a,b"]}}),
             "inputFormatOptions.csv.headerList.2.member"),
            ({"InputFormatOptions": {"Csv": {"Delimiter": ";"}}}, "InputFormatOptions"),
            ({"TableCreationParameters": None}, "tableCreationParameters"),
            ({"TableCreationParameters": dict(table_parameters(table), TableName="ab")},
             "tableCreationParameters.tableName"),
            ({"TableCreationParameters": dict(table_parameters(table), KeySchema=[])},
             "tableCreationParameters.keySchema"),
            ({"TableCreationParameters": dict(table_parameters(table), AttributeDefinitions=[
                {"AttributeName": "other", "AttributeType": "S"}])}, "AttributeDefinitions"),
            ({"TableCreationParameters": dict(table_parameters(table), BillingMode="QWERTY")},
             "tableCreationParameters.billingMode"),
        ]
        for change, mentioned in cases:
            with self.subTest(change=change):
                request = dict(valid, **change)
                request = {k: v for k, v in request.items() if v is not None}
                status, answer = call("ImportTable", **request)
                self.assertEqual((status, error_code(answer)), (400, "ValidationException"),
                                 answer)
                self.assertIn(mentioned, answer.get("message", ""))
        # CreateTable's rules between members, with its messages.
        status, answer = call("ImportTable", **dict(valid, TableCreationParameters=dict(
            table_parameters(table), BillingMode="PROVISIONED")))
        self.assertEqual((status, error_code(answer)), (400, "ValidationException"), answer)
        self.assertEqual(answer["message"],
                         "One or more parameter values were invalid: ReadCapacityUnits and "
                         "WriteCapacityUnits must both be specified when BillingMode is "
                         "PROVISIONED")
        self.assertNotIn(table, self.ddb.list_tables()["TableNames"])

    def test_describe_import_errors(self):
        table_arn = "arn:aws:dynamodb:%s:000000000000:table/%s" % (
            tw.REGION, tw.unique_name("imnone"))
        self.assertClientError("ImportNotFoundException", self.ddb.describe_import,
                               ImportArn=table_arn + "/import/01234567890123-a1b2c3d4")
        for arn in (table_arn, table_arn + "/export/01234567890123-a1b2c3d4",
                    "qwerty:aws:dynamodb:us-east-1:000000000000:table/nosuch/import/1"):
            with self.subTest(arn=arn):
                status, answer = call("DescribeImport", ImportArn=arn)
                self.assertEqual((status, error_code(answer)), (400, "ValidationException"),
                                 answer)
        for arn in (None, "arn:short"):
            with self.subTest(arn=arn):
                status, answer = call("DescribeImport", **({"ImportArn": arn} if arn else {}))
                self.assertEqual((status, error_code(answer)), (400, "ValidationException"),
                                 answer)
                self.assertIn("importArn", answer["message"])

    def failed_import(self, table):
        """An import into `table` from a bucket that does not exist, ended (FAILED)."""
        started = self.ddb.import_table(
            S3BucketSource={"S3Bucket": "no-such-bucket-" + uuid.uuid4().hex[:12]},
            InputFormat="DYNAMODB_JSON",
            TableCreationParameters=table_parameters(table))["ImportTableDescription"]
        return self.ended(started, status="FAILED")

    def test_list_imports_by_table_in_pages(self):
        # A failed import drops its table: the same name can be imported into again.
        table = tw.unique_name("imlist")
        self._tables_to_drop.append(table)
        arns = [self.failed_import(table)["ImportArn"] for _ in range(3)]
        table_arn = arns[0].rsplit("/import/", 1)[0]
        listed = self.ddb.list_imports(TableArn=table_arn)
        self.assertEqual([s["ImportArn"] for s in listed["ImportSummaryList"]],
                         sorted(arns, reverse=True))
        self.assertNotIn("NextToken", listed)
        for summary in listed["ImportSummaryList"]:
            self.assertEqual((summary["ImportStatus"], summary["TableArn"],
                              summary["InputFormat"]), ("FAILED", table_arn, "DYNAMODB_JSON"))
            self.assertIn("S3Bucket", summary["S3BucketSource"])
            self.assertGreaterEqual(summary["EndTime"], summary["StartTime"])

        paged, request = [], {"TableArn": table_arn, "PageSize": 1}
        while True:
            page = self.ddb.list_imports(**request)
            self.assertLessEqual(len(page["ImportSummaryList"]), 1)
            paged += [s["ImportArn"] for s in page["ImportSummaryList"]]
            if "NextToken" not in page:
                break
            token = page["NextToken"]
            self.assertRegex(token, r"^([0-9a-f]{16})+$")
            self.assertGreaterEqual(len(token), 112)
            request["NextToken"] = token
        self.assertEqual(paged, sorted(arns, reverse=True))

        everything = [s["ImportArn"] for s in self.ddb.list_imports()["ImportSummaryList"]]
        self.assertTrue(set(arns).issubset(everything))
        self.assertEqual(everything, sorted(everything, reverse=True))
        unknown = table_arn.rsplit("/", 1)[0] + "/" + tw.unique_name("nosuch")
        self.assertEqual(self.ddb.list_imports(TableArn=unknown)["ImportSummaryList"], [])

    def test_list_imports_errors(self):
        for request, mentioned in (({"PageSize": 0}, "pageSize"), ({"PageSize": 26}, "pageSize"),
                                   ({"NextToken": "xyz"}, "nextToken"),
                                   ({"NextToken": "0123456789ABCDEF" * 8}, "nextToken"),
                                   ({"NextToken": "0123456789abcdef" * 8}, "NextToken"),
                                   ({"TableArn": "QWERTY"}, "TableArn")):
            with self.subTest(request=request):
                status, answer = call("ListImports", **request)
                self.assertEqual((status, error_code(answer)), (400, "ValidationException"),
                                 answer)
                self.assertIn(mentioned, answer.get("message", ""))

    def test_imports_survive_a_restart(self):
        table, final = self.import_items([{"pk": {"S": "kept"}}])
        tw.restart_managed_server()
        again = self.ddb.describe_import(ImportArn=final["ImportArn"])["ImportTableDescription"]
        self.assertEqual(again, final)
        listed = self.ddb.list_imports(TableArn=final["TableArn"])["ImportSummaryList"]
        self.assertEqual([s["ImportArn"] for s in listed], [final["ImportArn"]])
        self.assertTableHolds(table, [{"pk": {"S": "kept"}}])


@unittest.skipUnless(os.access(export_tests.AWS, os.X_OK),
                     "awscli is not installed at " + export_tests.AWS)
class AwsCliImportTest(ImportTestCase):
    """The AWS CLI's import commands, as the README prints them (TableCreationParameters from
    a file)."""

    def aws(self, *args):
        env = dict(os.environ, AWS_PAGER="", AWS_DEFAULT_OUTPUT="json")
        command = [export_tests.AWS, "dynamodb", *args, "--endpoint-url", tw.endpoint(),
                   "--region", tw.REGION, "--output", "json", "--no-cli-pager"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, "%s\nstdout: %s\nstderr: %s" %
                         (" ".join(command), result.stdout, result.stderr))
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def test_import_describe_list(self):
        items = [{"pk": {"S": "cli%d" % i}, "v": {"N": str(i)}} for i in range(3)]
        prefix = unique_prefix("cli")
        write_object(prefix + "data.json", json_lines(items))
        table = tw.unique_name("imcli")
        self._tables_to_drop.append(table)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(table_parameters(table), f)
        self.addCleanup(os.unlink, f.name)
        started = self.aws("import-table", "--s3-bucket-source",
                           "S3Bucket=%s,S3KeyPrefix=%s" % (BUCKET, prefix),
                           "--input-format", "DYNAMODB_JSON", "--input-compression-type", "NONE",
                           "--table-creation-parameters", "file://" + f.name)[
            "ImportTableDescription"]
        self.assertEqual(started["ImportStatus"], "IN_PROGRESS")
        arn = started["ImportArn"]
        deadline = time.monotonic() + tw.STATE_TIMEOUT
        while True:
            final = self.aws("describe-import", "--import-arn", arn)["ImportTableDescription"]
            if final["ImportStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(final["ImportStatus"], "COMPLETED", final)
        self.assertEqual(final["ImportedItemCount"], 3)
        listed = self.aws("list-imports", "--table-arn", final["TableArn"])
        self.assertEqual([(s["ImportArn"], s["ImportStatus"])
                          for s in listed["ImportSummaryList"]], [(arn, "COMPLETED")])
        self.assertTableHolds(table, items)


class ImportCrashTest(ImportTestCase):

    def test_kill_during_an_import_leaves_it_failed_and_no_table(self):
        server = tw.managed_server()
        prefix = unique_prefix("crash")
        for part in range(20):
            write_object(prefix + "part%02d.json.gz" % part,
                         gzip.compress(bulk_lines(part * 10_000, 10_000).encode()))
        table = tw.unique_name("imcrash")
        started = self.start_import(prefix, table_parameters(table), InputCompressionType="GZIP")
        time.sleep(0.3)  # some batches in
        self.assertEqual(self.ddb.describe_import(ImportArn=started["ImportArn"])[
            "ImportTableDescription"]["ImportStatus"], "IN_PROGRESS",
            "the import ended before the kill: give it more objects")
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=30)
        server.restart_after_crash()

        final = self.ddb.describe_import(ImportArn=started["ImportArn"])["ImportTableDescription"]
        self.assertEqual(final["ImportStatus"], "FAILED", final)
        self.assertIn("EndTime", final)
        self.assertEqual(final["ImportedItemCount"], 0)
        # No half-imported table: gone, and its name free again.
        self.assertClientError("ResourceNotFoundException", self.ddb.describe_table,
                               TableName=table)
        self.assertNotIn(table, self.ddb.list_tables()["TableNames"])
        listed = self.ddb.list_imports(TableArn=started["TableArn"])["ImportSummaryList"]
        self.assertEqual([(s["ImportArn"], s["ImportStatus"]) for s in listed],
                         [(started["ImportArn"], "FAILED")])
        small = unique_prefix("aftercrash")
        write_object(small + "one.json", json_lines([{"pk": {"S": "again"}}]))
        self.ended(self.start_import(small, table_parameters(table)))
        self.assertTableHolds(table, [{"pk": {"S": "again"}}])


class S3EndpointImportTest(unittest.TestCase):
    """Imports read from a real S3-compatible server (s3rver) by a tidewaterd whose
    --s3-endpoint it is: every object under the prefix, over several ListObjectsV2 pages of
    1,000 keys, and a bucket the endpoint does not have."""

    @classmethod
    def setUpClass(cls):
        if os.environ.get("TIDEWATER_ENDPOINT"):
            raise unittest.SkipTest("needs a tidewaterd of its own, reading from s3rver")
        binary = os.environ.get("TIDEWATERD")
        if not binary:
            raise unittest.SkipTest("set TIDEWATERD (server binary)")
        if not os.access(s3_faults.S3RVER, os.X_OK):
            raise unittest.SkipTest("s3rver is not installed at %s: run scripts/common.sh's "
                                    "install_s3rver" % s3_faults.S3RVER)
        cls.workdir = tempfile.mkdtemp(prefix="tw-import-s3-")
        cls.s3 = s3_faults.S3rver(cls.workdir)
        cls.server = None
        try:
            cls.s3.start()
            cls.server = s3_faults.S3EndpointServer(binary, cls.s3.endpoint)
            cls.ddb = cls.server.client()
            cls.s3_client = cls.s3.client()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for client in ("ddb", "s3_client"):
            if hasattr(cls, client):
                getattr(cls, client).close()
        if cls.server is not None:
            cls.server.stop()  # removes its own work directory unless TIDEWATER_KEEP_DATA
        cls.s3.kill()
        if os.environ.get("TIDEWATER_KEEP_DATA"):
            print("s3rver data and log kept in", cls.workdir)
        else:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def tearDown(self):
        status = self.server.crashed()
        if status is not None:
            self.fail("tidewaterd died (exit status %s) during this test:\n%s" %
                      (status, self.server.log_tail()))

    def import_from(self, bucket, prefix, table):
        started = self.ddb.import_table(
            S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": prefix},
            InputFormat="DYNAMODB_JSON",
            TableCreationParameters=table_parameters(table))["ImportTableDescription"]
        self.assertEqual(started["ImportStatus"], "IN_PROGRESS")
        return wait_for_import(started["ImportArn"], self.ddb)

    def test_every_object_under_the_prefix_is_imported(self):
        prefix = unique_prefix("s3")
        objects = {prefix + "part/%04d.json" % i: json_lines([{"pk": {"S": "o%04d" % i}}])
                   for i in range(1001)}
        # Beside the prefix, not under it: not imported.
        objects[prefix[:-1] + "-sibling.json"] = json_lines([{"pk": {"S": "sibling"}}])
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda entry: self.s3_client.put_object(
                Bucket=s3_faults.BUCKET, Key=entry[0], Body=entry[1].encode()), objects.items()))
        table = tw.unique_name("ims3")
        final = self.import_from(s3_faults.BUCKET, prefix, table)
        self.assertEqual(final["ImportStatus"], "COMPLETED", final)
        self.assertEqual((final["ProcessedItemCount"], final["ImportedItemCount"],
                          final["ErrorCount"]), (1001, 1001, 0))
        self.assertEqual(final["ProcessedSizeBytes"],
                         sum(len(text) for key, text in objects.items() if key.startswith(prefix)))
        keys = sorted(item["pk"]["S"] for item in scan_all(table, self.ddb))
        self.assertEqual(keys, ["o%04d" % i for i in range(1001)])

    def test_a_bucket_the_endpoint_lacks_fails_the_import(self):
        table = tw.unique_name("ims3nobucket")
        final = self.import_from("no-such-bucket-" + uuid.uuid4().hex[:12], "x/", table)
        self.assertEqual((final["ImportStatus"], final["FailureCode"]),
                         ("FAILED", "S3NoSuchBucket"), final)
        self.assertNotIn(table, self.ddb.list_tables()["TableNames"])


if __name__ == "__main__":
    unittest.main()
