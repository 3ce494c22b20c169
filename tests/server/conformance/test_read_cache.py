"""The read cache of tidewaterd (issue 21): eventually consistent GetItem, BatchGetItem,
Query and Scan on the node that acknowledged a write see it, every time; ConsistentRead and
TransactGetItems never use the cache; /metrics shows it working (and nothing of it with
--cache-mb 0); a server killed with SIGKILL and started again serves the last acknowledged
values; consumed capacity does not change with the cache.

Runs against tidewaterd processes of its own (TIDEWATERD names the binary): it reads their
/metrics, starts one with --cache-mb 0 and kills one."""

import os
import re
import shutil
import tempfile
import time
import unittest

import boto3

import tidewater_fixture as tw

_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


class Server(tw.ServerProcess):
    """A tidewaterd (authentication off, the loopback default) in a temporary directory,
    with a client and a reader of its cache metrics."""

    def __init__(self, *args):
        if not os.environ.get("TIDEWATERD"):
            raise unittest.SkipTest("set TIDEWATERD (server binary)")
        self.workdir = tempfile.mkdtemp(prefix="tw-read-cache-")
        super().__init__(self.workdir, *args)
        self.client = boto3.session.Session().client(
            "dynamodb", endpoint_url=self.endpoint, config=tw.client_config())

    def close(self):
        self.client.close()
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def metrics(self):
        """{(name, labels): value} of every sample /metrics exposes."""
        status, _, body = tw.http_get(self.endpoint, "/metrics")
        if status != 200:
            raise AssertionError("GET /metrics answered %d" % status)
        samples = {}
        for line in body.decode().splitlines():
            match = _METRIC_LINE.match(line)
            if match and not line.startswith("#"):
                samples[(match.group(1), match.group(2) or "")] = float(match.group(3))
        return samples

    def cache_counters(self):
        m = self.metrics()
        return {
            "item_hits": m[("tidewater_cache_hits_total", '{kind="item"}')],
            "page_hits": m[("tidewater_cache_hits_total", '{kind="page"}')],
            "item_misses": m[("tidewater_cache_misses_total", '{kind="item"}')],
            "page_misses": m[("tidewater_cache_misses_total", '{kind="page"}')],
            "invalidations": m[("tidewater_cache_invalidations_total", "")],
            "bytes": m[("tidewater_cache_bytes", "")],
            "capacity": m[("tidewater_cache_capacity_bytes", "")],
        }


def create_table(client, name):
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    deadline = time.monotonic() + tw.STATE_TIMEOUT
    while client.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise AssertionError("table %s did not become ACTIVE" % name)
        time.sleep(0.1)


def key(pk, sk):
    return {"pk": {"S": pk}, "sk": {"S": sk}}


