"""Access policies (IAM-style identity policies) of a tidewaterd started with --auth required
--authorization policies: a table of allow and deny cases per principal (dynamodb:LeadingKeys
with ${aws:username}, attribute limits, explicit denies, wildcard actions and resources,
index and stream ARNs, batches and transactions with one forbidden item, ListTables on "*",
a principal without policies), the policies managed with `tidewater admin policy` and the
TidewaterAdmin API (a round trip, a deletion that takes effect at once, a restart, malformed
documents), and the audit lines of tidewaterd's log.

Runs against tidewaterd processes of its own: TIDEWATERD names the binary; the `tidewater` CLI
is TIDEWATER, else the one of the same build tree. The AccessDeniedException messages are
DynamoDB's (security/include/tidewater/security/policy.h, AccessDeniedError)."""

import json
import os
import re
import subprocess
import time
import unittest
import uuid

from botocore.exceptions import ClientError

import test_authentication as auth
import tidewater_fixture as tw

REGION = tw.REGION
ACCOUNT = "000000000000"
ADMIN_TARGET = "TidewaterAdmin_20261205."

# Principal -> (access key id, secret) of the --credentials-file.
KEYS = {
    "admin": ("TWAUTHZADMIN00000001", "authz-admin-secret-000000000000000000000000"),
    "alice": ("TWAUTHZALICE00000001", "authz-alice-secret-000000000000000000000000"),
    "bob": ("TWAUTHZBOB0000000001", "authz-bob-secret-00000000000000000000000000"),
    "carol": ("TWAUTHZCAROL00000001", "authz-carol-secret-000000000000000000000000"),
    "dave": ("TWAUTHZDAVE000000001", "authz-dave-secret-0000000000000000000000000"),
}

ADMIN_ALL = {"Version": "2012-10-17",
             "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "*",
                            "Resource": "*"}]}

ALLOWED = "allowed"


def table_arn(name):
    return "arn:aws:dynamodb:%s:%s:table/%s" % (REGION, ACCOUNT, name)


def denied_message(principal, action, resource, explicit=False):
    message = ("User: arn:aws:iam::%s:user/%s is not authorized to perform: %s on resource: %s"
               % (ACCOUNT, principal, action, resource))
    if explicit:
        return message + " with an explicit deny in an identity-based policy"
    return message + " because no identity-based policy allows the %s action" % action


def credentials_file_text():
    return "credentials:\n" + "".join(
        "  - access_key_id: %s\n    secret_access_key: %s\n    principal: %s\n"
        % (key, secret, principal) for principal, (key, secret) in KEYS.items())


def admin_call(endpoint, principal, operation, body):
    """A TidewaterAdmin call signed with `principal`'s keys: (status, answer)."""
    key, secret = KEYS[principal]
    data = json.dumps(body).encode()
    headers = auth.signed(endpoint, "POST", "/", data, key, secret, auth.amz_date(),
                          target=ADMIN_TARGET + operation)
    return auth.http_post(endpoint, headers, data)


def start_policy_server(test_class, name, *extra):
    """A tidewaterd with every principal of KEYS and admin's policy in a --policy-file."""
    workdir = test_class.make_workdir(name)
    credentials = os.path.join(workdir, "credentials.yaml")
    with open(credentials, "w") as f:
        f.write(credentials_file_text())
    policy_file = os.path.join(workdir, "policies.json")
    with open(policy_file, "w") as f:
        json.dump({"principals": {"admin": {"AdminAll": ADMIN_ALL}}}, f)
    server = auth.Server(workdir, "--auth", "required", "--credentials-file", credentials,
                         "--authorization", "policies", "--policy-file", policy_file, *extra)
    test_class.addClassCleanup(server.stop)
    return server, workdir


