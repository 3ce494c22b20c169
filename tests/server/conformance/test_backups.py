"""Backups and restores: CreateBackup, DescribeBackup, ListBackups (filters and pages),
DeleteBackup, RestoreTableFromBackup (a round trip of every attribute type with a local and a
global index, RestoreSummary, overrides), UpdateContinuousBackups and
DescribeContinuousBackups (point-in-time recovery and its period), RestoreTableToPointInTime
(to a time and to the latest restorable time), the SYSTEM backup DeleteTable leaves of a
table with recovery on, their errors, the AWS CLI's commands for them, and tidewater's
TidewaterStreamBackfill extension (restored items entering the new table's stream).

A restore fills its table in the background: every restored table is polled until ACTIVE.
The installed botocore predates RecoveryPeriodInDays (its client-side validation would refuse
the member) and sends timestamps in whole seconds, so the calls that need either go as signed
raw requests: the wire format is DynamoDB's. Against DynamoDB itself, whose latest restorable
time trails by minutes and whose restores take longer, raise TIDEWATER_STATE_TIMEOUT."""

import datetime
import json
import os
import subprocess
import time
import unittest

import boto3

import tidewater_fixture as tw
from index_helpers import attribute, batch_put, key_element, project

AWS = "/usr/bin/aws"
LSI = "by_lsi_sk"  # pk + lsi_sk, ALL
GSI = "by_gsi_pk"  # gsi_pk + sk, INCLUDE s
GSI_PROJECTION = ("pk", "sk", "gsi_pk", "s")
SOURCE_ITEMS = 30


def call(operation, **request):
    """(HTTP status, parsed answer) of a signed DynamoDB `operation`."""
    status, _, body = tw.raw_request(operation, json.dumps(request).encode())
    return status, json.loads(body)


def typed_item(i):
    """An item with an attribute of every type (numbers and sets as DynamoDB returns them)."""
    return {"pk": {"S": "p%d" % (i % 3)}, "sk": {"N": str(i)},
            "lsi_sk": {"S": "l%03d" % (100 - i)}, "gsi_pk": {"S": "g%d" % (i % 2)},
            "s": {"S": "text %d" % i}, "n": {"N": "%d.5" % i}, "b": {"B": bytes([i, 0, 255])},
            "ss": {"SS": ["a", "b%d" % i]}, "ns": {"NS": ["1", str(i + 2)]},
            "bs": {"BS": [b"\x01", bytes([i + 2, 7])]},
            "m": {"M": {"k": {"S": "v"}, "n": {"N": str(i)}, "l": {"L": [{"NULL": True}]}}},
            "l": {"L": [{"S": "x"}, {"N": "1"}, {"BOOL": False}, {"M": {}}]},
            "flag": {"BOOL": i % 2 == 0}, "nothing": {"NULL": True}}


def canonical(value):
    """An attribute value with its sets sorted (DynamoDB returns set members in any order)."""
    (kind, inner), = value.items()
    if kind in ("SS", "NS", "BS"):
        return {kind: sorted(inner)}
    if kind == "M":
        return {kind: {k: canonical(v) for k, v in inner.items()}}
    if kind == "L":
        return {kind: [canonical(v) for v in inner]}
    return value


def canonical_items(items):
    """Items with sorted sets, ordered by table key."""
    return sorted(({k: canonical(v) for k, v in item.items()} for item in items),
                  key=lambda item: (item["pk"]["S"], float(item["sk"]["N"])))


