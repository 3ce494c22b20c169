"""Throttling of a PROVISIONED table: a burst of writes beyond 5 WCU is refused with
ProvisionedThroughputExceededException (botocore's error code, DynamoDB's message and
ThrottlingReasons), and a refused write is not applied; a global index without write
capacity throttles the table's writes the same way."""

import json

import tidewater_fixture as tw

KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"}]
# DynamoDB may hold up to 300 seconds of unused capacity (1,500 WCU at 5 WCU) as burst
# before it throttles; the burst is longer than that.
MAX_WRITES = 3000


class ThrottlingTest(tw.ConformanceTestCase):

    def test_burst_of_writes_on_a_five_unit_table_is_throttled(self):
        name = tw.unique_name("throttle")
        self._tables_to_drop.append(name)
        self.ddb.create_table(TableName=name, KeySchema=KEY_SCHEMA,
                              AttributeDefinitions=ATTRIBUTES, BillingMode="PROVISIONED",
                              ProvisionedThroughput={"ReadCapacityUnits": 5,
                                                     "WriteCapacityUnits": 5})
        tw.wait_for_table_status(name)
        throttled = None
        for i in range(MAX_WRITES):
            try:
                self.ddb.put_item(TableName=name, Item={"pk": {"S": "item-%d" % i}})
            except self.ddb.exceptions.ProvisionedThroughputExceededException as error:
                throttled = (i, error)
                break
        self.assertIsNotNone(throttled, "%d writes were never throttled" % MAX_WRITES)
        index, error = throttled
        self.assertGreaterEqual(index, 5)
        self.assertEqual(error.response["Error"]["Code"],
                         "ProvisionedThroughputExceededException")
        self.assertIn("The level of configured provisioned throughput for the table was "
                      "exceeded", error.response["Error"]["Message"])
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        if "ThrottlingReasons" in error.response:  # botocore releases that model it
            self.check_reasons(error.response["ThrottlingReasons"], name)
        refused = self.ddb.get_item(TableName=name, Key={"pk": {"S": "item-%d" % index}},
                                    ConsistentRead=True)
        self.assertNotIn("Item", refused)

        # The answer as sent, whatever botocore parses: write on until refused again.
        for i in range(MAX_WRITES):
            body = json.dumps({"TableName": name, "Item": {"pk": {"S": "raw-%d" % i}}})
            status, _, answer = tw.raw_request("PutItem", body.encode())
            if status != 200:
                break
        self.assertEqual(status, 400)
        answer = json.loads(answer)
        self.assertTrue(answer["__type"].endswith("#ProvisionedThroughputExceededException"))
        self.check_reasons(answer["ThrottlingReasons"], name)

    def check_reasons(self, reasons, name):
        self.assertEqual([reason["reason"] for reason in reasons],
                         ["TableWriteProvisionedThroughputExceeded"])
        self.assertTrue(reasons[0]["resource"].startswith("arn:aws:dynamodb:"), reasons)
        self.assertTrue(reasons[0]["resource"].endswith(":table/" + name), reasons)


    def test_a_global_index_without_write_capacity_throttles_the_tables_writes(self):
        # DynamoDB: a table write needs write capacity in the table and in all of its
        # global secondary indexes; the index that lacks it is named in ThrottlingReasons.
        name = tw.unique_name("throttle-gsi")
        self._tables_to_drop.append(name)
        self.ddb.create_table(
            TableName=name, KeySchema=KEY_SCHEMA,
            AttributeDefinitions=ATTRIBUTES + [{"AttributeName": "g", "AttributeType": "S"}],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 100},
            GlobalSecondaryIndexes=[{
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 1}}])
        tw.wait_for_table_status(name)
        throttled = None
        for i in range(MAX_WRITES):
            try:
                self.ddb.put_item(TableName=name,
                                  Item={"pk": {"S": "item-%d" % i}, "g": {"S": "g%d" % i}})
            except self.ddb.exceptions.ProvisionedThroughputExceededException as error:
                throttled = (i, error)
                break
        self.assertIsNotNone(throttled, "%d writes were never throttled" % MAX_WRITES)
        index, error = throttled
        self.assertIn("one or more global secondary indexes of the table was exceeded",
                      error.response["Error"]["Message"])
        if "ThrottlingReasons" in error.response:
            reasons = error.response["ThrottlingReasons"]
            self.assertEqual([reason["reason"] for reason in reasons],
                             ["IndexWriteProvisionedThroughputExceeded"])
            self.assertTrue(reasons[0]["resource"].endswith(":table/%s/index/byG" % name),
                            reasons)
        refused = self.ddb.get_item(TableName=name, Key={"pk": {"S": "item-%d" % index}},
                                    ConsistentRead=True)
        self.assertNotIn("Item", refused)
