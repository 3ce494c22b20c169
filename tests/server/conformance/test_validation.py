"""Request validation, operation by operation: parameter shapes (null, length, range, enum,
pattern), legacy and expression parameters that do not mix, and the per-operation rules.
Requests go out raw (signed JSON), so that the SDK's own client-side checks cannot stand in
for the server's."""

import json
import unittest

import tidewater_fixture as tw


class ParameterValidationTest(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("validation", range_key=("sk", "N"))

    def error(self, target, request, prefix="DynamoDB_20120810"):
        """(error type, message) of a request that must fail with HTTP 400."""
        status, _, response = tw.raw_request(target, json.dumps(request).encode(),
                                             service_prefix=prefix)
        self.assertEqual(status, 400, response)
        document = json.loads(response)
        return (document["__type"].rsplit("#", 1)[-1],
                document.get("message", document.get("Message", "")))

    def assertRefused(self, target, request, message, error_type="ValidationException"):
        code, text = self.error(target, request)
        self.assertEqual(code, error_type, text)
        self.assertIn(message, text)

    def key(self, pk="k"):
        return {"pk": {"S": pk}, "sk": {"N": "1"}}

    def test_table_name_shape(self):
        cases = {
            "too short": ("ab", "Member must have length greater than or equal to 3"),
            "bad characters": ("no/slashes", "Member must satisfy regular expression pattern: "
                                             "[a-zA-Z0-9_.-]+"),
            "too long": ("t" * 256, "Member must have length less than or equal to 255"),
        }
        for label, (name, message) in cases.items():
            for target in ("GetItem", "DescribeTable", "Scan"):
                with self.subTest(label, operation=target):
                    request = {"TableName": name}
                    if target == "GetItem":
                        request["Key"] = self.key()
                    self.assertRefused(target, request, message)

    def test_enums(self):
        cases = {
            "ReturnConsumedCapacity": ("GetItem", {"Key": self.key(),
                                                   "ReturnConsumedCapacity": "SOME"},
                                       "at 'returnConsumedCapacity' failed to satisfy constraint: "
                                       "Member must satisfy enum value set"),
            "ReturnValues": ("UpdateItem", {"Key": self.key(), "UpdateExpression": "SET a = :v",
                                            "ExpressionAttributeValues": {":v": {"S": "x"}},
                                            "ReturnValues": "EVERYTHING"},
                             "at 'returnValues' failed to satisfy constraint"),
            "ReturnItemCollectionMetrics": ("PutItem", {"Item": self.key(),
                                                        "ReturnItemCollectionMetrics": "ALL"},
                                            "at 'returnItemCollectionMetrics'"),
            "ReturnValuesOnConditionCheckFailure": (
                "DeleteItem", {"Key": self.key(),
                               "ReturnValuesOnConditionCheckFailure": "ALL_NEW"},
                "at 'returnValuesOnConditionCheckFailure'"),
            "Select": ("Scan", {"Select": "SOME_ATTRIBUTES"}, "at 'select'"),
            "ConditionalOperator": ("Scan", {"ConditionalOperator": "XOR"},
                                    "at 'conditionalOperator'"),
        }
        for label, (target, request, message) in cases.items():
            with self.subTest(label):
                self.assertRefused(target, dict(request, TableName=self.table), message)

    def test_ranges(self):
        cases = {
            "Query Limit 0": ("Query", {"TableName": self.table, "Limit": 0,
                                        "KeyConditionExpression": "pk = :p",
                                        "ExpressionAttributeValues": {":p": {"S": "k"}}},
                              "at 'limit' failed to satisfy constraint: Member must have value "
                              "greater than or equal to 1"),
            "Scan Limit 0": ("Scan", {"TableName": self.table, "Limit": 0}, "at 'limit'"),
            "ListTables Limit 101": ("ListTables", {"Limit": 101},
                                     "Member must have value less than or equal to 100"),
            "TotalSegments 0": ("Scan", {"TableName": self.table, "Segment": 0,
                                         "TotalSegments": 0}, "at 'totalSegments'"),
        }
        for label, (target, request, message) in cases.items():
            with self.subTest(label):
                self.assertRefused(target, request, message)

    def test_several_violations_are_reported_together(self):
        code, text = self.error("Scan", {"TableName": "ab", "Limit": 0, "Select": "X"})
        self.assertEqual(code, "ValidationException")
        self.assertTrue(text.startswith("3 validation errors detected: "), text)

    def test_expression_maps_need_expressions(self):
        cases = {
            "names without expression": (
                {"ExpressionAttributeNames": {"#a": "a"}},
                "ExpressionAttributeNames can only be specified when using expressions"),
            "values without expression": (
                {"ExpressionAttributeValues": {":a": {"S": "a"}}},
                "ExpressionAttributeValues can only be specified when using expressions"),
            "empty values": (
                {"ProjectionExpression": "a", "ExpressionAttributeValues": {}},
                "ExpressionAttributeValues must not be empty"),
            "empty names": (
                {"ProjectionExpression": "a", "ExpressionAttributeNames": {}},
                "ExpressionAttributeNames must not be empty"),
        }
        for label, (extra, message) in cases.items():
            with self.subTest(label):
                self.assertRefused("GetItem", dict(extra, TableName=self.table, Key=self.key()),
                                   message)

    def test_legacy_and_expression_parameters_do_not_mix(self):
        cases = {
            "Expected with ConditionExpression": ("PutItem", {
                "Item": self.key(), "ConditionExpression": "attribute_exists(pk)",
                "Expected": {"a": {"Exists": False}}}),
            "AttributeUpdates with UpdateExpression": ("UpdateItem", {
                "Key": self.key(), "UpdateExpression": "REMOVE b",
                "AttributeUpdates": {"a": {"Action": "DELETE"}}}),
            "AttributesToGet with ProjectionExpression": ("GetItem", {
                "Key": self.key(), "ProjectionExpression": "a", "AttributesToGet": ["a"]}),
            "ScanFilter with FilterExpression": ("Scan", {
                "FilterExpression": "a = :a", "ExpressionAttributeValues": {":a": {"S": "x"}},
                "ScanFilter": {"a": {"ComparisonOperator": "NOT_NULL"}}}),
            "ConditionalOperator with FilterExpression": ("Scan", {
                "FilterExpression": "a = :a", "ExpressionAttributeValues": {":a": {"S": "x"}},
                "ConditionalOperator": "OR"}),
        }
        for label, (target, request) in cases.items():
            with self.subTest(label):
                self.assertRefused(target, dict(request, TableName=self.table),
                                   "Can not use both expression and non-expression parameters "
                                   "in the same request")

    def test_attributes_to_get(self):
        self.assertRefused("GetItem", {"TableName": self.table, "Key": self.key(),
                                       "AttributesToGet": []},
                           "at 'attributesToGet' failed to satisfy constraint: Member must have "
                           "length greater than or equal to 1")
        self.assertRefused("GetItem", {"TableName": self.table, "Key": self.key(),
                                       "AttributesToGet": ["a", "a"]},
                           "Duplicate value in attribute name: a")

    def test_select_rules(self):
        cases = {
            "SPECIFIC_ATTRIBUTES without a projection": (
                {"Select": "SPECIFIC_ATTRIBUTES"},
                "Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or "
                "ProjectionExpression"),
            "ALL_ATTRIBUTES with a projection": (
                {"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "a"},
                "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"),
            "COUNT with AttributesToGet": (
                {"Select": "COUNT", "AttributesToGet": ["a"]},
                "Cannot specify the AttributesToGet when choosing to get COUNT"),
            "ALL_PROJECTED_ATTRIBUTES without an index": (
                {"Select": "ALL_PROJECTED_ATTRIBUTES"},
                "Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries"),
        }
        for label, (extra, message) in cases.items():
            with self.subTest(label):
                self.assertRefused("Scan", dict(extra, TableName=self.table), message)

    def test_query_needs_a_key_condition(self):
        self.assertRefused("Query", {"TableName": self.table},
                           "Either the KeyConditions or KeyConditionExpression parameter must be "
                           "specified in the request.")

    def test_transact_write_items_shape(self):
        cases = {
            "no TransactItems": ({}, "Value null at 'transactItems' failed to satisfy "
                                     "constraint: Member must not be null"),
            "empty TransactItems": ({"TransactItems": []},
                                    "Member must have length greater than or equal to 1"),
            "Put without Item": ({"TransactItems": [{"Put": {"TableName": self.table}}]},
                                 "Value null at 'transactItems.1.member.put.item'"),
            "Update without UpdateExpression": (
                {"TransactItems": [{"Update": {"TableName": self.table, "Key": self.key()}}]},
                "Value null at 'transactItems.1.member.update.updateExpression'"),
            "ConditionCheck without ConditionExpression": (
                {"TransactItems": [{"ConditionCheck": {"TableName": self.table,
                                                       "Key": self.key()}}]},
                "Value null at 'transactItems.1.member.conditionCheck.conditionExpression'"),
            "ClientRequestToken over 36 characters": (
                {"TransactItems": [{"Put": {"TableName": self.table, "Item": self.key()}}],
                 "ClientRequestToken": "t" * 37},
                "at 'clientRequestToken' failed to satisfy constraint: Member must have length "
                "less than or equal to 36"),
        }
        for label, (request, message) in cases.items():
            with self.subTest(label):
                self.assertRefused("TransactWriteItems", request, message)

    def test_batch_shapes(self):
        self.assertRefused("BatchGetItem", {"RequestItems": {}},
                           "at 'requestItems' failed to satisfy constraint: Member must have "
                           "length greater than or equal to 1")
        self.assertRefused("BatchWriteItem", {"RequestItems": {self.table: [
            {"PutRequest": {"Item": self.key()}, "DeleteRequest": {"Key": self.key()}}]}},
                           "Supplied WriteRequest must contain exactly one of PutRequest or "
                           "DeleteRequest")

    def test_streams_parameter_shapes(self):
        arn = "arn:aws:dynamodb:us-east-1:000000000000:table/abc/stream/2024-01-31T12:34:56.789"
        cases = {
            "DescribeStream Limit 0": ("DescribeStream", {"StreamArn": arn, "Limit": 0},
                                       "at 'limit'"),
            "GetShardIterator type": ("GetShardIterator", {
                "StreamArn": arn, "ShardId": "shardId-00000000000000000000-00000000",
                "ShardIteratorType": "SOMEWHERE"}, "at 'shardIteratorType'"),
            "GetRecords Limit 1001": ("GetRecords", {"ShardIterator": "x", "Limit": 1001},
                                      "Member must have value less than or equal to 1000"),
            "ListStreams Limit 0": ("ListStreams", {"Limit": 0}, "at 'limit'"),
        }
        for label, (target, request, message) in cases.items():
            with self.subTest(label):
                code, text = self.error(target, request, prefix="DynamoDBStreams_20120810")
                self.assertEqual(code, "ValidationException", text)
                self.assertIn(message, text)


if __name__ == "__main__":
    unittest.main()
