"""OnDemandThroughput of PAY_PER_REQUEST tables: CreateTable and UpdateTable set
MaxReadRequestUnits/MaxWriteRequestUnits (-1: no maximum), DescribeTable shows them, and
values below 1 other than -1 are refused with ValidationException; the maximums are kept
over a restart of tidewaterd.

The installed botocore may predate OnDemandThroughput (its client-side validation would
refuse the member), so the calls go as signed raw requests: the wire format is DynamoDB's."""

import json

import tidewater_fixture as tw

KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"}]


def call(operation, **request):
    """(HTTP status, parsed answer) of a signed DynamoDB `operation`."""
    status, _, body = tw.raw_request(operation, json.dumps(request).encode())
    return status, json.loads(body)


class OnDemandThroughputTest(tw.ConformanceTestCase):

    def create(self, **extra):
        name = tw.unique_name("ondemand")
        self._tables_to_drop.append(name)
        status, answer = call("CreateTable", TableName=name, KeySchema=KEY_SCHEMA,
                              AttributeDefinitions=ATTRIBUTES, BillingMode="PAY_PER_REQUEST",
                              **extra)
        self.assertEqual(status, 200, answer)
        tw.wait_for_table_status(name)
        return name, answer["TableDescription"]

    def described(self, name):
        status, answer = call("DescribeTable", TableName=name)
        self.assertEqual(status, 200, answer)
        return answer["Table"].get("OnDemandThroughput")

    def update(self, name, **extra):
        status, answer = call("UpdateTable", TableName=name, **extra)
        self.assertEqual(status, 200, answer)
        tw.wait_for_table_status(name)
        return answer["TableDescription"]

    def assertValidationError(self, operation, **request):
        status, answer = call(operation, **request)
        self.assertEqual(status, 400, answer)
        self.assertTrue(answer["__type"].endswith("#ValidationException"), answer)

    def test_maximums_set_at_creation_are_described(self):
        name, created = self.create(OnDemandThroughput={"MaxReadRequestUnits": 100,
                                                        "MaxWriteRequestUnits": 50})
        self.assertEqual(created["OnDemandThroughput"],
                         {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50})
        self.assertEqual(self.described(name),
                         {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50})

    def test_update_table_changes_one_maximum_and_minus_one_removes_it(self):
        name, _ = self.create(OnDemandThroughput={"MaxReadRequestUnits": 100})
        self.update(name, OnDemandThroughput={"MaxWriteRequestUnits": 20})
        self.assertEqual(self.described(name),
                         {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 20})
        self.update(name, OnDemandThroughput={"MaxReadRequestUnits": -1})
        described = self.described(name)
        self.assertEqual(described["MaxWriteRequestUnits"], 20)
        self.assertEqual(described.get("MaxReadRequestUnits", -1), -1)

    def test_maximums_persist_over_restart(self):
        name, _ = self.create(OnDemandThroughput={"MaxWriteRequestUnits": 9})
        tw.restart_managed_server()
        self.assertEqual(self.described(name)["MaxWriteRequestUnits"], 9)

    def test_values_below_one_other_than_minus_one_are_refused(self):
        for value in (0, -2):
            self.assertValidationError(
                "CreateTable", TableName=tw.unique_name("badmax"), KeySchema=KEY_SCHEMA,
                AttributeDefinitions=ATTRIBUTES, BillingMode="PAY_PER_REQUEST",
                OnDemandThroughput={"MaxReadRequestUnits": value})
        name, _ = self.create()
        self.assertValidationError("UpdateTable", TableName=name,
                                   OnDemandThroughput={"MaxWriteRequestUnits": 0})


if __name__ == "__main__":
    import unittest
    unittest.main()
