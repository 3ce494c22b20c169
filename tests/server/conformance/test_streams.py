"""DynamoDB Streams read through boto3's dynamodbstreams client: ListStreams,
DescribeStream, GetShardIterator (all four types) and GetRecords record shapes."""

import datetime
import time
import unittest

import tidewater_fixture as tw

VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


def key(pk):
    return {"pk": {"S": pk}}


def item(pk, **attributes):
    result = key(pk)
    result.update({name: {"S": value} for name, value in attributes.items()})
    return result


class StreamReader:
    """Reads every shard of a stream from TRIM_HORIZON, following NextShardIterator."""

    def __init__(self, stream_arn):
        self.stream_arn = stream_arn
        self.client = tw.streams()
        self.iterators = {}  # shard id -> next iterator, None once a closed shard is drained
        self.records = []  # (shard id, record) in the order read

    def shards(self):
        shards, request = [], {"StreamArn": self.stream_arn}
        while True:
            description = self.client.describe_stream(**request)["StreamDescription"]
            shards += description["Shards"]
            if "LastEvaluatedShardId" not in description:
                return shards
            request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]

    def poll(self):
        """One pass over all shards, reading each until it returns no records."""
        new = []
        for shard in self.shards():
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.client.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id,
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while self.iterators[shard_id] is not None:
                response = self.client.get_records(ShardIterator=self.iterators[shard_id])
                self.iterators[shard_id] = response.get("NextShardIterator")
                new += [(shard_id, r) for r in response["Records"]]
                if not response["Records"]:
                    break
        self.records += new
        return new

    def read(self, expected_count):
        """Polls until expected_count records arrived, then once more to catch extras."""
        deadline = time.monotonic() + tw.STATE_TIMEOUT
        while len(self.records) < expected_count and time.monotonic() < deadline:
            if not self.poll():
                time.sleep(0.1)
        self.poll()
        return self.records


class StreamTestCase(tw.ConformanceTestCase):

    @classmethod
    def stream_table(cls, prefix, view_type):
        name = cls.create_class_table(prefix, stream_view_type=view_type)
        return name, tw.dynamodb().describe_table(TableName=name)["Table"]["LatestStreamArn"]

    def check_record_shape(self, record, view_type, started):
        self.assertIsInstance(record["eventID"], str)
        self.assertTrue(record["eventID"])
        self.assertIn(record["eventName"], ("INSERT", "MODIFY", "REMOVE"))
        self.assertEqual(record["eventVersion"], "1.1")
        self.assertEqual(record["eventSource"], "aws:dynamodb")
        self.assertEqual(record["awsRegion"], tw.REGION)
        body = record["dynamodb"]
        self.assertEqual(body["StreamViewType"], view_type)
        self.assertTrue(body["SequenceNumber"].isdigit(), body["SequenceNumber"])
        self.assertIsInstance(body["SizeBytes"], int)
        self.assertGreater(body["SizeBytes"], 0)
        created = body["ApproximateCreationDateTime"]
        self.assertIsInstance(created, datetime.datetime)
        # DynamoDB may round the time down to the minute.
        self.assertGreaterEqual(created.timestamp(), started - 120)
        self.assertLessEqual(created.timestamp(), time.time() + 120)
        self.assertIsInstance(body["Keys"], dict)


