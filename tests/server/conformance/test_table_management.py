"""Table management: tags (TagResource, UntagResource, ListTagsOfResource, CreateTable Tags),
deletion protection, DescribeLimits, DescribeEndpoints, and UpdateTable's billing mode and
provisioned throughput changes."""

import json
import time

import tidewater_fixture as tw

KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"}]


def table_arn(name):
    return tw.dynamodb().describe_table(TableName=name)["Table"]["TableArn"]


def all_tags(arn):
    """Every tag of the resource as a dict, following NextToken; and the number of pages."""
    tags, pages, token = {}, 0, None
    while True:
        request = {"ResourceArn": arn}
        if token:
            request["NextToken"] = token
        page = tw.dynamodb().list_tags_of_resource(**request)
        pages += 1
        tags.update({tag["Key"]: tag["Value"] for tag in page["Tags"]})
        token = page.get("NextToken")
        if not token:
            return tags, pages


def wait_for_tags(arn, expected):
    """Tag changes are eventually consistent in DynamoDB: waits until the set is `expected`."""
    deadline = time.monotonic() + tw.STATE_TIMEOUT
    while True:
        tags, _ = all_tags(arn)
        if tags == expected or time.monotonic() > deadline:
            return tags
        time.sleep(1)


def tag_list(tags):
    return [{"Key": key, "Value": value} for key, value in tags.items()]


class TagTest(tw.ConformanceTestCase):

    def test_tags_at_create_then_added_replaced_and_removed(self):
        name = tw.unique_name("tags")
        self._tables_to_drop.append(name)
        self.ddb.create_table(TableName=name, KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTES,
                              BillingMode="PAY_PER_REQUEST",
                              Tags=[{"Key": "team", "Value": "data"}, {"Key": "empty", "Value": ""}])
        tw.wait_for_table_status(name)
        arn = table_arn(name)
        self.assertEqual(wait_for_tags(arn, {"team": "data", "empty": ""}),
                         {"team": "data", "empty": ""})
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ops"},
                                                     {"Key": "env", "Value": "prod"}])
        self.ddb.untag_resource(ResourceArn=arn, TagKeys=["empty", "never-set"])
        self.assertEqual(wait_for_tags(arn, {"team": "ops", "env": "prod"}),
                         {"team": "ops", "env": "prod"})

    def test_fifty_tags_are_the_limit_and_are_all_listed(self):
        name = self.create_class_table("taglimit")
        arn = table_arn(name)
        fifty = {"k%02d" % i: "v%d" % i for i in range(50)}
        self.ddb.tag_resource(ResourceArn=arn, Tags=tag_list(fifty))
        self.assertEqual(wait_for_tags(arn, fifty), fifty)
        self.assertClientError("ValidationException", self.ddb.tag_resource, ResourceArn=arn,
                               Tags=[{"Key": "one-more", "Value": "x"}],
                               message="Number of Tags exceed the current limit")
        # Replacing a value at the limit adds no tag.
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k00", "Value": "new"}])
        self.assertEqual(wait_for_tags(arn, dict(fifty, k00="new"))["k00"], "new")
        if tw.managed_server() is not None:
            self.assertGreater(all_tags(arn)[1], 1, "tidewaterd pages ListTagsOfResource")

    def test_invalid_tags_are_rejected(self):
        name = self.create_class_table("tagerrors")
        arn = table_arn(name)

        def rejected(tags, message):
            self.assertClientError("ValidationException", self.ddb.tag_resource, ResourceArn=arn,
                                   Tags=tags, message=message)

        rejected([], "Atleast one Tag needs to be provided as Input.")
        rejected([{"Key": "k" * 129, "Value": "x"}], "The Tag Key provided is invalid")
        rejected([{"Key": "a", "Value": "v" * 257}], "The Tag Value provided is invalid")
        rejected([{"Key": "aws:owner", "Value": "x"}], "Tag Key cannot be prefixed with aws:")
        rejected([{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}],
                 "Duplicate Tag Keys provided as input")
        rejected(tag_list({"k%d" % i: "v" for i in range(51)}),
                 "Number of Tags exceed the current limit")
        self.assertClientError("ValidationException", self.ddb.untag_resource, ResourceArn=arn,
                               TagKeys=[], message="Atleast one Tag Key needs to be provided")
        # Longest key and value, and every allowed special character.
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k" * 128, "Value": "v" * 256},
                                                     {"Key": "a b+c-d=e.f_g:h/i", "Value": "x"}])
        self.assertEqual(len(wait_for_tags(arn, {"k" * 128: "v" * 256,
                                                 "a b+c-d=e.f_g:h/i": "x"})), 2)

    def test_unknown_and_malformed_arns(self):
        name = self.create_class_table("tagarns")
        arn = table_arn(name)
        unknown = arn[:arn.rindex("/") + 1] + tw.unique_name("missing")
        for call, extra in ((self.ddb.list_tags_of_resource, {}),
                            (self.ddb.tag_resource, {"Tags": [{"Key": "a", "Value": "b"}]}),
                            (self.ddb.untag_resource, {"TagKeys": ["a"]})):
            self.assertClientError("ResourceNotFoundException", call, ResourceArn=unknown,
                                   message="Requested resource not found", **extra)
            self.assertClientError("ValidationException", call, ResourceArn="not-an-arn",
                                   message="Invalid TableArn", **extra)

    def test_tags_persist_over_restart_and_go_with_the_table(self):
        name = tw.unique_name("tagrestart")
        self._tables_to_drop.append(name)
        tw.create_table(name)
        arn = table_arn(name)
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "me"}])
        tw.restart_managed_server()
        self.assertEqual(all_tags(arn)[0], {"owner": "me"})
        self.ddb.delete_table(TableName=name)
        tw.wait_for_table_gone(name)
        self.assertClientError("ResourceNotFoundException", self.ddb.list_tags_of_resource,
                               ResourceArn=arn)
        tw.create_table(name)
        self.assertEqual(all_tags(arn)[0], {})