@unittest.skipUnless(os.environ.get("TIDEWATERD"), "set TIDEWATERD (the tidewaterd binary)")
class PolicyEnforcementTest(auth._WorkdirTestCase):
    """One tidewaterd with policies for alice (her own items of the notes table, put with the
    CLI) and bob (some attributes of notes; the catalog table by wildcards, one index, its
    stream; ListTables), none for carol and dave."""

    @classmethod
    def setUpClass(cls):
        cls.server, cls.workdir = start_policy_server(cls, "policies")
        cls.endpoint = cls.server.endpoint
        cls.clients = {}
        for principal, (key, secret) in KEYS.items():
            for service in ("dynamodb", "dynamodbstreams"):
                client = auth.make_client(service, cls.endpoint, key, secret)
                cls.addClassCleanup(client.close)
                cls.clients[principal, service] = client
        cls.admin = cls.clients["admin", "dynamodb"]

        prefix = "authz_%s_" % uuid.uuid4().hex[:8]
        cls.notes = prefix + "notes"
        cls.catalog = prefix + "catalog"
        cls.notes_arn = table_arn(cls.notes)
        cls.catalog_arn = table_arn(cls.catalog)
        stream = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
        cls.admin.create_table(
            TableName=cls.notes, BillingMode="PAY_PER_REQUEST", StreamSpecification=stream,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"}])
        cls.admin.create_table(
            TableName=cls.catalog, BillingMode="PAY_PER_REQUEST", StreamSpecification=stream,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "color", "AttributeType": "S"},
                                  {"AttributeName": "price", "AttributeType": "N"}],
            GlobalSecondaryIndexes=[
                {"IndexName": name, "Projection": {"ProjectionType": "ALL"},
                 "KeySchema": [{"AttributeName": attribute, "KeyType": "HASH"}]}
                for name, attribute in (("ByColor", "color"), ("ByPrice", "price"))])
        for table in (cls.notes, cls.catalog):
            cls.admin.get_waiter("table_exists").wait(
                TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})

        for owner in ("alice", "bob"):
            for sort_key in (1, 9, 50):
                cls.admin.put_item(TableName=cls.notes, Item={
                    "pk": {"S": owner}, "sk": {"N": str(sort_key)},
                    "title": {"S": "%s-%d" % (owner, sort_key)}, "secret": {"S": "hidden"}})
        for key, color, price in (("widget", "red", "3"), ("secret", "black", "9")):
            cls.admin.put_item(TableName=cls.catalog, Item={
                "pk": {"S": key}, "color": {"S": color}, "price": {"N": price}})

        admin_streams = cls.clients["admin", "dynamodbstreams"]
        cls.stream_arns, cls.shard_ids = {}, {}
        for table in (cls.notes, cls.catalog):
            arn = admin_streams.list_streams(TableName=table)["Streams"][0]["StreamArn"]
            shard = admin_streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
            cls.stream_arns[table] = arn
            cls.shard_ids[table] = shard["ShardId"]

        cls.alice_policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "OwnItems", "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                       "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchGetItem",
                       "dynamodb:BatchWriteItem"],
            "Resource": cls.notes_arn,
            "Condition": {"ForAllValues:StringEquals":
                          {"dynamodb:LeadingKeys": ["${aws:username}"]}}}]}
        document_file = os.path.join(cls.workdir, "alice.json")
        with open(document_file, "w") as f:
            json.dump(cls.alice_policy, f, indent=2)
        cls.run_cli("put", "--principal", "alice", "--name", "OwnItems",
                    "--document-file", document_file)

        bob_notes = {"Version": "2012-10-17", "Statement": [{
            "Sid": "SomeAttributes", "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
            "Resource": cls.notes_arn,
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "title"]},
                "Null": {"dynamodb:Attributes": "false"},
                "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}}}]}
        bob_catalog = {"Version": "2012-10-17", "Statement": [
            {"Sid": "ReadCatalog", "Effect": "Allow", "Action": "dynamodb:Get*",
             "Resource": cls.catalog_arn},
            {"Sid": "NoSecrets", "Effect": "Deny", "Action": "dynamodb:GetItem",
             "Resource": cls.catalog_arn,
             "Condition": {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": "secret"}}},
            {"Sid": "ColorIndex", "Effect": "Allow", "Action": "dynamodb:Query",
             "Resource": cls.catalog_arn + "/index/ByColor"},
            {"Sid": "ScanByPrefix", "Effect": "Allow", "Action": "dynamodb:Scan",
             "Resource": "arn:aws:dynamodb:*:*:table/%scat*" % prefix},
            {"Sid": "CatalogStream", "Effect": "Allow",
             "Action": ["dynamodb:DescribeStream", "dynamodb:GetShardIterator",
                        "dynamodb:GetRecords"],
             "Resource": cls.catalog_arn + "/stream/*"},
            {"Sid": "List", "Effect": "Allow", "Action": "dynamodb:ListTables",
             "Resource": "*"}]}
        for name, document in (("Notes", bob_notes), ("Catalog", bob_catalog)):
            status, answer = cls.put_policy("bob", name, document)
            assert status == 200, answer

    @classmethod
    def run_cli(cls, *args, principal="admin", expect_exit=0):
        key, secret = KEYS[principal]
        command = [auth._tidewater_cli(), "admin", "policy", *args, "--endpoint", cls.endpoint]
        result = subprocess.run(command, env=auth.client_environment(cls.workdir, key, secret),
                                capture_output=True, text=True, timeout=60)
        if result.returncode != expect_exit:
            raise AssertionError("%s exited with %d, not %d\nstdout: %s\nstderr: %s" % (
                " ".join(command), result.returncode, expect_exit, result.stdout,
                result.stderr))
        return result

    @classmethod
    def put_policy(cls, principal, name, document, caller="admin"):
        return admin_call(cls.endpoint, caller, "PutPolicy",
                          {"Principal": principal, "PolicyName": name,
                           "PolicyDocument": json.dumps(document)})

    def notes_item(self, owner, sort_key):
        """The notes item, read by admin; None when absent."""
        return self.admin.get_item(TableName=self.notes, ConsistentRead=True, Key={
            "pk": {"S": owner}, "sk": {"N": str(sort_key)}}).get("Item")

    def notes_key(self, owner, sort_key):
        return {"pk": {"S": owner}, "sk": {"N": str(sort_key)}}

    def put_request(self, owner, sort_key, **attributes):
        item = self.notes_key(owner, sort_key)
        item.update({name: {"S": value} for name, value in attributes.items()})
        return {"PutRequest": {"Item": item}}

    def iterator(self, table):
        """A TRIM_HORIZON iterator of the table's first shard, got by admin."""
        return self.clients["admin", "dynamodbstreams"].get_shard_iterator(
            StreamArn=self.stream_arns[table], ShardId=self.shard_ids[table],
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def call(self, principal, service, operation, request):
        """None when the call succeeded, else (error code, message)."""
        if service == "admin":
            status, answer = admin_call(self.endpoint, principal, operation, request)
            if status == 200:
                return None
            return answer.get("__type", "").rpartition("#")[2], answer.get("message", "")
        try:
            getattr(self.clients[principal, service], operation)(**request)
            return None
        except ClientError as error:
            return error.response["Error"]["Code"], error.response["Error"]["Message"]

    # --- The table of cases ---------------------------------------------------------------

    def cases(self):
        """(what, principal, service, operation, request, expected, (owner, sort key, whether
        that notes item exists afterwards) or None). `expected` is ALLOWED or the
        AccessDeniedException's (action, resource, explicit deny)."""
        notes, catalog = self.notes, self.catalog
        notes_arn, catalog_arn = self.notes_arn, self.catalog_arn
        key = self.notes_key
        query_own = {"KeyConditionExpression": "pk = :p"}

        def query(owner, **kwargs):
            return dict(TableName=notes, ExpressionAttributeValues={":p": {"S": owner}},
                        **query_own, **kwargs)

        def denied(action, resource, explicit=False):
            return ("dynamodb:" + action, resource, explicit)

        notes_stream = self.stream_arns[notes]
        catalog_stream = self.stream_arns[catalog]
        return [
            # alice: her own items only (LeadingKeys = ${aws:username}).
            ("GetItem of her item", "alice", "dynamodb", "get_item",
             dict(TableName=notes, Key=key("alice", 1)), ALLOWED, None),
            ("GetItem of bob's item", "alice", "dynamodb", "get_item",
             dict(TableName=notes, Key=key("bob", 1)), denied("GetItem", notes_arn), None),
            ("PutItem of her item", "alice", "dynamodb", "put_item",
             dict(TableName=notes, Item=dict(key("alice", 2), title={"S": "t"})), ALLOWED,
             ("alice", 2, True)),
            ("PutItem of bob's item", "alice", "dynamodb", "put_item",
             dict(TableName=notes, Item=dict(key("bob", 2), title={"S": "t"})),
             denied("PutItem", notes_arn), ("bob", 2, False)),
            ("UpdateItem of her item", "alice", "dynamodb", "update_item",
             dict(TableName=notes, Key=key("alice", 3), UpdateExpression="SET title = :t",
                  ExpressionAttributeValues={":t": {"S": "new"}}), ALLOWED, ("alice", 3, True)),
            ("UpdateItem of bob's item", "alice", "dynamodb", "update_item",
             dict(TableName=notes, Key=key("bob", 3), UpdateExpression="SET title = :t",
                  ExpressionAttributeValues={":t": {"S": "new"}}),
             denied("UpdateItem", notes_arn), ("bob", 3, False)),
            ("DeleteItem of her item", "alice", "dynamodb", "delete_item",
             dict(TableName=notes, Key=key("alice", 9)), ALLOWED, ("alice", 9, False)),
            ("DeleteItem of bob's item", "alice", "dynamodb", "delete_item",
             dict(TableName=notes, Key=key("bob", 9)), denied("DeleteItem", notes_arn),
             ("bob", 9, True)),
            ("Query of her partition", "alice", "dynamodb", "query", query("alice"), ALLOWED,
             None),
            ("Query of bob's partition", "alice", "dynamodb", "query", query("bob"),
             denied("Query", notes_arn), None),
            ("Scan (no statement allows it)", "alice", "dynamodb", "scan",
             dict(TableName=notes), denied("Scan", notes_arn), None),
            ("GetItem of another table", "alice", "dynamodb", "get_item",
             dict(TableName=catalog, Key={"pk": {"S": "alice"}}),
             denied("GetItem", catalog_arn), None),
            ("BatchGetItem of her items", "alice", "dynamodb", "batch_get_item",
             dict(RequestItems={notes: {"Keys": [key("alice", 1), key("alice", 50)]}}),
             ALLOWED, None),
            ("BatchGetItem with one of bob's items", "alice", "dynamodb", "batch_get_item",
             dict(RequestItems={notes: {"Keys": [key("alice", 1), key("bob", 1)]}}),
             denied("BatchGetItem", notes_arn), None),
            ("BatchWriteItem of her items", "alice", "dynamodb", "batch_write_item",
             dict(RequestItems={notes: [self.put_request("alice", 20, title="x"),
                                        self.put_request("alice", 21, title="x")]}),
             ALLOWED, ("alice", 21, True)),
            ("BatchWriteItem with one of bob's items", "alice", "dynamodb", "batch_write_item",
             dict(RequestItems={notes: [self.put_request("alice", 22, title="x"),
                                        self.put_request("bob", 22, title="x")]}),
             denied("BatchWriteItem", notes_arn), ("alice", 22, False)),
            ("TransactWriteItems of her items", "alice", "dynamodb", "transact_write_items",
             dict(TransactItems=[
                 {"Put": {"TableName": notes, "Item": dict(key("alice", 30), title={"S": "x"})}},
                 {"Update": {"TableName": notes, "Key": key("alice", 1),
                             "UpdateExpression": "SET title = :t",
                             "ExpressionAttributeValues": {":t": {"S": "y"}}}}]),
             ALLOWED, ("alice", 30, True)),
            ("TransactWriteItems with an action she may not do", "alice", "dynamodb",
             "transact_write_items",
             dict(TransactItems=[
                 {"Put": {"TableName": notes, "Item": dict(key("alice", 31), title={"S": "x"})}},
                 {"ConditionCheck": {"TableName": notes, "Key": key("alice", 1),
                                     "ConditionExpression": "attribute_exists(pk)"}}]),
             denied("ConditionCheckItem", notes_arn), ("alice", 31, False)),
            ("TransactWriteItems deleting bob's item", "alice", "dynamodb",
             "transact_write_items",
             dict(TransactItems=[
                 {"Put": {"TableName": notes, "Item": dict(key("alice", 32), title={"S": "x"})}},
                 {"Delete": {"TableName": notes, "Key": key("bob", 50)}}]),
             denied("DeleteItem", notes_arn), ("alice", 32, False)),
            ("ListTables (no statement on *)", "alice", "dynamodb", "list_tables", {},
             denied("ListTables", "*"), None),
            ("PutPolicy (not an admin)", "alice", "admin", "PutPolicy",
             {"Principal": "alice", "PolicyName": "Mine", "PolicyDocument": json.dumps(ADMIN_ALL)},
             ("tidewater:PutPolicy", "*", False), None),

            # bob on notes: the attributes pk, sk and title only, and never a whole item.
            ("GetItem projecting allowed attributes", "bob", "dynamodb", "get_item",
             dict(TableName=notes, Key=key("bob", 1), ProjectionExpression="pk, title"),
             ALLOWED, None),
            ("GetItem of the whole item", "bob", "dynamodb", "get_item",
             dict(TableName=notes, Key=key("bob", 1)), denied("GetItem", notes_arn), None),
            ("GetItem projecting a forbidden attribute", "bob", "dynamodb", "get_item",
             dict(TableName=notes, Key=key("bob", 1), ProjectionExpression="title, secret"),
             denied("GetItem", notes_arn), None),
            ("Query of SPECIFIC_ATTRIBUTES", "bob", "dynamodb", "query",
             query("bob", Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="sk, title"),
             ALLOWED, None),
            ("Query of whole items", "bob", "dynamodb", "query", query("bob"),
             denied("Query", notes_arn), None),
            ("Query with Select ALL_ATTRIBUTES", "bob", "dynamodb", "query",
             query("bob", Select="ALL_ATTRIBUTES"), denied("Query", notes_arn), None),
            ("PutItem of allowed attributes", "bob", "dynamodb", "put_item",
             dict(TableName=notes, Item=dict(key("bob", 40), title={"S": "t"})), ALLOWED,
             ("bob", 40, True)),
            ("PutItem with a forbidden attribute", "bob", "dynamodb", "put_item",
             dict(TableName=notes, Item=dict(key("bob", 41), title={"S": "t"},
                                             secret={"S": "s"})),
             denied("PutItem", notes_arn), ("bob", 41, False)),

            # bob on catalog: wildcard actions and resources, an explicit deny, an index, the
            # stream.
            ("GetItem by dynamodb:Get*", "bob", "dynamodb", "get_item",
             dict(TableName=catalog, Key={"pk": {"S": "widget"}}), ALLOWED, None),
            ("PutItem (not a Get*)", "bob", "dynamodb", "put_item",
             dict(TableName=catalog, Item={"pk": {"S": "new"}}), denied("PutItem", catalog_arn),
             None),
            ("GetItem explicitly denied", "bob", "dynamodb", "get_item",
             dict(TableName=catalog, Key={"pk": {"S": "secret"}}),
             denied("GetItem", catalog_arn, explicit=True), None),
            ("Query of the allowed index", "bob", "dynamodb", "query",
             dict(TableName=catalog, IndexName="ByColor", KeyConditionExpression="color = :c",
                  ExpressionAttributeValues={":c": {"S": "red"}}), ALLOWED, None),
            ("Query of another index", "bob", "dynamodb", "query",
             dict(TableName=catalog, IndexName="ByPrice", KeyConditionExpression="price = :p",
                  ExpressionAttributeValues={":p": {"N": "3"}}),
             denied("Query", catalog_arn + "/index/ByPrice"), None),
            ("Query of the table (only its index is allowed)", "bob", "dynamodb", "query",
             dict(TableName=catalog, KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "widget"}}),
             denied("Query", catalog_arn), None),
            ("Scan by a resource wildcard", "bob", "dynamodb", "scan",
             dict(TableName=catalog), ALLOWED, None),
            ("Scan of an index by the same wildcard", "bob", "dynamodb", "scan",
             dict(TableName=catalog, IndexName="ByPrice"), ALLOWED, None),
            ("Scan of a table the wildcard does not match", "bob", "dynamodb", "scan",
             dict(TableName=notes), denied("Scan", notes_arn), None),
            ("DescribeStream of the allowed stream", "bob", "dynamodbstreams", "describe_stream",
             dict(StreamArn=catalog_stream), ALLOWED, None),
            ("GetShardIterator of the allowed stream", "bob", "dynamodbstreams",
             "get_shard_iterator",
             dict(StreamArn=catalog_stream, ShardId=self.shard_ids[catalog],
                  ShardIteratorType="TRIM_HORIZON"), ALLOWED, None),
            ("GetRecords of the allowed stream", "bob", "dynamodbstreams", "get_records",
             dict(ShardIterator=self.iterator(catalog)), ALLOWED, None),
            ("DescribeStream of another stream", "bob", "dynamodbstreams", "describe_stream",
             dict(StreamArn=notes_stream), denied("DescribeStream", notes_stream), None),
            ("GetRecords of another stream", "bob", "dynamodbstreams", "get_records",
             dict(ShardIterator=self.iterator(notes)), denied("GetRecords", notes_stream),
             None),
            ("ListStreams (no statement on *)", "bob", "dynamodbstreams", "list_streams", {},
             denied("ListStreams", "*"), None),
            ("ListTables on *", "bob", "dynamodb", "list_tables", {}, ALLOWED, None),
            ("ListPolicies (not an admin)", "bob", "admin", "ListPolicies", {},
             ("tidewater:ListPolicies", "*", False), None),

            # carol has no policy: nothing is allowed.
            ("ListTables without a policy", "carol", "dynamodb", "list_tables", {},
             denied("ListTables", "*"), None),
            ("GetItem without a policy", "carol", "dynamodb", "get_item",
             dict(TableName=notes, Key=key("carol", 1)), denied("GetItem", notes_arn), None),
            ("PutItem without a policy", "carol", "dynamodb", "put_item",
             dict(TableName=notes, Item=key("carol", 1)), denied("PutItem", notes_arn),
             ("carol", 1, False)),
            ("DescribeTable without a policy", "carol", "dynamodb", "describe_table",
             dict(TableName=notes), denied("DescribeTable", notes_arn), None),
            ("ListPolicies without a policy", "carol", "admin", "ListPolicies", {},
             ("tidewater:ListPolicies", "*", False), None),

            # admin: Allow * on * from the --policy-file.
            ("admin's Scan", "admin", "dynamodb", "scan", dict(TableName=notes), ALLOWED, None),
            ("admin's ListPolicies", "admin", "admin", "ListPolicies", {}, ALLOWED, None),
        ]

    def test_access_cases(self):
        for what, principal, service, operation, request, expected, item_after in self.cases():
            with self.subTest(what, principal=principal, operation=operation):
                error = self.call(principal, service, operation, request)
                if expected == ALLOWED:
                    self.assertIsNone(error)
                else:
                    action, resource, explicit = expected
                    self.assertEqual(error, ("AccessDeniedException", denied_message(
                        principal, action, resource, explicit)))
                if item_after is not None:
                    owner, sort_key, exists = item_after
                    self.assertEqual(self.notes_item(owner, sort_key) is not None, exists)

    # --- Managing policies ------------------------------------------------------------------

    def test_policy_round_trip_and_deletion_takes_effect_at_once(self):
        deny_deletes = {"Version": "2012-10-17", "Statement": [
            {"Sid": "KeepNotes", "Effect": "Deny", "Action": "dynamodb:DeleteItem",
             "Resource": self.notes_arn}]}
        key = self.notes_key("alice", 60)
        self.admin.put_item(TableName=self.notes, Item=key)
        self.run_cli("put", "--principal", "alice", "--name", "NoDeletes", "--document",
                     json.dumps(deny_deletes))
        self.addCleanup(admin_call, self.endpoint, "admin", "DeletePolicy",
                        {"Principal": "alice", "PolicyName": "NoDeletes"})

        shown = self.run_cli("get", "--principal", "alice", "--name", "NoDeletes").stdout
        self.assertEqual(json.loads(shown), deny_deletes)
        self.assertGreater(len(shown.splitlines()), 3)  # indented
        compact = self.run_cli("get", "--principal", "alice", "--name", "NoDeletes",
                               "--compact").stdout
        self.assertEqual(compact, json.dumps(deny_deletes, separators=(",", ":")) + "\n")
        status, answer = admin_call(self.endpoint, "admin", "GetPolicy",
                                    {"Principal": "alice", "PolicyName": "NoDeletes"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["Principal"], "alice")
        self.assertEqual(answer["PolicyName"], "NoDeletes")
        self.assertEqual(json.loads(answer["PolicyDocument"]), deny_deletes)

        rows = [line.split() for line in
                self.run_cli("list", "--principal", "alice").stdout.splitlines()]
        self.assertEqual(rows, [["PRINCIPAL", "NAME", "SOURCE"], ["alice", "NoDeletes", "store"],
                                ["alice", "OwnItems", "store"]])
        every = json.loads(self.run_cli("list", "--json").stdout)["Policies"]
        self.assertIn({"Principal": "admin", "PolicyName": "AdminAll", "Source": "file"}, every)
        self.assertIn({"Principal": "bob", "PolicyName": "Catalog", "Source": "store"}, every)

        # The explicit deny beats OwnItems' Allow ...
        self.assertEqual(self.call("alice", "dynamodb", "delete_item",
                                   dict(TableName=self.notes, Key=key)),
                         ("AccessDeniedException", denied_message(
                             "alice", "dynamodb:DeleteItem", self.notes_arn, explicit=True)))
        self.assertIsNotNone(self.notes_item("alice", 60))
        # ... until it is deleted: the next request goes without it.
        self.run_cli("delete", "--principal", "alice", "--name", "NoDeletes")
        self.assertIsNone(self.call("alice", "dynamodb", "delete_item",
                                    dict(TableName=self.notes, Key=key)))
        self.assertIsNone(self.notes_item("alice", 60))

        gone = self.run_cli("get", "--principal", "alice", "--name", "NoDeletes", expect_exit=1)
        self.assertIn("ResourceNotFoundException", gone.stderr)
        self.assertIn("The user policy with name NoDeletes cannot be found.", gone.stderr)
        self.run_cli("delete", "--principal", "alice", "--name", "NoDeletes", expect_exit=1)
        rows = self.run_cli("list", "--principal", "alice").stdout.splitlines()
        self.assertEqual(len(rows), 2, rows)

    def test_policies_survive_a_restart(self):
        listing = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}]}
        self.assertEqual(self.call("dave", "dynamodb", "list_tables", {})[0],
                         "AccessDeniedException")
        status, answer = self.put_policy("dave", "Listing", listing)
        self.assertEqual(status, 200, answer)
        self.assertIsNone(self.call("dave", "dynamodb", "list_tables", {}))

        self.server.restart()
        self.assertIsNone(self.call("dave", "dynamodb", "list_tables", {}))
        self.assertIsNone(self.call("alice", "dynamodb", "get_item",
                                    dict(TableName=self.notes, Key=self.notes_key("alice", 1))))
        status, answer = admin_call(self.endpoint, "admin", "ListPolicies", {"Principal": "dave"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["Policies"],
                         [{"Principal": "dave", "PolicyName": "Listing", "Source": "store"}])

        status, answer = admin_call(self.endpoint, "admin", "DeletePolicy",
                                    {"Principal": "dave", "PolicyName": "Listing"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.call("dave", "dynamodb", "list_tables", {})[0],
                         "AccessDeniedException")

    def test_malformed_policies_are_refused(self):
        malformed = {"Version": "2012-10-17",
                     "Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}
        status, answer = self.put_policy("carol", "Broken", malformed)
        self.assertEqual(status, 400, answer)
        self.assertTrue(answer["__type"].endswith("#ValidationException"), answer)
        self.assertTrue(answer["message"].startswith("Malformed policy document: "), answer)
        status, answer = admin_call(self.endpoint, "admin", "PutPolicy",
                                    {"Principal": "carol", "PolicyName": "NotJson",
                                     "PolicyDocument": "{\"Statement\": ["})
        self.assertEqual(status, 400, answer)
        self.assertTrue(answer["__type"].endswith("#ValidationException"), answer)
        status, answer = self.put_policy("carol", "no spaces allowed", ADMIN_ALL)
        self.assertEqual(status, 400, answer)
        self.assertTrue(answer["__type"].endswith("#ValidationException"), answer)
        status, answer = admin_call(self.endpoint, "admin", "ListPolicies", {"Principal": "carol"})
        self.assertEqual((status, answer), (200, {"Policies": []}))
        self.assertEqual(self.call("carol", "dynamodb", "list_tables", {})[0],
                         "AccessDeniedException")

        # The CLI checks the document before sending it (exit status 2, nothing sent).
        refused = self.run_cli("put", "--principal", "carol", "--name", "Broken", "--document",
                               json.dumps(malformed), expect_exit=2)
        self.assertIn('Malformed policy document: Statement[0]: Effect must be "Allow" or "Deny"',
                      refused.stderr)
        unreadable = self.run_cli("put", "--principal", "carol", "--name", "Broken",
                                  "--document-file", os.path.join(self.workdir, "missing.json"),
                                  expect_exit=2)
        self.assertIn("cannot read", unreadable.stderr)
        self.assertEqual(self.run_cli("list", "--principal", "carol").stdout.split(),
                         ["PRINCIPAL", "NAME", "SOURCE"])

    def test_policies_of_the_policy_file_are_not_changed_by_the_api(self):
        status, answer = admin_call(self.endpoint, "admin", "DeletePolicy",
                                    {"Principal": "admin", "PolicyName": "AdminAll"})
        self.assertEqual(status, 400, answer)
        self.assertTrue(answer["__type"].endswith("#ValidationException"), answer)
        self.assertIn("--policy-file", answer["message"])
        self.assertIsNone(self.call("admin", "dynamodb", "list_tables", {}))

    # --- The audit log ----------------------------------------------------------------------

    def wait_for_log(self, pattern, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.server.log(), re.MULTILINE)
            if match or time.monotonic() > deadline:
                return match
            time.sleep(0.05)

    def test_a_denial_leaves_an_audit_line_and_an_allowed_request_none(self):
        owner = "audit%s" % uuid.uuid4().hex[:6]
        self.assertEqual(self.call("carol", "dynamodb", "get_item",
                                   dict(TableName=self.notes, Key=self.notes_key(owner, 1)))[0],
                         "AccessDeniedException")
        line = self.wait_for_log(
            r'^.*event=access_denied principal=carol action=dynamodb:GetItem resource=%s '
            r'reason="implicit deny".*$' % re.escape(self.notes_arn))
        self.assertIsNotNone(line, self.server.log()[-3000:])

        self.assertEqual(self.call("bob", "dynamodb", "get_item",
                                   dict(TableName=self.catalog, Key={"pk": {"S": "secret"}}))[0],
                         "AccessDeniedException")
        line = self.wait_for_log(
            r'^.*event=access_denied principal=bob action=dynamodb:GetItem resource=%s '
            r'reason="explicit deny by policy Catalog statement 1 \(NoSecrets\)".*$'
            % re.escape(self.catalog_arn))
        self.assertIsNotNone(line, self.server.log()[-3000:])

        self.assertIsNone(self.call("bob", "dynamodb", "get_item",
                                    dict(TableName=self.catalog, Key={"pk": {"S": "widget"}})))
        self.assertIsNone(self.call("bob", "dynamodb", "list_tables", {}))
        time.sleep(0.3)
        log = self.server.log()
        self.assertNotIn("event=access_allowed", log)
        self.assertNotIn("principal=bob action=dynamodb:ListTables", log)


@unittest.skipUnless(os.environ.get("TIDEWATERD"), "set TIDEWATERD (the tidewaterd binary)")
class AuditAllowedTest(auth._WorkdirTestCase):
    """--audit-allowed: allowed requests leave a line too."""

    @classmethod
    def setUpClass(cls):
        cls.server, cls.workdir = start_policy_server(cls, "audit-allowed", "--audit-allowed")

    def test_allowed_request_is_logged(self):
        client = auth.make_client("dynamodb", self.server.endpoint, *KEYS["admin"])
        self.addCleanup(client.close)
        self.assertIn("TableNames", client.list_tables())
        carol = auth.make_client("dynamodb", self.server.endpoint, *KEYS["carol"])
        self.addCleanup(carol.close)
        with self.assertRaises(ClientError) as denied:
            carol.list_tables()
        self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDeniedException")
        pattern = (r'event=access_allowed principal=admin action=dynamodb:ListTables resource=\* '
                   r'reason="allowed by policy AdminAll statement 0 \(Everything\)"')
        deadline = time.monotonic() + 5
        while not re.search(pattern, self.server.log()) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertRegex(self.server.log(), pattern)
        self.assertRegex(self.server.log(),
                         r'event=access_denied principal=carol action=dynamodb:ListTables '
                         r'resource=\* reason="implicit deny"')


if __name__ == "__main__":
    unittest.main()