def scan_all(table):
    """Every item of `table` (strongly consistent Scan, every page)."""
    items, request = [], {"TableName": table, "ConsistentRead": True}
    while True:
        page = tw.retry_throttled(tw.dynamodb().scan, **request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def create_plain_table(cls, prefix):
    """An on-demand table keyed by pk (S) and sk (N) that the class drops afterwards."""
    name = tw.unique_name(prefix)
    cls._tables_to_drop.append(name)
    tw.create_table(name, hash_key=("pk", "S"), range_key=("sk", "N"))
    return name


def create_source_table(cls, prefix):
    """An on-demand table with a local and a global index, a stream and TTL, loaded with
    SOURCE_ITEMS typed items; the class drops it afterwards."""
    name = tw.unique_name(prefix)
    cls._tables_to_drop.append(name)
    tw.dynamodb().create_table(
        TableName=name,
        AttributeDefinitions=[attribute("pk", "S"), attribute("sk", "N"),
                              attribute("lsi_sk", "S"), attribute("gsi_pk", "S")],
        KeySchema=[key_element("pk", "HASH"), key_element("sk", "RANGE")],
        LocalSecondaryIndexes=[{
            "IndexName": LSI,
            "KeySchema": [key_element("pk", "HASH"), key_element("lsi_sk", "RANGE")],
            "Projection": {"ProjectionType": "ALL"}}],
        GlobalSecondaryIndexes=[{
            "IndexName": GSI,
            "KeySchema": [key_element("gsi_pk", "HASH"), key_element("sk", "RANGE")],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["s"]}}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    tw.wait_for_table_status(name)
    tw.dynamodb().update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    batch_put(name, [typed_item(i) for i in range(SOURCE_ITEMS)])
    return name


def put_items(table, items):
    for item in items:
        tw.retry_throttled(tw.dynamodb().put_item, TableName=table, Item=item)


def wait_until_restorable(table, after):
    """DescribeContinuousBackups until LatestRestorableDateTime (epoch seconds) is later than
    `after`; returns that PointInTimeRecoveryDescription."""
    deadline = time.monotonic() + tw.STATE_TIMEOUT
    while True:
        description = tw.dynamodb().describe_continuous_backups(TableName=table)[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        if description["LatestRestorableDateTime"].timestamp() > after:
            return description
        if time.monotonic() > deadline:
            raise AssertionError("LatestRestorableDateTime of %s did not pass %s within %ss" %
                                 (table, after, tw.STATE_TIMEOUT))
        time.sleep(0.2)


def enable_recovery(table):
    tw.dynamodb().update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


class BackupRestoreTest(tw.ConformanceTestCase):
    """One backup of a table with indexes, a stream and TTL, restored as it is and with
    overrides."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = create_source_table(cls, "bksrc")
        cls.source_arn = cls.ddb.describe_table(TableName=cls.source)["Table"]["TableArn"]
        cls.backup = cls.ddb.create_backup(TableName=cls.source,
                                           BackupName="round_trip")["BackupDetails"]

    def restore(self, **overrides):
        """RestoreTableFromBackup of the class's backup into a new table (dropped afterwards);
        returns (its name, the answer's TableDescription)."""
        target = tw.unique_name("bkdst")
        self._tables_to_drop.append(target)
        answer = self.ddb.restore_table_from_backup(
            TargetTableName=target, BackupArn=self.backup["BackupArn"], **overrides)
        return target, answer["TableDescription"]

    def test_create_backup_answers_its_details(self):
        self.assertEqual(self.backup["BackupName"], "round_trip")
        self.assertEqual(self.backup["BackupStatus"], "AVAILABLE")
        self.assertEqual(self.backup["BackupType"], "USER")
        self.assertTrue(self.backup["BackupArn"].startswith(self.source_arn + "/backup/"))
        self.assertIsInstance(self.backup["BackupSizeBytes"], int)
        self.assertIsInstance(self.backup["BackupCreationDateTime"], datetime.datetime)
        self.assertNotIn("BackupExpiryDateTime", self.backup)

    def test_describe_backup_shows_the_source_table_and_its_features(self):
        described = self.ddb.describe_backup(BackupArn=self.backup["BackupArn"])[
            "BackupDescription"]
        self.assertEqual(described["BackupDetails"], self.backup)
        details = described["SourceTableDetails"]
        self.assertEqual(details["TableName"], self.source)
        self.assertEqual(details["TableArn"], self.source_arn)
        self.assertEqual(details["KeySchema"],
                         [key_element("pk", "HASH"), key_element("sk", "RANGE")])
        self.assertEqual(details["ItemCount"], SOURCE_ITEMS)
        self.assertEqual(details["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(details["ProvisionedThroughput"],
                         {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0})
        features = described["SourceTableFeatureDetails"]
        self.assertEqual(features["LocalSecondaryIndexes"], [{
            "IndexName": LSI,
            "KeySchema": [key_element("pk", "HASH"), key_element("lsi_sk", "RANGE")],
            "Projection": {"ProjectionType": "ALL"}}])
        self.assertEqual(features["GlobalSecondaryIndexes"], [{
            "IndexName": GSI,
            "KeySchema": [key_element("gsi_pk", "HASH"), key_element("sk", "RANGE")],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["s"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}}])
        self.assertEqual(features["StreamDescription"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        self.assertEqual(features["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})

    def test_restore_round_trip_with_indexes(self):
        target, created = self.restore()
        self.assertEqual(created["TableStatus"], "CREATING")
        summary = created["RestoreSummary"]
        self.assertEqual(summary["SourceBackupArn"], self.backup["BackupArn"])
        self.assertEqual(summary["SourceTableArn"], self.source_arn)
        self.assertEqual(summary["RestoreDateTime"], self.backup["BackupCreationDateTime"])
        self.assertTrue(summary["RestoreInProgress"])

        table = tw.wait_for_table_status(target)
        self.assertFalse(table["RestoreSummary"]["RestoreInProgress"])
        self.assertEqual(table["RestoreSummary"]["SourceBackupArn"], self.backup["BackupArn"])
        self.assertEqual(table["KeySchema"],
                         [key_element("pk", "HASH"), key_element("sk", "RANGE")])
        self.assertEqual([i["IndexName"] for i in table["LocalSecondaryIndexes"]], [LSI])
        self.assertEqual([i["IndexName"] for i in table["GlobalSecondaryIndexes"]], [GSI])
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertNotIn("StreamSpecification", table)  # DynamoDB restores no stream ...
        self.assertEqual(self.ddb.describe_time_to_live(TableName=target)[  # ... and no TTL
            "TimeToLiveDescription"]["TimeToLiveStatus"], "DISABLED")

        expected = canonical_items(typed_item(i) for i in range(SOURCE_ITEMS))
        self.assertEqual(canonical_items(scan_all(target)), expected)
        by_lsi = self.ddb.query(TableName=target, IndexName=LSI, ConsistentRead=True,
                                KeyConditionExpression="pk = :p",
                                ExpressionAttributeValues={":p": {"S": "p1"}})["Items"]
        self.assertEqual([i["lsi_sk"]["S"] for i in by_lsi],
                         sorted("l%03d" % (100 - i) for i in range(SOURCE_ITEMS) if i % 3 == 1))
        self.assertEqual(canonical_items(by_lsi), [i for i in expected if i["pk"]["S"] == "p1"])
        self.assertGlobalIndexAnswers(target, [project(i, GSI_PROJECTION) for i in expected
                                               if i["gsi_pk"]["S"] == "g0"])

    def assertGlobalIndexAnswers(self, table, expected):
        """Queries the restored GSI for gsi_pk g0 until it answers `expected` (a global index
        is eventually consistent)."""
        deadline = time.monotonic() + tw.STATE_TIMEOUT
        while True:
            got = canonical_items(self.ddb.query(
                TableName=table, IndexName=GSI, KeyConditionExpression="gsi_pk = :g",
                ExpressionAttributeValues={":g": {"S": "g0"}})["Items"])
            if got == expected or time.monotonic() > deadline:
                self.assertEqual(got, expected)
                return
            time.sleep(0.2)

    def test_restore_with_overrides(self):
        target, created = self.restore(
            BillingModeOverride="PROVISIONED",
            ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
            LocalSecondaryIndexOverride=[],
            GlobalSecondaryIndexOverride=[{
                "IndexName": GSI,
                "KeySchema": [key_element("gsi_pk", "HASH"), key_element("sk", "RANGE")],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["s"]},
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 4}}],
            # DynamoDB's AWS owned key (KMS needs tidewaterd's master keyring:
            # test_encryption_at_rest.py).
            SSESpecificationOverride={"Enabled": False})
        self.assertEqual(created["TableStatus"], "CREATING")
        table = tw.wait_for_table_status(target)
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PROVISIONED")
        self.assertEqual((table["ProvisionedThroughput"]["ReadCapacityUnits"],
                          table["ProvisionedThroughput"]["WriteCapacityUnits"]), (7, 3))
        self.assertNotIn("LocalSecondaryIndexes", table)
        self.assertNotIn("SSEDescription", table)
        (index,) = table["GlobalSecondaryIndexes"]
        self.assertEqual((index["IndexName"], index["ProvisionedThroughput"]["ReadCapacityUnits"],
                          index["ProvisionedThroughput"]["WriteCapacityUnits"]), (GSI, 5, 4))
        self.assertEqual(len(scan_all(target)), SOURCE_ITEMS)

    def test_stream_backfill_extension(self):
        """TidewaterStreamBackfill (a tidewater extension, which no SDK model has: added to the
        body by a boto3 hook, as docs/OPERATIONS.md shows): the restored table gets a stream of
        that view type holding each restored item once, as an INSERT; a view type outside the
        enum is refused and creates nothing."""
        if os.environ.get("TIDEWATER_ENDPOINT"):
            self.skipTest("a tidewater extension")
        target = tw.unique_name("bkfill")
        self._tables_to_drop.append(target)
        client = boto3.session.Session().client("dynamodb", endpoint_url=tw.endpoint(),
                                                config=tw.client_config())

        def add_backfill(request, **_):
            body = json.loads(request.body)
            body["TidewaterStreamBackfill"] = "NEW_IMAGE"
            request.data = json.dumps(body).encode()
        client.meta.events.register("before-sign.dynamodb.RestoreTableFromBackup", add_backfill)
        client.restore_table_from_backup(TargetTableName=target,
                                         BackupArn=self.backup["BackupArn"])
        table = tw.wait_for_table_status(target)
        self.assertEqual(table["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        streams = tw.streams()
        shards = streams.describe_stream(StreamArn=table["LatestStreamArn"])[
            "StreamDescription"]["Shards"]
        records = []
        for shard in shards:
            iterator = streams.get_shard_iterator(
                StreamArn=table["LatestStreamArn"], ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                page = streams.get_records(ShardIterator=iterator)
                records += page["Records"]
                iterator = page.get("NextShardIterator") if page["Records"] else None
        self.assertEqual({r["eventName"] for r in records}, {"INSERT"})
        self.assertEqual(canonical_items(r["dynamodb"]["NewImage"] for r in records),
                         canonical_items(typed_item(i) for i in range(SOURCE_ITEMS)))

        refused = tw.unique_name("bkfill")
        status, answer = call("RestoreTableFromBackup", TargetTableName=refused,
                              BackupArn=self.backup["BackupArn"],
                              TidewaterStreamBackfill="EVERYTHING")
        self.assertEqual(status, 400)
        self.assertTrue(answer["__type"].endswith("ValidationException"), answer)
        self.assertNotIn(refused, self.ddb.list_tables()["TableNames"])

    def test_invalid_overrides_are_refused(self):
        gsi = {"IndexName": GSI,
               "KeySchema": [key_element("gsi_pk", "HASH"), key_element("sk", "RANGE")],
               "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["s"]}}
        refused = [
            # PROVISIONED from an on-demand backup needs the table's throughput ...
            {"BillingModeOverride": "PROVISIONED"},
            # ... and each global index's.
            {"BillingModeOverride": "PROVISIONED",
             "ProvisionedThroughputOverride": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
            {"ProvisionedThroughputOverride": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
            {"GlobalSecondaryIndexOverride": [dict(gsi, IndexName="no_such_index")]},
            {"GlobalSecondaryIndexOverride": [dict(gsi, Projection={"ProjectionType": "ALL"})]},
            {"GlobalSecondaryIndexOverride": [gsi, gsi]},
            {"LocalSecondaryIndexOverride": [dict(gsi, IndexName=LSI)]},
            {"SSESpecificationOverride": {"SSEType": "ROT13"}},
        ]
        for overrides in refused:
            with self.subTest(overrides=overrides):
                self.assertClientError("ValidationException", self.ddb.restore_table_from_backup,
                                       TargetTableName=tw.unique_name("bkbad"),
                                       BackupArn=self.backup["BackupArn"], **overrides)

    def test_restore_into_an_existing_table_is_refused(self):
        self.assertClientError("TableAlreadyExistsException", self.ddb.restore_table_from_backup,
                               TargetTableName=self.source, BackupArn=self.backup["BackupArn"])

    def test_reads_of_a_restoring_table_wait_for_the_restore(self):
        """A GetItem right after the restore is refused with ResourceNotFoundException while
        items are restored; if it is served, the restore had finished (deterministic either
        way)."""
        target, _ = self.restore()
        try:
            self.ddb.get_item(TableName=target, ConsistentRead=True,
                              Key={"pk": {"S": "p0"}, "sk": {"N": "0"}})
        except tw.ClientError as error:
            self.assertEqual(error.response["Error"]["Code"], "ResourceNotFoundException")
        else:
            self.assertEqual(self.ddb.describe_table(TableName=target)["Table"]["TableStatus"],
                             "ACTIVE")
        tw.wait_for_table_status(target)


class ListBackupsTest(tw.ConformanceTestCase):
    """ListBackups of two tables: by table, by type, by creation time, in pages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = create_plain_table(cls, "bklist")
        cls.other = create_plain_table(cls, "bklist2")
        cls.arns = [cls.ddb.create_backup(TableName=cls.table, BackupName="bk%d" % i)[
            "BackupDetails"]["BackupArn"] for i in range(3)]
        cls.other_arn = cls.ddb.create_backup(TableName=cls.other, BackupName="other")[
            "BackupDetails"]["BackupArn"]

    def listed(self, **request):
        return [b["BackupArn"] for b in self.ddb.list_backups(**request)["BackupSummaries"]]

    def test_summaries_of_a_table_in_creation_order(self):
        summaries = self.ddb.list_backups(TableName=self.table)["BackupSummaries"]
        self.assertEqual([s["BackupArn"] for s in summaries], self.arns)
        self.assertEqual([s["BackupName"] for s in summaries], ["bk0", "bk1", "bk2"])
        table = self.ddb.describe_table(TableName=self.table)["Table"]
        for summary in summaries:
            self.assertEqual(summary["TableName"], self.table)
            self.assertEqual(summary["TableArn"], table["TableArn"])
            self.assertEqual(summary["TableId"], table["TableId"])
            self.assertEqual((summary["BackupType"], summary["BackupStatus"]),
                             ("USER", "AVAILABLE"))
        self.assertEqual(self.listed(TableName=self.other), [self.other_arn])
        everyone = self.listed()
        self.assertLess(everyone.index(self.arns[0]), everyone.index(self.arns[2]))
        self.assertIn(self.other_arn, everyone)

    def test_pages_of_limit_backups(self):
        pages, request = [], {"TableName": self.table, "Limit": 2}
        while True:
            page = self.ddb.list_backups(**request)
            pages.append([b["BackupArn"] for b in page["BackupSummaries"]])
            if "LastEvaluatedBackupArn" not in page:
                break
            self.assertEqual(page["LastEvaluatedBackupArn"], pages[-1][-1])
            request["ExclusiveStartBackupArn"] = page["LastEvaluatedBackupArn"]
        self.assertEqual(pages[0], self.arns[:2])
        self.assertEqual(sum(pages, []), self.arns)
        for limit in (0, 101):  # raw requests: botocore checks the minimum itself
            with self.subTest(limit=limit):
                status, answer = call("ListBackups", TableName=self.table, Limit=limit)
                self.assertEqual(status, 400, answer)
                self.assertTrue(answer["__type"].endswith("#ValidationException"), answer)

    def test_backup_type_filter(self):
        self.assertEqual(self.listed(TableName=self.table, BackupType="USER"), self.arns)
        self.assertEqual(self.listed(TableName=self.table, BackupType="ALL"), self.arns)
        self.assertEqual(self.listed(TableName=self.table, BackupType="SYSTEM"), [])
        self.assertEqual(self.listed(TableName=self.table, BackupType="AWS_BACKUP"), [])
        self.assertClientError("ValidationException", self.ddb.list_backups, BackupType="SOME")

    def test_time_range(self):
        """Bounds between creation times (raw requests: botocore would send whole seconds)."""
        status, answer = call("ListBackups", TableName=self.table)
        self.assertEqual(status, 200, answer)
        times = [s["BackupCreationDateTime"] for s in answer["BackupSummaries"]]
        self.assertEqual(times, sorted(times))
        between_0_1, between_1_2 = (times[0] + times[1]) / 2, (times[1] + times[2]) / 2
        for bounds, expected in [({"TimeRangeLowerBound": between_0_1}, self.arns[1:]),
                                 ({"TimeRangeUpperBound": between_0_1}, self.arns[:1]),
                                 ({"TimeRangeLowerBound": between_0_1,
                                   "TimeRangeUpperBound": between_1_2}, self.arns[1:2]),
                                 ({"TimeRangeLowerBound": times[2] + 60}, [])]:
            with self.subTest(bounds=bounds):
                status, answer = call("ListBackups", TableName=self.table, **bounds)
                self.assertEqual(status, 200, answer)
                self.assertEqual([s["BackupArn"] for s in answer["BackupSummaries"]], expected)


class DeleteBackupTest(tw.ConformanceTestCase):
    """DeleteBackup, and the errors of unknown and malformed backup ARNs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = create_plain_table(cls, "bkdel")
        put_items(cls.table, [{"pk": {"S": "a"}, "sk": {"N": "1"}}])

    def test_deleted_backup_is_gone(self):
        arn = self.ddb.create_backup(TableName=self.table, BackupName="doomed")[
            "BackupDetails"]["BackupArn"]
        deleted = self.ddb.delete_backup(BackupArn=arn)["BackupDescription"]
        self.assertEqual(deleted["BackupDetails"]["BackupArn"], arn)
        self.assertEqual(deleted["BackupDetails"]["BackupStatus"], "DELETED")
        self.assertEqual(deleted["SourceTableDetails"]["TableName"], self.table)
        self.assertClientError("BackupNotFoundException", self.ddb.describe_backup, BackupArn=arn)
        self.assertClientError("BackupNotFoundException", self.ddb.delete_backup, BackupArn=arn)
        self.assertClientError("BackupNotFoundException", self.ddb.restore_table_from_backup,
                               TargetTableName=tw.unique_name("bkgone"), BackupArn=arn)
        listed = self.ddb.list_backups(TableName=self.table)["BackupSummaries"]
        self.assertNotIn(arn, [b["BackupArn"] for b in listed])

    def test_unknown_and_malformed_arns(self):
        arn = self.ddb.create_backup(TableName=self.table, BackupName="kept")[
            "BackupDetails"]["BackupArn"]
        table_arn, backup_id = arn.split("/backup/")
        unknown = [table_arn + "/backup/0000000000000-00000000",
                   table_arn + "x/backup/" + backup_id]  # the backup of another table
        for wrong in unknown:
            with self.subTest(arn=wrong):
                self.assertClientError("BackupNotFoundException", self.ddb.describe_backup,
                                       BackupArn=wrong)
        malformed = ["x" * 40, table_arn + "/backup/", table_arn + "/snapshot/" + backup_id]
        for wrong in malformed:
            with self.subTest(arn=wrong):
                self.assertClientError("ValidationException", self.ddb.describe_backup,
                                       BackupArn=wrong)
        status, answer = call("DescribeBackup", BackupArn="arn:short")
        self.assertEqual(status, 400, answer)
        self.assertTrue(answer["__type"].endswith("#ValidationException"), answer)

    def test_backup_of_an_unknown_table_or_with_a_bad_name(self):
        self.assertClientError("TableNotFoundException", self.ddb.create_backup,
                               TableName=tw.unique_name("bknone"), BackupName="bkp")
        self.assertClientError("ValidationException", self.ddb.create_backup,
                               TableName=self.table, BackupName="no spaces allowed")


class PointInTimeRecoveryTest(tw.ConformanceTestCase):
    """UpdateContinuousBackups, DescribeContinuousBackups and RestoreTableToPointInTime."""

    def restore_target(self):
        target = tw.unique_name("pitrdst")
        self._tables_to_drop.append(target)
        return target

    def test_recovery_is_off_until_enabled(self):
        table = create_plain_table(self, "pitroff")
        description = self.ddb.describe_continuous_backups(TableName=table)[
            "ContinuousBackupsDescription"]
        self.assertEqual(description["ContinuousBackupsStatus"], "ENABLED")
        self.assertEqual(description["PointInTimeRecoveryDescription"],
                         {"PointInTimeRecoveryStatus": "DISABLED"})
        self.assertClientError("PointInTimeRecoveryUnavailableException",
                               self.ddb.restore_table_to_point_in_time, SourceTableName=table,
                               TargetTableName=tw.unique_name("pitrx"),
                               UseLatestRestorableTime=True)

    def test_enable_with_a_period_and_disable(self):
        table = create_plain_table(self, "pitrperiod")
        status, answer = call("UpdateContinuousBackups", TableName=table,
                              PointInTimeRecoverySpecification={
                                  "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7})
        self.assertEqual(status, 200, answer)
        recovery = answer["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        self.assertEqual(recovery["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(recovery["RecoveryPeriodInDays"], 7)
        self.assertLessEqual(recovery["EarliestRestorableDateTime"],
                             recovery["LatestRestorableDateTime"])
        status, answer = call("DescribeContinuousBackups", TableName=table)
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                         ["RecoveryPeriodInDays"], 7)
        disabled = self.ddb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
        self.assertEqual(disabled["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                         ["PointInTimeRecoveryStatus"], "DISABLED")

    def test_recovery_period_outside_1_to_35_days_is_refused(self):
        table = create_plain_table(self, "pitrbad")
        for days in (0, 36):
            with self.subTest(days=days):
                status, answer = call("UpdateContinuousBackups", TableName=table,
                                      PointInTimeRecoverySpecification={
                                          "PointInTimeRecoveryEnabled": True,
                                          "RecoveryPeriodInDays": days})
                self.assertEqual(status, 400, answer)
                self.assertTrue(answer["__type"].endswith("#ValidationException"), answer)

    def test_unknown_tables(self):
        missing = tw.unique_name("pitrnone")
        self.assertClientError("TableNotFoundException", self.ddb.describe_continuous_backups,
                               TableName=missing)
        self.assertClientError("TableNotFoundException", self.ddb.update_continuous_backups,
                               TableName=missing, PointInTimeRecoverySpecification={
                                   "PointInTimeRecoveryEnabled": True})
        self.assertClientError("SourceTableNotFoundException",
                               self.ddb.restore_table_to_point_in_time, SourceTableName=missing,
                               TargetTableName=tw.unique_name("pitrx"),
                               UseLatestRestorableTime=True)

    def test_restore_to_a_time_and_to_the_latest_time(self):
        table = create_plain_table(self, "pitrsrc")
        enable_recovery(table)
        before = [{"pk": {"S": "a"}, "sk": {"N": str(i)}, "v": {"N": str(i)}} for i in range(5)]
        put_items(table, before)
        # botocore sends RestoreDateTime in whole seconds: T's second must follow the writes.
        restore_time = wait_until_restorable(table, time.time() + 1)["LatestRestorableDateTime"]
        after = [{"pk": {"S": "b"}, "sk": {"N": str(i)}} for i in range(3)]
        put_items(table, after)
        changed = dict(before[0], v={"N": "100"})
        put_items(table, [changed])
        self.ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "4"}})

        target = self.restore_target()
        created = self.ddb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName=target, RestoreDateTime=restore_time)[
            "TableDescription"]
        self.assertEqual(created["TableStatus"], "CREATING")
        summary = created["RestoreSummary"]
        self.assertEqual(summary["SourceTableArn"],
                         self.ddb.describe_table(TableName=table)["Table"]["TableArn"])
        self.assertNotIn("SourceBackupArn", summary)
        self.assertEqual(summary["RestoreDateTime"], restore_time.replace(microsecond=0))
        tw.wait_for_table_status(target)
        self.assertEqual(canonical_items(scan_all(target)), canonical_items(before))
        self.assertEqual(self.ddb.describe_continuous_backups(TableName=target)[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"], "DISABLED")

        wait_until_restorable(table, time.time())
        latest = self.restore_target()
        self.ddb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=latest,
                                                UseLatestRestorableTime=True)
        tw.wait_for_table_status(latest)
        self.assertEqual(canonical_items(scan_all(latest)),
                         canonical_items([changed] + before[1:4] + after))

    def test_restore_time_must_be_in_the_restorable_range(self):
        table = create_plain_table(self, "pitrrange")
        enable_recovery(table)
        recovery = self.ddb.describe_continuous_backups(TableName=table)[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        hour = datetime.timedelta(hours=1)
        for when in (recovery["EarliestRestorableDateTime"] - hour,
                     recovery["LatestRestorableDateTime"] + hour):
            with self.subTest(when=when):
                self.assertClientError("InvalidRestoreTimeException",
                                       self.ddb.restore_table_to_point_in_time,
                                       SourceTableName=table,
                                       TargetTableName=tw.unique_name("pitrx"),
                                       RestoreDateTime=when)

    def test_exactly_one_restore_time_and_one_source(self):
        table = create_plain_table(self, "pitrargs")
        enable_recovery(table)
        table_arn = self.ddb.describe_table(TableName=table)["Table"]["TableArn"]
        now = datetime.datetime.now(datetime.timezone.utc)
        refused = [{"SourceTableName": table},
                   {"SourceTableName": table, "UseLatestRestorableTime": False},
                   {"SourceTableName": table, "UseLatestRestorableTime": True,
                    "RestoreDateTime": now},
                   {"UseLatestRestorableTime": True},
                   {"SourceTableName": table, "SourceTableArn": table_arn,
                    "UseLatestRestorableTime": True}]
        for request in refused:
            with self.subTest(request=request):
                self.assertClientError("ValidationException",
                                       self.ddb.restore_table_to_point_in_time,
                                       TargetTableName=tw.unique_name("pitrx"), **request)

    def test_source_named_by_arn(self):
        table = create_plain_table(self, "pitrarn")
        enable_recovery(table)
        put_items(table, [{"pk": {"S": "x"}, "sk": {"N": "1"}}])
        wait_until_restorable(table, time.time())
        table_arn = self.ddb.describe_table(TableName=table)["Table"]["TableArn"]
        target = self.restore_target()
        created = self.ddb.restore_table_to_point_in_time(
            SourceTableArn=table_arn, TargetTableName=target, UseLatestRestorableTime=True)
        self.assertEqual(created["TableDescription"]["RestoreSummary"]["SourceTableArn"],
                         table_arn)
        tw.wait_for_table_status(target)
        self.assertEqual(scan_all(target), [{"pk": {"S": "x"}, "sk": {"N": "1"}}])
        self.assertClientError("TableAlreadyExistsException",
                               self.ddb.restore_table_to_point_in_time, SourceTableName=table,
                               TargetTableName=target, UseLatestRestorableTime=True)


class SystemBackupTest(tw.ConformanceTestCase):
    """DeleteTable of a table with point-in-time recovery on leaves a SYSTEM backup."""

    def system_backups(self, table):
        return self.ddb.list_backups(TableName=table, BackupType="SYSTEM")["BackupSummaries"]

    def test_deleted_table_is_restorable_from_its_system_backup(self):
        table = create_plain_table(self, "sysbk")
        enable_recovery(table)
        items = [{"pk": {"S": "k"}, "sk": {"N": str(i)}, "v": {"SS": ["x", str(i)]}}
                 for i in range(4)]
        put_items(table, items)
        self.ddb.delete_table(TableName=table)
        tw.wait_for_table_gone(table)
        deadline = time.monotonic() + tw.STATE_TIMEOUT
        while not self.system_backups(table) and time.monotonic() < deadline:
            time.sleep(0.2)
        (backup,) = self.system_backups(table)
        self.assertEqual(backup["BackupType"], "SYSTEM")
        self.assertEqual(backup["TableName"], table)
        self.assertGreater(backup["BackupExpiryDateTime"], backup["BackupCreationDateTime"])
        self.assertEqual(self.ddb.list_backups(TableName=table)["BackupSummaries"], [])  # USER
        self.assertIn(backup["BackupArn"],
                      [b["BackupArn"] for b in self.ddb.list_backups(
                          TableName=table, BackupType="ALL")["BackupSummaries"]])

        target = tw.unique_name("sysdst")
        self._tables_to_drop.append(target)
        self.ddb.restore_table_from_backup(TargetTableName=target, BackupArn=backup["BackupArn"])
        tw.wait_for_table_status(target)
        self.assertEqual(canonical_items(scan_all(target)), canonical_items(items))

    def test_deleted_table_without_recovery_leaves_none(self):
        table = create_plain_table(self, "sysnone")
        self.ddb.delete_table(TableName=table)
        tw.wait_for_table_gone(table)
        self.assertEqual(self.system_backups(table), [])


@unittest.skipUnless(os.access(AWS, os.X_OK), "awscli is not installed at " + AWS)
class AwsCliBackupTest(tw.ConformanceTestCase):
    """The AWS CLI's backup and point-in-time recovery commands."""

    def aws(self, *args):
        env = dict(os.environ, AWS_PAGER="", AWS_DEFAULT_OUTPUT="json")
        command = [AWS, "dynamodb", *args, "--endpoint-url", tw.endpoint(),
                   "--region", tw.REGION, "--output", "json", "--no-cli-pager"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, "%s\nstdout: %s\nstderr: %s" %
                         (" ".join(command), result.stdout, result.stderr))
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def source_with_item(self, prefix):
        table = create_plain_table(self, prefix)
        item = {"pk": {"S": "cli"}, "sk": {"N": "1"}, "v": {"S": prefix}}
        self.aws("put-item", "--table-name", table, "--item", json.dumps(item))
        return table, item

    def target(self):
        name = tw.unique_name("clidst")
        self._tables_to_drop.append(name)
        return name

    def test_backup_list_describe_restore_delete(self):
        table, item = self.source_with_item("clibk")
        details = self.aws("create-backup", "--table-name", table,
                           "--backup-name", "cli_backup")["BackupDetails"]
        self.assertEqual((details["BackupName"], details["BackupStatus"]),
                         ("cli_backup", "AVAILABLE"))
        arn = details["BackupArn"]
        listed = self.aws("list-backups", "--table-name", table)["BackupSummaries"]
        self.assertEqual([b["BackupArn"] for b in listed], [arn])
        described = self.aws("describe-backup", "--backup-arn", arn)["BackupDescription"]
        self.assertEqual(described["SourceTableDetails"]["TableName"], table)

        target = self.target()
        created = self.aws("restore-table-from-backup", "--target-table-name", target,
                           "--backup-arn", arn)["TableDescription"]
        self.assertEqual(created["TableStatus"], "CREATING")
        self.assertEqual(created["RestoreSummary"]["SourceBackupArn"], arn)
        tw.wait_for_table_status(target)
        self.assertEqual(scan_all(target), [item])

        deleted = self.aws("delete-backup", "--backup-arn", arn)["BackupDescription"]
        self.assertEqual(deleted["BackupDetails"]["BackupStatus"], "DELETED")
        self.assertEqual(self.aws("list-backups", "--table-name", table)["BackupSummaries"], [])

    def test_point_in_time_recovery(self):
        table, item = self.source_with_item("clipitr")
        updated = self.aws("update-continuous-backups", "--table-name", table,
                           "--point-in-time-recovery-specification",
                           "PointInTimeRecoveryEnabled=true")
        self.assertEqual(updated["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                         ["PointInTimeRecoveryStatus"], "ENABLED")
        written = time.time()
        described = self.aws("describe-continuous-backups", "--table-name", table)
        self.assertEqual(described["ContinuousBackupsDescription"]["ContinuousBackupsStatus"],
                         "ENABLED")
        wait_until_restorable(table, written)
        target = self.target()
        created = self.aws("restore-table-to-point-in-time", "--source-table-name", table,
                           "--target-table-name", target,
                           "--use-latest-restorable-time")["TableDescription"]
        self.assertEqual(created["TableStatus"], "CREATING")
        self.assertNotIn("SourceBackupArn", created["RestoreSummary"])
        tw.wait_for_table_status(target)
        self.assertEqual(scan_all(target), [item])


if __name__ == "__main__":
    unittest.main()