class RecordsPerViewTypeTest(StreamTestCase):
    """The same write sequence on one table per view type; every record checked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.started = time.time()
        cls.tables = {view: cls.stream_table("view", view) for view in VIEW_TYPES}
        for view, (table, _) in cls.tables.items():
            cls.write_sequence(table)

    @classmethod
    def write_sequence(cls, table):
        ddb = tw.dynamodb()
        ddb.put_item(TableName=table, Item=item("k1", a="1"))
        ddb.update_item(TableName=table, Key=key("k1"), UpdateExpression="SET a = :v",
                        ExpressionAttributeValues={":v": {"S": "2"}})
        ddb.put_item(TableName=table, Item=item("k2", b="x"))
        try:  # rejected writes leave no record
            ddb.put_item(TableName=table, Item=item("k1", a="3"),
                         ConditionExpression="attribute_not_exists(pk)")
        except ddb.exceptions.ConditionalCheckFailedException:
            pass
        ddb.delete_item(TableName=table, Key=key("k3"))  # deletes nothing: no record
        ddb.delete_item(TableName=table, Key=key("k1"))
        ddb.put_item(TableName=table, Item=item("k2", b="y"))
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": item("k4", c="1")}},
            {"Update": {"TableName": table, "Key": key("k2"), "UpdateExpression": "SET b = :v",
                        "ExpressionAttributeValues": {":v": {"S": "z"}}}}])
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": item("k5")}},
            {"DeleteRequest": {"Key": key("k4")}}]})

    # Per key: (event, old image, new image) in commit order.
    EXPECTED = {
        "k1": [("INSERT", None, item("k1", a="1")),
               ("MODIFY", item("k1", a="1"), item("k1", a="2")),
               ("REMOVE", item("k1", a="2"), None)],
        "k2": [("INSERT", None, item("k2", b="x")),
               ("MODIFY", item("k2", b="x"), item("k2", b="y")),
               ("MODIFY", item("k2", b="y"), item("k2", b="z"))],
        "k4": [("INSERT", None, item("k4", c="1")),
               ("REMOVE", item("k4", c="1"), None)],
        "k5": [("INSERT", None, item("k5"))],
    }

    def check_view_type(self, view_type):
        table, arn = self.tables[view_type]
        expected_count = sum(len(events) for events in self.EXPECTED.values())
        records = StreamReader(arn).read(expected_count)
        self.assertEqual(len(records), expected_count,
                         [(r["eventName"], r["dynamodb"]["Keys"]) for _, r in records])
        self.assertEqual(len({r["eventID"] for _, r in records}), expected_count,
                         "eventIDs are not unique")

        last_sequence = {}
        per_key, shard_of_key = {}, {}
        for shard_id, record in records:
            self.check_record_shape(record, view_type, self.started)
            body = record["dynamodb"]
            sequence = int(body["SequenceNumber"])
            self.assertGreater(sequence, last_sequence.get(shard_id, -1),
                               "sequence numbers must increase within shard %s" % shard_id)
            last_sequence[shard_id] = sequence
            pk = body["Keys"]["pk"]["S"]
            self.assertEqual(body["Keys"], key(pk))
            self.assertEqual(shard_of_key.setdefault(pk, shard_id), shard_id,
                             "changes of %s are spread over shards" % pk)
            per_key.setdefault(pk, []).append(
                (record["eventName"], body.get("OldImage"), body.get("NewImage")))

        wants_old = view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
        wants_new = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
        expected = {pk: [(event, old if wants_old else None, new if wants_new else None)
                         for event, old, new in events]
                    for pk, events in self.EXPECTED.items()}
        self.assertEqual(per_key, expected)

    def test_keys_only(self):
        self.check_view_type("KEYS_ONLY")

    def test_new_image(self):
        self.check_view_type("NEW_IMAGE")

    def test_old_image(self):
        self.check_view_type("OLD_IMAGE")

    def test_new_and_old_images(self):
        self.check_view_type("NEW_AND_OLD_IMAGES")


class StreamDescriptionTest(StreamTestCase):

    def test_list_and_describe(self):
        table, arn = self.stream_table("describe", "NEW_IMAGE")
        table_arn = self.ddb.describe_table(TableName=table)["Table"]["TableArn"]
        self.assertTrue(arn.startswith(table_arn + "/stream/"), arn)
        listed = tw.streams().list_streams(TableName=table)["Streams"]
        self.assertEqual([s["StreamArn"] for s in listed], [arn])
        self.assertEqual(listed[0]["TableName"], table)
        self.assertEqual(arn, table_arn + "/stream/" + listed[0]["StreamLabel"])

        description = tw.streams().describe_stream(StreamArn=arn)["StreamDescription"]
        self.assertEqual(description["StreamArn"], arn)
        self.assertEqual(description["StreamLabel"], listed[0]["StreamLabel"])
        self.assertIn(description["StreamStatus"], ("ENABLING", "ENABLED"))
        self.assertEqual(description["StreamViewType"], "NEW_IMAGE")
        self.assertEqual(description["TableName"], table)
        self.assertEqual(description["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}])
        self.assertIsInstance(description["CreationRequestDateTime"], datetime.datetime)
        self.assertGreaterEqual(len(description["Shards"]), 1)
        for shard in description["Shards"]:
            self.assertTrue(shard["ShardId"])
            self.assertTrue(shard["SequenceNumberRange"]["StartingSequenceNumber"].isdigit())

    def test_unknown_stream(self):
        table, arn = self.stream_table("unknownstream", "KEYS_ONLY")
        missing = arn.replace(table, tw.unique_name("missing"))
        self.assertClientError("ResourceNotFoundException", tw.streams().describe_stream,
                               StreamArn=missing)


class ShardIteratorTypesTest(StreamTestCase):
    """Three writes of one item (so one shard): r1 INSERT, r2 MODIFY, r3 MODIFY."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table, cls.arn = cls.stream_table("iterators", "NEW_IMAGE")
        for version in ("1", "2", "3"):
            tw.dynamodb().put_item(TableName=cls.table, Item=item("only", v=version))
        records = StreamReader(cls.arn).read(3)
        assert len(records) == 3, records
        cls.shard_id = records[0][0]
        cls.records = [r for _, r in records]

    def iterator(self, iterator_type, sequence=None):
        request = {"StreamArn": self.arn, "ShardId": self.shard_id,
                   "ShardIteratorType": iterator_type}
        if sequence is not None:
            request["SequenceNumber"] = sequence
        return tw.streams().get_shard_iterator(**request)["ShardIterator"]

    def versions(self, iterator):
        response = tw.streams().get_records(ShardIterator=iterator)
        return [r["dynamodb"]["NewImage"]["v"]["S"] for r in response["Records"]], response

    def sequence(self, index):
        return self.records[index]["dynamodb"]["SequenceNumber"]

    def test_trim_horizon(self):
        self.assertEqual(self.versions(self.iterator("TRIM_HORIZON"))[0], ["1", "2", "3"])

    def test_at_sequence_number(self):
        self.assertEqual(self.versions(self.iterator("AT_SEQUENCE_NUMBER",
                                                     self.sequence(1)))[0], ["2", "3"])

    def test_after_sequence_number(self):
        self.assertEqual(self.versions(self.iterator("AFTER_SEQUENCE_NUMBER",
                                                     self.sequence(1)))[0], ["3"])
        self.assertEqual(self.versions(self.iterator("AFTER_SEQUENCE_NUMBER",
                                                     self.sequence(2)))[0], [])

    def test_limit_and_next_iterator(self):
        response = tw.streams().get_records(ShardIterator=self.iterator("TRIM_HORIZON"),
                                            Limit=2)
        self.assertEqual([r["dynamodb"]["SequenceNumber"] for r in response["Records"]],
                         [self.sequence(0), self.sequence(1)])
        self.assertEqual(self.versions(response["NextShardIterator"])[0], ["3"])

    def test_latest_sees_only_later_writes(self):
        # Its own table: the write below must not show up in the other tests' stream.
        table, arn = self.stream_table("latest", "NEW_IMAGE")
        self.ddb.put_item(TableName=table, Item=item("only", v="before"))
        shard_id = StreamReader(arn).read(1)[0][0]
        iterator = tw.streams().get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                                   ShardIteratorType="LATEST")["ShardIterator"]
        versions, response = self.versions(iterator)
        self.assertEqual(versions, [])
        iterator = response["NextShardIterator"]
        self.ddb.put_item(TableName=table, Item=item("only", v="after"))
        seen, deadline = [], time.monotonic() + tw.STATE_TIMEOUT
        while not seen and time.monotonic() < deadline:
            seen, response = self.versions(iterator)
            iterator = response["NextShardIterator"]
        self.assertEqual(seen, ["after"])

    def test_sequence_number_required_for_at_and_after(self):
        for iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            with self.subTest(iterator_type):
                self.assertClientError("ValidationException", self.iterator, iterator_type)

    def test_sequence_number_not_allowed_for_trim_horizon_and_latest(self):
        for iterator_type in ("TRIM_HORIZON", "LATEST"):
            with self.subTest(iterator_type):
                self.assertClientError("ValidationException", self.iterator, iterator_type,
                                       self.sequence(0))

    def test_invalid_iterator(self):
        self.assertClientError("ValidationException", tw.streams().get_records,
                               ShardIterator="not-an-iterator-" + "x" * 40)

    def test_unknown_shard(self):
        self.assertClientError("ResourceNotFoundException", tw.streams().get_shard_iterator,
                               StreamArn=self.arn, ShardId="shardId-00000000000000000000-ffffffff",
                               ShardIteratorType="TRIM_HORIZON")