def raw_call(operation, request):
    """An operation boto3 cannot send or read here (the Debian botocore predates
    DeletionProtectionEnabled): a signed raw request; (HTTP status, parsed body)."""
    status, _, body = tw.raw_request(operation, json.dumps(request).encode())
    return status, json.loads(body or b"{}")


class DeletionProtectionTest(tw.ConformanceTestCase):

    def assertRawError(self, expected_type, operation, request, message=None):
        status, body = raw_call(operation, request)
        self.assertEqual(status, 400, body)
        self.assertEqual(body["__type"].split("#")[-1], expected_type, body)
        if message is not None:
            self.assertEqual(body.get("message", body.get("Message")), message)

    def unprotect(self, name):
        status, body = raw_call("UpdateTable", {"TableName": name,
                                                "DeletionProtectionEnabled": False})
        self.assertEqual(status, 200, body)
        self.assertFalse(body["TableDescription"]["DeletionProtectionEnabled"])
        tw.wait_for_table_status(name)

    def test_protected_table_cannot_be_deleted(self):
        name = tw.unique_name("protected")
        self._tables_to_drop.append(name)
        status, body = raw_call("CreateTable", {
            "TableName": name, "KeySchema": KEY_SCHEMA, "AttributeDefinitions": ATTRIBUTES,
            "BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": True})
        self.assertEqual(status, 200, body)
        self.assertTrue(body["TableDescription"]["DeletionProtectionEnabled"])
        tw.wait_for_table_status(name)
        try:
            self.assertRawError(
                "ValidationException", "DeleteTable", {"TableName": name},
                message="Resource cannot be deleted as it is currently protected against "
                        "deletion. Disable deletion protection first.")
            _, described = raw_call("DescribeTable", {"TableName": name})
            self.assertTrue(described["Table"]["DeletionProtectionEnabled"])
        finally:
            self.unprotect(name)
        self.ddb.delete_table(TableName=name)

    def test_protection_turned_on_by_update_table(self):
        name = tw.unique_name("protectlater")
        self._tables_to_drop.append(name)
        tw.create_table(name)
        _, described = raw_call("DescribeTable", {"TableName": name})
        self.assertFalse(described["Table"]["DeletionProtectionEnabled"])
        status, body = raw_call("UpdateTable", {"TableName": name,
                                                "DeletionProtectionEnabled": True})
        self.assertEqual(status, 200, body)
        tw.wait_for_table_status(name)
        try:
            self.assertRawError("ValidationException", "DeleteTable", {"TableName": name})
        finally:
            self.unprotect(name)