class ReadAfterWrite:
    """Write -> eventually consistent read pairs on one server, checked against a model of
    the table: every read must show the write just acknowledged."""

    PARTITIONS = ("a", "b")
    SORT_KEYS = ("1", "2", "3")

    def __init__(self, test, server, table):
        self.test = test
        self.client = server.client
        self.table = table
        self.model = {}  # (pk, sk) -> item

    def item(self, pk, sk, step):
        return {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"N": str(step)},
                "data": {"S": "step-%d-" % step + "x" * (step % 300)}}

    # --- reads, each compared with the model ---

    def get(self, pk, sk):
        response = self.client.get_item(TableName=self.table, Key=key(pk, sk))
        self.test.assertEqual(response.get("Item"), self.model.get((pk, sk)),
                              "GetItem %s/%s" % (pk, sk))

    def batch_get(self):
        keys = [key(pk, sk) for pk in self.PARTITIONS for sk in self.SORT_KEYS]
        response = self.client.batch_get_item(RequestItems={self.table: {"Keys": keys}})
        self.test.assertEqual(response.get("UnprocessedKeys", {}), {})
        got = {(i["pk"]["S"], i["sk"]["S"]): i for i in response["Responses"][self.table]}
        self.test.assertEqual(got, self.model, "BatchGetItem")

    def query(self, pk):
        response = self.client.query(
            TableName=self.table, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}})
        expected = [self.model[k] for k in sorted(self.model) if k[0] == pk]
        self.test.assertEqual(response["Items"], expected, "Query %s" % pk)

    def scan(self):
        response = self.client.scan(TableName=self.table)
        got = {(i["pk"]["S"], i["sk"]["S"]): i for i in response["Items"]}
        self.test.assertEqual(len(got), len(response["Items"]))
        self.test.assertEqual(got, self.model, "Scan")

    def read_all_ways(self, pk, sk, step):
        self.get(pk, sk)
        [self.batch_get, lambda: self.query(pk), self.scan][step % 3]()

    # --- writes, recorded in the model once acknowledged ---

    def write(self, step):
        pk = self.PARTITIONS[step % 2]
        sk = self.SORT_KEYS[(step // 2) % 3]
        kind = step % 4
        if kind == 0:
            item = self.item(pk, sk, step)
            self.client.put_item(TableName=self.table, Item=item)
            self.model[(pk, sk)] = item
        elif kind == 1:
            response = self.client.update_item(
                TableName=self.table, Key=key(pk, sk),
                UpdateExpression="SET v = :v, #d = :d",
                ExpressionAttributeNames={"#d": "data"},
                ExpressionAttributeValues={":v": {"N": str(step)},
                                           ":d": {"S": "updated-%d" % step}},
                ReturnValues="ALL_NEW")
            updated = {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"N": str(step)},
                       "data": {"S": "updated-%d" % step}}
            self.test.assertEqual(response["Attributes"], updated)
            self.model[(pk, sk)] = updated
        elif kind == 2:
            self.client.delete_item(TableName=self.table, Key=key(pk, sk))
            self.model.pop((pk, sk), None)
        else:
            # Two items of different partitions at once.
            other = (self.PARTITIONS[(step + 1) % 2], self.SORT_KEYS[step % 3])
            first, second = self.item(pk, sk, step), self.item(*other, step)
            self.client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.table, "Item": first}},
                {"Put": {"TableName": self.table, "Item": second}}])
            self.model[(pk, sk)] = first
            self.model[other] = second
        return pk, sk

    def run(self, steps):
        for step in range(steps):
            # Read first, so that what the write changes is cached when it is written.
            pk = self.PARTITIONS[step % 2]
            sk = self.SORT_KEYS[(step // 2) % 3]
            self.read_all_ways(pk, sk, step)
            self.read_all_ways(*self.write(step), step)


class CachedServerTest(unittest.TestCase):
    """A server with the default cache."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.client = cls.server.client

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def new_table(self, prefix):
        name = tw.unique_name(prefix)
        create_table(self.client, name)
        return name

    def test_every_eventually_consistent_read_sees_the_write_before_it(self):
        before = self.server.cache_counters()
        ReadAfterWrite(self, self.server, self.new_table("raw")).run(200)
        after = self.server.cache_counters()
        self.assertGreater(after["item_hits"], before["item_hits"])
        self.assertGreater(after["page_hits"], before["page_hits"])
        self.assertGreater(after["invalidations"], before["invalidations"])
        self.assertGreater(after["item_misses"], before["item_misses"])
        self.assertEqual(after["capacity"], 64 << 20)  # the default --cache-mb
        self.assertLessEqual(after["bytes"], after["capacity"])

    def test_repeated_reads_are_hits(self):
        table = self.new_table("hits")
        item = {"pk": {"S": "hot"}, "sk": {"S": "1"}, "data": {"S": "x" * 100}}
        self.client.put_item(TableName=table, Item=item)
        self.client.get_item(TableName=table, Key=key("hot", "1"))
        before = self.server.cache_counters()
        for _ in range(20):
            got = self.client.get_item(TableName=table, Key=key("hot", "1"))
            self.assertEqual(got["Item"], item)
        after = self.server.cache_counters()
        self.assertGreaterEqual(after["item_hits"] - before["item_hits"], 20)
        self.assertEqual(after["item_misses"], before["item_misses"])

    def test_consistent_and_transactional_reads_do_not_use_the_cache(self):
        table = self.new_table("strong")
        item = {"pk": {"S": "p"}, "sk": {"S": "1"}, "data": {"S": "strong"}}
        self.client.put_item(TableName=table, Item=item)
        # Cached by eventually consistent reads first: a consistent read must still not
        # count as a hit.
        self.client.get_item(TableName=table, Key=key("p", "1"))
        self.client.query(TableName=table, KeyConditionExpression="pk = :pk",
                          ExpressionAttributeValues={":pk": {"S": "p"}})
        before = self.server.cache_counters()
        for _ in range(10):
            got = self.client.get_item(TableName=table, Key=key("p", "1"), ConsistentRead=True)
            self.assertEqual(got["Item"], item)
            got = self.client.batch_get_item(
                RequestItems={table: {"Keys": [key("p", "1")], "ConsistentRead": True}})
            self.assertEqual(got["Responses"][table], [item])
            got = self.client.query(TableName=table, KeyConditionExpression="pk = :pk",
                                    ExpressionAttributeValues={":pk": {"S": "p"}},
                                    ConsistentRead=True)
            self.assertEqual(got["Items"], [item])
            got = self.client.scan(TableName=table, ConsistentRead=True)
            self.assertEqual(got["Items"], [item])
            got = self.client.transact_get_items(
                TransactItems=[{"Get": {"TableName": table, "Key": key("p", "1")}}])
            self.assertEqual(got["Responses"][0]["Item"], item)
        after = self.server.cache_counters()
        for counter in ("item_hits", "page_hits", "item_misses", "page_misses"):
            self.assertEqual(after[counter], before[counter], counter)

    def test_consumed_capacity_of_a_cached_read_is_unchanged(self):
        table = self.new_table("capacity")
        # Reads cost 0.5 units per started 4 KB eventually consistent, 1 unit consistent.
        for size, units in ((1000, 0.5), (5000, 1.0), (9000, 1.5)):
            pk = "p%d" % size
            overhead = len("pk") + len(pk) + len("sk") + len("1") + len("payload")
            self.client.put_item(TableName=table, Item={
                "pk": {"S": pk}, "sk": {"S": "1"}, "payload": {"S": "x" * (size - overhead)}})
            before = self.server.cache_counters()["item_hits"]
            for read in range(3):  # a miss, then hits
                response = self.client.get_item(TableName=table, Key=key(pk, "1"),
                                                ReturnConsumedCapacity="TOTAL")
                self.assertEqual(response["ConsumedCapacity"]["CapacityUnits"], units,
                                 "%d bytes, read %d" % (size, read))
            self.assertGreaterEqual(self.server.cache_counters()["item_hits"] - before, 2)
            strong = self.client.get_item(TableName=table, Key=key(pk, "1"), ConsistentRead=True,
                                          ReturnConsumedCapacity="TOTAL")
            self.assertEqual(strong["ConsumedCapacity"]["CapacityUnits"], units * 2)


class UncachedServerTest(unittest.TestCase):
    """--cache-mb 0: no cache, no cache metrics, the same answers."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server("--cache-mb", "0")

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_no_cache_metrics_and_reads_still_see_writes(self):
        names = {name for name, _ in self.server.metrics()}
        self.assertTrue(names, "/metrics exposes nothing at all")
        self.assertEqual([n for n in names if n.startswith("tidewater_cache_")], [])
        table = tw.unique_name("nocache")
        create_table(self.server.client, table)
        ReadAfterWrite(self, self.server, table).run(60)
        names = {name for name, _ in self.server.metrics()}
        self.assertEqual([n for n in names if n.startswith("tidewater_cache_")], [])


class RestartTest(unittest.TestCase):
    """SIGKILL, then a start on the same data directory: the last acknowledged values are
    served, never what the cache held before the kill."""

    def setUp(self):
        self.server = Server()
        self.addCleanup(self.server.close)

    def test_a_killed_server_serves_the_last_acknowledged_values(self):
        client = self.server.client
        table = tw.unique_name("restart")
        create_table(client, table)
        keys = [("k%d" % i, "1") for i in range(6)]
        for pk, sk in keys:
            client.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk},
                                                   "v": {"N": "1"}})
            # Cached at version 1 (item and page).
            client.get_item(TableName=table, Key=key(pk, sk))
            client.query(TableName=table, KeyConditionExpression="pk = :pk",
                         ExpressionAttributeValues={":pk": {"S": pk}})
        client.scan(TableName=table)
        expected = {}
        for i, (pk, sk) in enumerate(keys):
            if i % 3 == 0:
                client.delete_item(TableName=table, Key=key(pk, sk))
            elif i % 3 == 1:
                client.update_item(TableName=table, Key=key(pk, sk), UpdateExpression="SET v = :v",
                                   ExpressionAttributeValues={":v": {"N": "2"}})
                expected[(pk, sk)] = {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"N": "2"}}
            else:
                item = {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"N": "3"}}
                client.put_item(TableName=table, Item=item)
                expected[(pk, sk)] = item
        self.server.kill()
        self.server.start()
        for _ in range(2):  # the first read fills the new cache, the second may hit it
            for pk, sk in keys:
                got = client.get_item(TableName=table, Key=key(pk, sk)).get("Item")
                self.assertEqual(got, expected.get((pk, sk)), "%s/%s" % (pk, sk))
                got = client.query(TableName=table, KeyConditionExpression="pk = :pk",
                                   ExpressionAttributeValues={":pk": {"S": pk}})["Items"]
                self.assertEqual(got, [expected[(pk, sk)]] if (pk, sk) in expected else [])
            got = client.batch_get_item(
                RequestItems={table: {"Keys": [key(pk, sk) for pk, sk in keys]}})
            self.assertEqual(
                {(i["pk"]["S"], i["sk"]["S"]): i for i in got["Responses"][table]}, expected)
            scanned = client.scan(TableName=table)["Items"]
            self.assertEqual({(i["pk"]["S"], i["sk"]["S"]): i for i in scanned}, expected)
        self.assertGreater(self.server.cache_counters()["item_hits"], 0)


if __name__ == "__main__":
    unittest.main()