class UnchangedWritesTest(StreamTestCase):
    """A PutItem or UpdateItem that changes no data writes no stream record."""

    def test_identical_put_and_update_leave_no_record(self):
        table, arn = self.stream_table("unchanged", "NEW_AND_OLD_IMAGES")
        self.ddb.put_item(TableName=table, Item=item("k", a="1"))
        self.ddb.put_item(TableName=table, Item=item("k", a="1"))
        self.ddb.update_item(TableName=table, Key=key("k"), UpdateExpression="SET a = :v",
                             ExpressionAttributeValues={":v": {"S": "1"}})
        self.ddb.put_item(TableName=table, Item=item("k", a="2"))
        records = StreamReader(arn).read(2)
        self.assertEqual([(r["eventName"], r["dynamodb"].get("OldImage"),
                           r["dynamodb"]["NewImage"]) for _, r in records],
                         [("INSERT", None, item("k", a="1")),
                          ("MODIFY", item("k", a="1"), item("k", a="2"))])


class RemoveOnlyUpdateTest(StreamTestCase):
    """An UpdateItem that only removes attributes of a missing item changes nothing."""

    def test_no_record_for_an_update_that_creates_nothing(self):
        table, arn = self.stream_table("removeonly", "NEW_AND_OLD_IMAGES")
        self.ddb.update_item(TableName=table, Key=key("ghost"), UpdateExpression="REMOVE a")
        self.ddb.update_item(TableName=table, Key=key("ghost"), UpdateExpression="REMOVE a.b")
        self.ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": key("ghost"),
                        "UpdateExpression": "REMOVE a"}}])
        # A later real change, to know the reader has seen everything before it.
        self.ddb.put_item(TableName=table, Item=item("marker"))
        records = StreamReader(arn).read(1)
        self.assertEqual([(r["eventName"], r["dynamodb"]["Keys"]) for _, r in records],
                         [("INSERT", key("marker"))])


