"""The AWS CLI works unchanged against the endpoint: tables, items, queries, streams."""

import json
import os
import subprocess
import time
import unittest

import tidewater_fixture as tw

AWS = "/usr/bin/aws"


@unittest.skipUnless(os.access(AWS, os.X_OK), "awscli is not installed at " + AWS)
class AwsCliTest(tw.ConformanceTestCase):

    def aws(self, service, *args, endpoint=None):
        env = dict(os.environ, AWS_PAGER="", AWS_DEFAULT_OUTPUT="json")
        command = [AWS, service, *args, "--endpoint-url", endpoint or tw.endpoint(),
                   "--region", tw.REGION, "--output", "json", "--no-cli-pager"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, "%s\nstdout: %s\nstderr: %s" %
                         (" ".join(command), result.stdout, result.stderr))
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def test_table_item_query_and_stream_records(self):
        name = tw.unique_name("cli")
        self._tables_to_drop.append(name)
        created = self.aws(
            "dynamodb", "create-table", "--table-name", name,
            "--attribute-definitions", "AttributeName=pk,AttributeType=S",
            "AttributeName=sk,AttributeType=N",
            "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
            "--billing-mode", "PAY_PER_REQUEST",
            "--stream-specification", "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES")
        self.assertEqual(created["TableDescription"]["TableName"], name)
        stream_arn = tw.wait_for_table_status(name)["LatestStreamArn"]

        for sk in ("1", "2", "3"):
            self.aws("dynamodb", "put-item", "--table-name", name, "--item",
                     json.dumps({"pk": {"S": "cli"}, "sk": {"N": sk}, "v": {"S": "v" + sk}}))

        result = self.aws("dynamodb", "query", "--table-name", name,
                          "--key-condition-expression", "pk = :p AND sk >= :two",
                          "--expression-attribute-values",
                          json.dumps({":p": {"S": "cli"}, ":two": {"N": "2"}}))
        self.assertEqual(result["Count"], 2)
        self.assertEqual([i["v"]["S"] for i in result["Items"]], ["v2", "v3"])

        streams_endpoint = tw.streams_endpoint()
        shards = self.aws("dynamodbstreams", "describe-stream", "--stream-arn", stream_arn,
                          endpoint=streams_endpoint)["StreamDescription"]["Shards"]
        records, deadline = [], time.monotonic() + tw.STATE_TIMEOUT
        while len(records) < 3 and time.monotonic() < deadline:
            records = []
            for shard in shards:
                iterator = self.aws("dynamodbstreams", "get-shard-iterator",
                                    "--stream-arn", stream_arn, "--shard-id", shard["ShardId"],
                                    "--shard-iterator-type", "TRIM_HORIZON",
                                    endpoint=streams_endpoint)["ShardIterator"]
                records += self.aws("dynamodbstreams", "get-records", "--shard-iterator",
                                    iterator, endpoint=streams_endpoint)["Records"]
        self.assertEqual(sorted((r["eventName"], r["dynamodb"]["NewImage"]["v"]["S"])
                                for r in records),
                         [("INSERT", "v1"), ("INSERT", "v2"), ("INSERT", "v3")])
        for record in records:
            self.assertEqual(record["eventSource"], "aws:dynamodb")
            self.assertEqual(record["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES")

    def test_global_secondary_index_and_its_table_stream(self):
        name = tw.unique_name("cligsi")
        self._tables_to_drop.append(name)
        self.aws(
            "dynamodb", "create-table", "--table-name", name,
            "--attribute-definitions", "AttributeName=pk,AttributeType=S",
            "AttributeName=owner_id,AttributeType=S", "AttributeName=created,AttributeType=N",
            "--key-schema", "AttributeName=pk,KeyType=HASH",
            "--global-secondary-indexes", json.dumps([{
                "IndexName": "by_owner",
                "KeySchema": [{"AttributeName": "owner_id", "KeyType": "HASH"},
                              {"AttributeName": "created", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}}]),
            "--billing-mode", "PAY_PER_REQUEST",
            "--stream-specification", "StreamEnabled=true,StreamViewType=NEW_IMAGE")
        described = tw.wait_for_table_status(name)
        self.assertEqual([(i["IndexName"], i["IndexStatus"])
                          for i in described["GlobalSecondaryIndexes"]], [("by_owner", "ACTIVE")])
        for n, owner in ((1, "ann"), (2, "bob"), (3, "ann")):
            self.aws("dynamodb", "put-item", "--table-name", name, "--item", json.dumps(
                {"pk": {"S": "doc%d" % n}, "owner_id": {"S": owner}, "created": {"N": str(n)},
                 "title": {"S": "t%d" % n}, "body": {"S": "not projected"}}))
        query = ("dynamodb", "query", "--table-name", name, "--index-name", "by_owner",
                 "--key-condition-expression", "owner_id = :o",
                 "--expression-attribute-values", json.dumps({":o": {"S": "ann"}}))
        result, deadline = {}, time.monotonic() + tw.STATE_TIMEOUT
        while result.get("Count") != 2 and time.monotonic() < deadline:
            result = self.aws(*query)
        self.assertEqual([(i["pk"]["S"], i["title"]["S"], "body" in i) for i in result["Items"]],
                         [("doc1", "t1", False), ("doc3", "t3", False)])
        # The table's stream shows its own three writes, never the index's.
        stream_arn = described["LatestStreamArn"]
        streams_endpoint = tw.streams_endpoint()
        records = []
        for shard in self.aws("dynamodbstreams", "describe-stream", "--stream-arn", stream_arn,
                              endpoint=streams_endpoint)["StreamDescription"]["Shards"]:
            iterator = self.aws("dynamodbstreams", "get-shard-iterator", "--stream-arn",
                                stream_arn, "--shard-id", shard["ShardId"],
                                "--shard-iterator-type", "TRIM_HORIZON",
                                endpoint=streams_endpoint)["ShardIterator"]
            records += self.aws("dynamodbstreams", "get-records", "--shard-iterator", iterator,
                                endpoint=streams_endpoint)["Records"]
        self.assertEqual(sorted(r["dynamodb"]["Keys"]["pk"]["S"] for r in records),
                         ["doc1", "doc2", "doc3"])

    def test_cli_reports_server_errors(self):
        env = dict(os.environ, AWS_PAGER="")
        result = subprocess.run(
            [AWS, "dynamodb", "describe-table", "--table-name", tw.unique_name("missing"),
             "--endpoint-url", tw.endpoint(), "--region", tw.REGION],
            env=env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("ResourceNotFoundException", result.stderr)


if __name__ == "__main__":
    unittest.main()
