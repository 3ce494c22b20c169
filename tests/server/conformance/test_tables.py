"""Table lifecycle: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable, TTL."""

import datetime
import re
import unittest

import tidewater_fixture as tw

KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"},
              {"AttributeName": "sk", "KeyType": "RANGE"}]
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"},
              {"AttributeName": "sk", "AttributeType": "N"}]


def table_arn_pattern(name):
    return re.compile(r"^arn:aws:dynamodb:%s:[0-9]{12}:table/%s$" %
                      (re.escape(tw.REGION), re.escape(name)))


class CreateDescribeDeleteTest(tw.ConformanceTestCase):

    def test_create_describe_delete_with_stream(self):
        name = tw.unique_name("lifecycle")
        self._tables_to_drop.append(name)
        created = self.ddb.create_table(
            TableName=name, KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTES,
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
        self.assertEqual(created["TableName"], name)
        self.assertIn(created["TableStatus"], ("CREATING", "ACTIVE"))
        self.assertEqual(created["KeySchema"], KEY_SCHEMA)
        self.assertCountEqual(created["AttributeDefinitions"], ATTRIBUTES)
        self.assertRegex(created["TableArn"], table_arn_pattern(name))
        self.assertEqual(created["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.assertTrue(created["LatestStreamArn"].startswith(created["TableArn"] + "/stream/"),
                        created["LatestStreamArn"])
        self.assertEqual(created["LatestStreamArn"],
                         created["TableArn"] + "/stream/" + created["LatestStreamLabel"])

        described = tw.wait_for_table_status(name)
        self.assertEqual(described["TableName"], name)
        self.assertEqual(described["KeySchema"], KEY_SCHEMA)
        self.assertCountEqual(described["AttributeDefinitions"], ATTRIBUTES)
        self.assertEqual(described["TableArn"], created["TableArn"])
        self.assertEqual(described["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(described["ProvisionedThroughput"]["ReadCapacityUnits"], 0)
        self.assertEqual(described["ProvisionedThroughput"]["WriteCapacityUnits"], 0)
        self.assertEqual(described["ItemCount"], 0)
        self.assertEqual(described["TableSizeBytes"], 0)
        self.assertIsInstance(described["CreationDateTime"], datetime.datetime)
        self.assertEqual(described["StreamSpecification"], created["StreamSpecification"])
        self.assertEqual(described["LatestStreamArn"], created["LatestStreamArn"])

        deleted = self.ddb.delete_table(TableName=name)["TableDescription"]
        self.assertEqual(deleted["TableName"], name)
        self.assertEqual(deleted["TableStatus"], "DELETING")
        tw.wait_for_table_gone(name)
        self.assertClientError("ResourceNotFoundException", self.ddb.describe_table,
                               TableName=name, message="Requested resource not found")
        self.assertClientError("ResourceNotFoundException", self.ddb.delete_table,
                               TableName=name, message="Requested resource not found")
        self.assertNotIn(name, self.ddb.list_tables()["TableNames"])

    def test_delete_table_answers_the_short_description(self):
        name = tw.unique_name("deletedesc")
        self._tables_to_drop.append(name)
        tw.create_table(name, range_key=("sk", "N"), stream_view_type="KEYS_ONLY")
        deleted = self.ddb.delete_table(TableName=name)["TableDescription"]
        self.assertEqual(deleted["TableName"], name)
        self.assertEqual(deleted["TableStatus"], "DELETING")
        self.assertRegex(deleted["TableArn"], table_arn_pattern(name))
        for member in ("TableId", "ItemCount", "TableSizeBytes", "ProvisionedThroughput"):
            self.assertIn(member, deleted)
        for member in ("AttributeDefinitions", "KeySchema", "CreationDateTime",
                       "StreamSpecification", "LatestStreamArn", "LatestStreamLabel"):
            self.assertNotIn(member, deleted)

    def test_deleted_table_name_can_be_reused_empty(self):
        name = tw.unique_name("reuse")
        self._tables_to_drop.append(name)
        tw.create_table(name)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        self.ddb.delete_table(TableName=name)
        tw.wait_for_table_gone(name)
        tw.create_table(name)
        self.assertNotIn("Item", self.ddb.get_item(TableName=name, Key={"pk": {"S": "a"}},
                                                   ConsistentRead=True))

    def test_provisioned_billing_mode(self):
        name = tw.unique_name("provisioned")
        self._tables_to_drop.append(name)
        self.ddb.create_table(TableName=name, KeySchema=KEY_SCHEMA[:1],
                              AttributeDefinitions=ATTRIBUTES[:1],
                              ProvisionedThroughput={"ReadCapacityUnits": 7,
                                                     "WriteCapacityUnits": 3})
        described = tw.wait_for_table_status(name)
        self.assertEqual(described["ProvisionedThroughput"]["ReadCapacityUnits"], 7)
        self.assertEqual(described["ProvisionedThroughput"]["WriteCapacityUnits"], 3)
        self.assertNotIn("StreamSpecification", described)
        self.assertNotIn("LatestStreamArn", described)

    def test_create_existing_table_is_resource_in_use(self):
        name = tw.unique_name("existing")
        self._tables_to_drop.append(name)
        tw.create_table(name)
        self.assertClientError("ResourceInUseException", self.ddb.create_table,
                               TableName=name, KeySchema=KEY_SCHEMA[:1],
                               AttributeDefinitions=ATTRIBUTES[:1],
                               BillingMode="PAY_PER_REQUEST")

    def test_invalid_create_requests(self):
        cases = {
            "key attribute not defined": dict(
                KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTES[:1],
                BillingMode="PAY_PER_REQUEST"),
            "defined attribute not in key schema": dict(
                KeySchema=KEY_SCHEMA[:1], AttributeDefinitions=ATTRIBUTES,
                BillingMode="PAY_PER_REQUEST"),
            "provisioned without throughput": dict(
                KeySchema=KEY_SCHEMA[:1], AttributeDefinitions=ATTRIBUTES[:1],
                BillingMode="PROVISIONED"),
            "on-demand with throughput": dict(
                KeySchema=KEY_SCHEMA[:1], AttributeDefinitions=ATTRIBUTES[:1],
                BillingMode="PAY_PER_REQUEST",
                ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}),
            "two hash keys": dict(
                KeySchema=[KEY_SCHEMA[0], {"AttributeName": "sk", "KeyType": "HASH"}],
                AttributeDefinitions=ATTRIBUTES, BillingMode="PAY_PER_REQUEST"),
            "unknown stream view type": dict(
                KeySchema=KEY_SCHEMA[:1], AttributeDefinitions=ATTRIBUTES[:1],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "EVERYTHING"}),
        }
        for label, request in cases.items():
            with self.subTest(label):
                name = tw.unique_name("invalid")
                self._tables_to_drop.append(name)
                self.assertClientError("ValidationException", self.ddb.create_table,
                                       TableName=name, **request)


class ListTablesTest(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        prefix = tw.unique_name("list")
        cls.names = [prefix + suffix for suffix in ("_a", "_b", "_c")]
        for name in cls.names:
            cls._tables_to_drop.append(name)
            tw.create_table(name)

    def test_pages_with_limit_cover_all_tables_in_order(self):
        collected = []
        request = {"Limit": 2}
        for _ in range(10000):
            page = self.ddb.list_tables(**request)
            self.assertLessEqual(len(page["TableNames"]), 2)
            collected += page["TableNames"]
            if "LastEvaluatedTableName" not in page:
                break
            self.assertEqual(page["LastEvaluatedTableName"], page["TableNames"][-1])
            request["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
        self.assertEqual(collected, sorted(set(collected)), "pages must be sorted and disjoint")
        for name in self.names:
            self.assertIn(name, collected)

    def test_exclusive_start_table_name(self):
        # No other table can sort between names that share the unique prefix.
        page = self.ddb.list_tables(ExclusiveStartTableName=self.names[0], Limit=2)
        self.assertEqual(page["TableNames"], self.names[1:])
        page = self.ddb.list_tables(ExclusiveStartTableName=self.names[2])
        self.assertNotIn(self.names[2], page["TableNames"])
        self.assertTrue(all(n > self.names[2] for n in page["TableNames"]))


class UpdateTableStreamTest(tw.ConformanceTestCase):

    def describe_stream(self, stream_arn):
        return tw.streams().describe_stream(StreamArn=stream_arn)["StreamDescription"]

    def test_enable_disable_and_change_view_type(self):
        name = self.create_class_table("streamtoggle")
        table = self.ddb.describe_table(TableName=name)["Table"]
        self.assertNotIn("StreamSpecification", table)
        self.assertNotIn("LatestStreamArn", table)

        updated = self.ddb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        self.assertEqual(updated["TableDescription"]["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        table = tw.wait_for_table_status(name)
        first_arn = table["LatestStreamArn"]
        self.assertEqual(table["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        description = self.describe_stream(first_arn)
        self.assertEqual(description["StreamViewType"], "NEW_IMAGE")
        self.assertEqual(description["TableName"], name)
        listed = tw.streams().list_streams(TableName=name)["Streams"]
        self.assertIn(first_arn, [s["StreamArn"] for s in listed])

        self.ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
        table = tw.wait_for_table_status(name)
        self.assertFalse(table.get("StreamSpecification", {"StreamEnabled": False})
                         ["StreamEnabled"])
        self.assertIn(self.describe_stream(first_arn)["StreamStatus"],
                      ("DISABLING", "DISABLED"))

        self.ddb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        table = tw.wait_for_table_status(name)
        self.assertEqual(table["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        self.assertNotEqual(table["LatestStreamArn"], first_arn)
        self.assertEqual(self.describe_stream(table["LatestStreamArn"])["StreamViewType"],
                         "KEYS_ONLY")

    def test_enabling_an_enabled_stream_is_rejected(self):
        # A table has at most one enabled stream: the view type changes by disable + enable,
        # never by replacing the stream (its readers would lose it).
        name = self.create_class_table("streamtwice", stream_view_type="NEW_IMAGE")
        arn = self.ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        for view_type in ("KEYS_ONLY", "NEW_IMAGE"):
            with self.subTest(enable_again=view_type):
                self.assertClientError(
                    "ValidationException", self.ddb.update_table, TableName=name,
                    StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type})
                table = tw.wait_for_table_status(name)
                self.assertEqual(table["LatestStreamArn"], arn)
                self.assertEqual(self.describe_stream(arn)["StreamViewType"], "NEW_IMAGE")

    def test_disabling_a_missing_stream_is_rejected(self):
        name = self.create_class_table("nostream")
        self.assertClientError("ValidationException", self.ddb.update_table, TableName=name,
                               StreamSpecification={"StreamEnabled": False})

    def test_update_unknown_table(self):
        self.assertClientError(
            "ResourceNotFoundException", self.ddb.update_table,
            TableName=tw.unique_name("missing"),
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})


class TimeToLiveTest(tw.ConformanceTestCase):

    def test_enable_and_describe(self):
        name = self.create_class_table("ttl")
        description = self.ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        self.assertEqual(description["TimeToLiveStatus"], "DISABLED")
        self.assertNotIn("AttributeName", description)

        specification = {"Enabled": True, "AttributeName": "expires_at"}
        response = self.ddb.update_time_to_live(TableName=name,
                                                TimeToLiveSpecification=specification)
        self.assertEqual(response["TimeToLiveSpecification"], specification)
        description = self.ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        self.assertIn(description["TimeToLiveStatus"], ("ENABLING", "ENABLED"))
        self.assertEqual(description["AttributeName"], "expires_at")

        # Enabling again (already enabled, or too soon after a change) is rejected.
        self.assertClientError("ValidationException", self.ddb.update_time_to_live,
                               TableName=name, TimeToLiveSpecification=specification)

    def test_unknown_table(self):
        missing = tw.unique_name("missing")
        self.assertClientError("ResourceNotFoundException", self.ddb.describe_time_to_live,
                               TableName=missing)
        self.assertClientError("ResourceNotFoundException", self.ddb.update_time_to_live,
                               TableName=missing,
                               TimeToLiveSpecification={"Enabled": True, "AttributeName": "t"})


if __name__ == "__main__":
    unittest.main()