class StartingSequenceNumberTest(StreamTestCase):
    """Every shard's StartingSequenceNumber (DescribeStream) is a valid AT_SEQUENCE_NUMBER
    position, also for shards that hold no record yet, and reading from it sees every
    record written to the shard."""

    def test_at_each_shards_starting_sequence_number(self):
        table, arn = self.stream_table("starting", "KEYS_ONLY")
        self.ddb.put_item(TableName=table, Item=item("first"))
        iterators = {}
        for shard in StreamReader(arn).shards():
            start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
            iterators[shard["ShardId"]] = tw.streams().get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=start)["ShardIterator"]
        names = ["first"] + ["k%d" % i for i in range(20)]
        for name in names[1:]:
            self.ddb.put_item(TableName=table, Item=item(name))
        seen, deadline = [], time.monotonic() + tw.STATE_TIMEOUT
        while len(seen) < len(names) and time.monotonic() < deadline:
            progressed = False
            for shard_id, iterator in list(iterators.items()):
                response = tw.streams().get_records(ShardIterator=iterator)
                iterators[shard_id] = response["NextShardIterator"]
                seen += [r["dynamodb"]["Keys"]["pk"]["S"] for r in response["Records"]]
                progressed = progressed or bool(response["Records"])
            if not progressed:
                time.sleep(0.1)
        self.assertCountEqual(seen, names)


class StreamArnValidationTest(StreamTestCase):
    """A malformed stream ARN is a ValidationException; a well-formed one that names no
    stream is ResourceNotFoundException."""

    MALFORMED = ("not-an-arn-but-long-enough-to-pass-the-length-check",
                 "arn:aws:dynamodb:us-east-1:000000000000:table/only-a-table-arn",
                 "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/stream/not-a-label")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table, cls.arn = cls.stream_table("arns", "KEYS_ONLY")

    def test_describe_stream(self):
        for arn in self.MALFORMED:
            with self.subTest(arn):
                self.assertClientError("ValidationException", tw.streams().describe_stream,
                                       StreamArn=arn)
        missing = self.arn.replace(self.table, tw.unique_name("missing"))
        self.assertClientError("ResourceNotFoundException", tw.streams().describe_stream,
                               StreamArn=missing)

    def test_get_shard_iterator(self):
        shard_id = StreamReader(self.arn).shards()[0]["ShardId"]
        for arn in self.MALFORMED:
            with self.subTest(arn):
                self.assertClientError("ValidationException", tw.streams().get_shard_iterator,
                                       StreamArn=arn, ShardId=shard_id,
                                       ShardIteratorType="TRIM_HORIZON")

    def test_list_streams_exclusive_start_stream_arn(self):
        for arn in self.MALFORMED:
            for request in ({}, {"TableName": self.table}):
                with self.subTest(arn=arn, **request):
                    self.assertClientError("ValidationException", tw.streams().list_streams,
                                           ExclusiveStartStreamArn=arn, **request)
        listed = tw.streams().list_streams(TableName=self.table,
                                           ExclusiveStartStreamArn=self.arn)["Streams"]
        self.assertEqual(listed, [])


if __name__ == "__main__":
    unittest.main()