class AccountTest(tw.ConformanceTestCase):

    def test_describe_limits(self):
        limits = self.ddb.describe_limits()
        for member in ("AccountMaxReadCapacityUnits", "AccountMaxWriteCapacityUnits",
                       "TableMaxReadCapacityUnits", "TableMaxWriteCapacityUnits"):
            self.assertGreater(limits[member], 0)
        self.assertGreaterEqual(limits["AccountMaxReadCapacityUnits"],
                                limits["TableMaxReadCapacityUnits"])
        if tw.managed_server() is not None:  # DynamoDB's default quotas
            self.assertEqual(limits["TableMaxReadCapacityUnits"], 40000)
            self.assertEqual(limits["AccountMaxWriteCapacityUnits"], 80000)

    def test_describe_endpoints_names_the_host_used(self):
        endpoints = self.ddb.describe_endpoints()["Endpoints"]
        self.assertEqual(len(endpoints), 1)
        self.assertEqual(endpoints[0]["CachePeriodInMinutes"], 1440)
        host, port = tw.endpoint_address()
        self.assertIn(endpoints[0]["Address"], (host, "%s:%d" % (host, port)))


class BillingModeTest(tw.ConformanceTestCase):

    def update(self, name, **kwargs):
        description = self.ddb.update_table(TableName=name, **kwargs)["TableDescription"]
        tw.wait_for_table_status(name)
        return description

    def test_switch_between_on_demand_and_provisioned(self):
        name = self.create_class_table("billing")
        self.assertClientError(
            "ValidationException", self.ddb.update_table, TableName=name,
            BillingMode="PROVISIONED",
            message="ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
        self.assertClientError("ValidationException", self.ddb.update_table, TableName=name,
                               ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                      "WriteCapacityUnits": 1})
        self.update(name, BillingMode="PROVISIONED",
                    ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
        table = self.ddb.describe_table(TableName=name)["Table"]
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PROVISIONED")
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 3)
        self.assertEqual(table["ProvisionedThroughput"]["WriteCapacityUnits"], 4)
        self.assertClientError("ValidationException", self.ddb.update_table, TableName=name,
                               BillingMode="PAY_PER_REQUEST",
                               ProvisionedThroughput={"ReadCapacityUnits": 3,
                                                      "WriteCapacityUnits": 4})
        self.update(name, BillingMode="PAY_PER_REQUEST")
        table = self.ddb.describe_table(TableName=name)["Table"]
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertIn("LastUpdateToPayPerRequestDateTime", table["BillingModeSummary"])
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 0)

    def test_throughput_changes_and_decrease_limit(self):
        name = tw.unique_name("decreases")
        self._tables_to_drop.append(name)
        self.ddb.create_table(TableName=name, KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTES,
                              ProvisionedThroughput={"ReadCapacityUnits": 5,
                                                     "WriteCapacityUnits": 5})
        tw.wait_for_table_status(name)
        self.assertClientError("ValidationException", self.ddb.update_table, TableName=name,
                               ProvisionedThroughput={"ReadCapacityUnits": 5,
                                                      "WriteCapacityUnits": 5},
                               message="The provisioned throughput for the table will not change")
        self.update(name, ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 5})
        throughput = self.ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
        self.assertIn("LastIncreaseDateTime", throughput)
        for read in (9, 8, 7, 6):
            self.update(name, ProvisionedThroughput={"ReadCapacityUnits": read,
                                                     "WriteCapacityUnits": 5})
        throughput = self.ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
        self.assertIn("LastDecreaseDateTime", throughput)
        if throughput["NumberOfDecreasesToday"] != 4:
            self.skipTest("the decreases straddled a UTC midnight")
        self.assertClientError(
            "LimitExceededException", self.ddb.update_table, TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            message="Provisioned throughput decreases are limited within a given UTC day")
        # Increases are not limited.
        self.update(name, ProvisionedThroughput={"ReadCapacityUnits": 6, "WriteCapacityUnits": 6})
