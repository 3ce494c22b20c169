"""Streams over a table's whole life, read through boto3's dynamodbstreams client: a
stream disabled (turned off and on again, or its table deleted) stays readable as
DISABLED, every shard closed with an EndingSequenceNumber, listed beside the newer
streams; a table created again under the name continues the sequence numbers; TTL
deletes carry the service's userIdentity under the API model's names.

The 24-hour expiry of a disabled stream is driven by a manual clock in the C++ tests
(tests/core/stream_history_test.cc, tests/server/server_api_test.cc): tidewaterd has no
way to move its clock from outside."""

import os
import signal
import time
import unittest

import tidewater_fixture as tw
from test_streams import StreamReader, item, key


def latest_stream_arn(table):
    return tw.dynamodb().describe_table(TableName=table)["Table"]["LatestStreamArn"]


def listed_arns(**request):
    arns = []
    while True:
        page = tw.streams().list_streams(**request)
        arns += [stream["StreamArn"] for stream in page["Streams"]]
        if "LastEvaluatedStreamArn" not in page:
            return arns
        request["ExclusiveStartStreamArn"] = page["LastEvaluatedStreamArn"]


def sequences_by_key(records):
    return {r["dynamodb"]["Keys"]["pk"]["S"]: int(r["dynamodb"]["SequenceNumber"])
            for _, r in records}


class StreamHistoryTest(tw.ConformanceTestCase):

    def new_table(self, name):
        tw.create_table(name, stream_view_type="NEW_AND_OLD_IMAGES")
        self.addCleanup(tw.delete_table_quietly, name)
        return latest_stream_arn(name)

    def assert_disabled_with_every_shard_ended(self, arn):
        description = tw.streams().describe_stream(StreamArn=arn)["StreamDescription"]
        self.assertEqual(description["StreamStatus"], "DISABLED")
        self.assertTrue(description["Shards"])
        for shard in description["Shards"]:
            self.assertIn("EndingSequenceNumber", shard["SequenceNumberRange"], shard)

    def read_keys(self, arn, count):
        records = StreamReader(arn).read(count)
        return sorted(r["dynamodb"]["Keys"]["pk"]["S"] for _, r in records), records

    def test_stream_turned_off_and_on_stays_readable(self):
        name = tw.unique_name("hist_reenable")
        first = self.new_table(name)
        tw.dynamodb().put_item(TableName=name, Item=item("k1", a="1"))
        tw.dynamodb().update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
        tw.wait_for_table_status(name)
        tw.dynamodb().update_table(TableName=name, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        tw.wait_for_table_status(name)
        second = latest_stream_arn(name)
        self.assertNotEqual(first, second)
        tw.dynamodb().put_item(TableName=name, Item=item("k2", a="2"))

        self.assert_disabled_with_every_shard_ended(first)
        self.assertEqual(self.read_keys(first, 1)[0], ["k1"])
        self.assertEqual(self.read_keys(second, 1)[0], ["k2"])
        self.assertEqual(
            tw.streams().describe_stream(StreamArn=second)["StreamDescription"]["StreamStatus"],
            "ENABLED")
        self.assertLessEqual({first, second}, set(listed_arns(TableName=name)))
        self.assertLessEqual({first, second}, set(listed_arns()))

    def test_deleted_tables_stream_stays_readable_also_after_a_crash(self):
        name = tw.unique_name("hist_delete")
        first = self.new_table(name)
        tw.dynamodb().put_item(TableName=name, Item=item("k1", a="1"))
        tw.dynamodb().put_item(TableName=name, Item=item("k2", a="1"))
        tw.dynamodb().delete_table(TableName=name)
        tw.wait_for_table_gone(name)
        self.assert_disabled_with_every_shard_ended(first)
        keys, old_records = self.read_keys(first, 2)
        self.assertEqual(keys, ["k1", "k2"])

        second = self.new_table(name)
        self.assertNotEqual(first, second)
        tw.dynamodb().put_item(TableName=name, Item=item("k1", a="2"))

        server = tw.managed_server()
        if server is not None:  # kill -9 and restart on the same data directory
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
            server.restart_after_crash()

        self.assert_disabled_with_every_shard_ended(first)
        self.assertEqual(self.read_keys(first, 2)[0], ["k1", "k2"])
        keys, new_records = self.read_keys(second, 1)
        self.assertEqual(keys, ["k1"])
        # Sequence numbers go on: a reader deduplicating by sequence keeps the new record.
        self.assertGreater(sequences_by_key(new_records)["k1"],
                           max(sequences_by_key(old_records).values()))
        self.assertLessEqual({first, second}, set(listed_arns(TableName=name)))
        self.assertLessEqual({first, second}, set(listed_arns()))

    def test_ttl_deletes_carry_the_service_identity(self):
        if tw.managed_server() is None:
            self.skipTest("TTL deletes take up to days on a remote endpoint")
        name = tw.unique_name("hist_ttl")
        arn = self.new_table(name)
        tw.dynamodb().update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires"})
        expired = dict(item("gone"), expires={"N": str(int(time.time()) - 60)})
        tw.dynamodb().put_item(TableName=name, Item=expired)
        tw.dynamodb().delete_item(TableName=name, Key=key("never-there"))
        tw.dynamodb().put_item(TableName=name, Item=item("user"))
        tw.dynamodb().delete_item(TableName=name, Key=key("user"))
        records = [r for _, r in StreamReader(arn).read(4)]
        removes = {r["dynamodb"]["Keys"]["pk"]["S"]: r for r in records
                   if r["eventName"] == "REMOVE"}
        self.assertEqual(set(removes), {"gone", "user"})
        self.assertEqual(removes["gone"]["userIdentity"],
                         {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"})
        self.assertNotIn("userIdentity", removes["user"])


if __name__ == "__main__":
    unittest.main()
