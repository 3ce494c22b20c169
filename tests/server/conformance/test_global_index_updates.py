"""UpdateTable GlobalSecondaryIndexUpdates: Create (an online backfill of the items already
in the table, sparse, with each projection; writes made during the backfill; items whose
value for the new index key has the wrong type skipped; no stream records; reads of an
index still backfilling refused), Delete (the index gone, its name free again), Update of
an index's provisioned throughput, and the refusals, each leaving the table as it was.

An index being created or deleted is asynchronous: the tests poll DescribeTable until the
index is ACTIVE (and not Backfilling) or gone, for up to TIDEWATER_STATE_TIMEOUT seconds.
Only one index action is allowed per UpdateTable call, and only on a table whose indexes
are all ACTIVE, so every test waits for that before its next UpdateTable."""

import random
import threading
import time
import unittest

import boto3
from botocore.exceptions import ClientError

import tidewater_fixture as tw
from index_helpers import attribute, batch_put, project, scalar, table_key
from test_global_secondary_indexes import (all_pages, create_gsi_table, gsi, table_request,
                                           throughput, wait_for_index,
                                           wait_for_indexes_active)
from test_streams import StreamReader

# Seconds for writes made while an index was created to show in it once it is ACTIVE
# (a GSI is eventually consistent).
SETTLE_TIMEOUT = 20.0

BACKFILLING_MESSAGE = "Cannot read from backfilling global secondary index"
UNDEFINED_KEY_MESSAGE = "Some index key attributes are not defined in AttributeDefinitions"

GROUPS = ["g0", "g1", "g2", "g3"]


def describe(name):
    return tw.dynamodb().describe_table(TableName=name)["Table"]


def gsi_descriptions(description):
    """A table description's GSIs by name (the member is absent when there is none)."""
    return {i["IndexName"]: i for i in description.get("GlobalSecondaryIndexes", [])}


def wait_for_table(name, done, what):
    """DescribeTable every 0.2 s until done(table); returns the table, or fails after
    tw.STATE_TIMEOUT seconds naming `what`."""
    deadline = time.monotonic() + tw.STATE_TIMEOUT
    while True:
        table = describe(name)
        if done(table):
            return table
        if time.monotonic() > deadline:
            indexes = {n: (i.get("IndexStatus"), i.get("Backfilling"))
                       for n, i in gsi_descriptions(table).items()}
            raise AssertionError("table %s: %s not seen after %ss (table %s, indexes %r)" %
                                 (name, what, tw.STATE_TIMEOUT, table["TableStatus"], indexes))
        time.sleep(0.2)


def wait_for_index_created(name, index):
    def done(table):
        described = gsi_descriptions(table).get(index)
        return (table["TableStatus"] == "ACTIVE" and described is not None
                and described.get("IndexStatus") == "ACTIVE"
                and described.get("Backfilling") is not True)
    return wait_for_table(name, done, "index %s ACTIVE" % index)


def wait_for_index_deleted(name, index):
    return wait_for_table(name, lambda table: (table["TableStatus"] == "ACTIVE"
                                               and index not in gsi_descriptions(table)),
                          "index %s gone" % index)


def index_state(description):
    """What a refused UpdateTable must leave unchanged: the table's status, attribute
    definitions and its GSIs (names, keys, projections, statuses, throughput); not the
    sizes and counts, which DynamoDB refreshes on its own."""
    indexes = []
    for index in description.get("GlobalSecondaryIndexes", []):
        projection = dict(index["Projection"])
        if "NonKeyAttributes" in projection:
            projection["NonKeyAttributes"] = sorted(projection["NonKeyAttributes"])
        units = index.get("ProvisionedThroughput", {})
        indexes.append((index["IndexName"], index["KeySchema"], projection,
                        index.get("IndexStatus"), index.get("Backfilling"),
                        units.get("ReadCapacityUnits"), units.get("WriteCapacityUnits")))
    return {"TableStatus": description["TableStatus"],
            "AttributeDefinitions": sorted((a["AttributeName"], a["AttributeType"])
                                           for a in description["AttributeDefinitions"]),
            "GlobalSecondaryIndexes": sorted(indexes, key=lambda i: i[0])}


def has_typed(item, key):
    """The item has attribute key[0] with type key[1] (an index key it can be indexed by)."""
    name, kind = key
    return name in item and kind in item[name]


def projected_names(projection_type, hash_key, range_key=None, non_key_attributes=()):
    """The attribute names an index projects (None: ALL, the whole item)."""
    if projection_type == "ALL":
        return None
    names = ["pk", "sk", hash_key[0]] + ([range_key[0]] if range_key else [])
    return names + (list(non_key_attributes) if projection_type == "INCLUDE" else [])


def expected_entries(items, hash_key, range_key, names):
    """The index recomputed from the table's items: the projection of every item that has the
    index keys with their declared types, in table key order."""
    return sorted((project(item, names) for item in items
                   if has_typed(item, hash_key)
                   and (range_key is None or has_typed(item, range_key))),
                  key=table_key)


def scan_table(name):
    return all_pages(tw.dynamodb().scan, TableName=name, ConsistentRead=True)


def scan_index(name, index, page_size=40):
    """Every entry of the index, paging with Limit, in table key order."""
    return sorted(all_pages(tw.dynamodb().scan, TableName=name, IndexName=index,
                            Limit=page_size), key=table_key)


def query_index(name, index, condition, values, page_size=25):
    return all_pages(tw.dynamodb().query, TableName=name, IndexName=index,
                     KeyConditionExpression=condition, ExpressionAttributeValues=values,
                     Limit=page_size)


def sample_items(count):
    """`count` items over 30 table partitions: grp_s (S, four groups) on four in five,
    rank_n (N) on six in seven, so the index on both is sparse; note_s missing from every
    eleventh item (an INCLUDE index projects what is there)."""
    items = []
    for i in range(count):
        item = {"pk": {"S": "p%02d" % (i % 30)}, "sk": {"S": "s%03d" % i},
                "other_s": {"S": "other-%03d" % i}}
        if i % 11 != 0:
            item["note_s"] = {"S": "note-%03d" % i}
        if i % 5 != 0:
            item["grp_s"] = {"S": GROUPS[i % 4]}
        if i % 7 != 0:
            item["rank_n"] = {"N": str(i % 17)}
        items.append(item)
    return items


class IndexUpdateTestCase(tw.ConformanceTestCase):
    """Tables without GSIs (or with the given ones) that the class drops afterwards, and the
    checks of a Create's UpdateTable answer and of the index it made."""

    def new_table(self, prefix, gsis=(), attributes=(), provisioned=None):
        """A pk/sk (S, S) table with the given GSIs and their extra attribute definitions,
        waited for until it and its indexes are ACTIVE. Returns its name."""
        name = tw.unique_name(prefix)
        self._tables_to_drop.append(name)
        request = table_request(name, [attribute("pk", "S"), attribute("sk", "S")]
                                + list(attributes), list(gsis), provisioned=provisioned)
        if not gsis:
            del request["GlobalSecondaryIndexes"]
        self.ddb.create_table(**request)
        wait_for_indexes_active(name)
        return name

    def create_index(self, name, index, definitions):
        """UpdateTable Create of `index` (a gsi() entry) with the attribute definitions of its
        keys; checks the answer lists it CREATING. Returns the answer's TableDescription."""
        response = self.ddb.update_table(TableName=name, AttributeDefinitions=definitions,
                                         GlobalSecondaryIndexUpdates=[{"Create": index}])
        description = response["TableDescription"]
        self.assertEqual(description["TableName"], name)
        described = gsi_descriptions(description)
        self.assertIn(index["IndexName"], described)
        got = described[index["IndexName"]]
        self.assertEqual(got["IndexStatus"], "CREATING")
        if "Backfilling" in got:
            self.assertIsInstance(got["Backfilling"], bool)
        self.assertEqual(got["KeySchema"], index["KeySchema"])
        self.assertEqual(got["Projection"]["ProjectionType"],
                         index["Projection"]["ProjectionType"])
        return description

    def delete_index(self, name, index):
        """UpdateTable Delete of `index`; the answer lists it DELETING or not at all."""
        response = self.ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": index}}])
        described = gsi_descriptions(response["TableDescription"])
        if index in described:
            self.assertEqual(described[index]["IndexStatus"], "DELETING")

    def check_read_while_creating(self, name, index, condition, values):
        """One Query right after the Create: refused while the index backfills, else the
        index must already be ACTIVE (a small backfill can end before the Query arrives)."""
        try:
            self.ddb.query(TableName=name, IndexName=index, KeyConditionExpression=condition,
                           ExpressionAttributeValues=values)
        except ClientError as e:
            error = e.response["Error"]
            self.assertEqual(error["Code"], "ValidationException", error.get("Message"))
            self.assertIn(BACKFILLING_MESSAGE, error.get("Message", ""))
            return
        described = gsi_descriptions(describe(name))[index]
        self.assertEqual(described["IndexStatus"], "ACTIVE")
        self.assertIsNot(described.get("Backfilling"), True)

    def assertCreated(self, table, index, definitions):
        """DescribeTable's `table` describes the created `index`, ACTIVE, and defines its
        key attributes."""
        got = gsi_descriptions(table)[index["IndexName"]]
        self.assertEqual(got["IndexStatus"], "ACTIVE")
        self.assertIsNot(got.get("Backfilling"), True)
        self.assertEqual(got["KeySchema"], index["KeySchema"])
        self.assertEqual(got["Projection"]["ProjectionType"],
                         index["Projection"]["ProjectionType"])
        self.assertEqual(sorted(got["Projection"].get("NonKeyAttributes", [])),
                         sorted(index["Projection"].get("NonKeyAttributes", [])))
        self.assertEqual(got["IndexArn"], table["TableArn"] + "/index/" + index["IndexName"])
        defined = {(a["AttributeName"], a["AttributeType"])
                   for a in table["AttributeDefinitions"]}
        for definition in definitions + [attribute("pk", "S"), attribute("sk", "S")]:
            self.assertIn((definition["AttributeName"], definition["AttributeType"]), defined)


class CreateIndexTest(IndexUpdateTestCase):
    """Create on a populated on-demand table: the backfill indexes exactly the items with the
    new keys (of the declared types), projected as asked, and the writes made meanwhile."""

    HASH, RANGE = ("grp_s", "S"), ("rank_n", "N")
    DEFINITIONS = [attribute("grp_s", "S"), attribute("rank_n", "N")]

    def check_backfill(self, projection_type, non_key_attributes=None):
        name = self.new_table("gsiadd")
        items = sample_items(300)
        batch_put(name, items)
        index = gsi("by_grp_rank", "grp_s", "rank_n", projection_type, non_key_attributes)
        description = self.create_index(name, index, self.DEFINITIONS)
        # On-demand: the index has no provisioned units of its own.
        units = gsi_descriptions(description)["by_grp_rank"].get("ProvisionedThroughput")
        if units is not None:
            self.assertEqual((units["ReadCapacityUnits"], units["WriteCapacityUnits"]), (0, 0))
        self.check_read_while_creating(name, "by_grp_rank", "grp_s = :g", {":g": {"S": "g0"}})
        table = wait_for_index_created(name, "by_grp_rank")
        self.assertCreated(table, index, self.DEFINITIONS)

        names = projected_names(projection_type, self.HASH, self.RANGE,
                                non_key_attributes or ())
        expected = expected_entries(items, self.HASH, self.RANGE, names)
        self.assertTrue(0 < len(expected) < len(items))  # the index is sparse
        self.assertEqual(scan_index(name, "by_grp_rank"), expected)
        for group in GROUPS:
            with self.subTest(group=group):
                got = query_index(name, "by_grp_rank", "grp_s = :g", {":g": {"S": group}})
                self.assertEqual(sorted(got, key=table_key),
                                 [e for e in expected if e["grp_s"]["S"] == group])
                ranks = [scalar(i["rank_n"]) for i in got]
                self.assertEqual(ranks, sorted(ranks), "not in index sort key order")
        # A key condition on the new sort key too.
        got = query_index(name, "by_grp_rank", "grp_s = :g AND rank_n < :r",
                          {":g": {"S": "g1"}, ":r": {"N": "5"}}, page_size=3)
        self.assertEqual(sorted(got, key=table_key),
                         [e for e in expected
                          if e["grp_s"]["S"] == "g1" and scalar(e["rank_n"]) < 5])

    def test_create_keys_only_index_backfills_the_items_that_have_its_keys(self):
        self.check_backfill("KEYS_ONLY")

    def test_create_include_index_backfills_the_included_attributes(self):
        self.check_backfill("INCLUDE", ["note_s"])

    def test_create_all_index_backfills_whole_items(self):
        self.check_backfill("ALL")

    def test_items_written_while_the_index_is_created_end_up_in_it(self):
        name = self.new_table("gsiconc")
        batch_put(name, sample_items(200))
        started, errors = threading.Event(), []

        def write():
            """400 puts, updates and deletes over 260 keys (some new), index keys always of
            the declared types; any error is kept for the test to report."""
            client = boto3.session.Session().client("dynamodb", endpoint_url=tw.endpoint(),
                                                    config=tw.client_config())
            rng = random.Random(20240611)
            try:
                for n in range(400):
                    if n == 50:
                        started.set()
                    i = rng.randrange(260)
                    key = {"pk": {"S": "p%02d" % (i % 30)}, "sk": {"S": "s%03d" % i}}
                    choice = rng.random()
                    if choice < 0.3:
                        item = dict(key, note_s={"S": "put-%d" % n})
                        if rng.random() < 0.8:
                            item["grp_s"] = {"S": rng.choice(GROUPS)}
                        if rng.random() < 0.8:
                            item["rank_n"] = {"N": str(rng.randrange(-5, 50))}
                        tw.retry_throttled(client.put_item, TableName=name, Item=item)
                    elif choice < 0.5:
                        tw.retry_throttled(
                            client.update_item, TableName=name, Key=key,
                            UpdateExpression="SET grp_s = :g, rank_n = :r, note_s = :n",
                            ExpressionAttributeValues={
                                ":g": {"S": rng.choice(GROUPS)},
                                ":r": {"N": str(rng.randrange(-5, 50))},
                                ":n": {"S": "upd-%d" % n}})
                    elif choice < 0.6:
                        tw.retry_throttled(client.update_item, TableName=name, Key=key,
                                           UpdateExpression="REMOVE " + rng.choice(
                                               ["grp_s", "rank_n"]))
                    elif choice < 0.75:
                        tw.retry_throttled(client.update_item, TableName=name, Key=key,
                                           UpdateExpression="SET note_s = :n, other_s = :o",
                                           ExpressionAttributeValues={
                                               ":n": {"S": "note-%d" % n},
                                               ":o": {"S": "other-%d" % n}})
                    else:
                        tw.retry_throttled(client.delete_item, TableName=name, Key=key)
            except BaseException as error:  # reported by the test
                errors.append(error)
            finally:
                started.set()

        writer = threading.Thread(target=write)
        writer.start()
        try:
            started.wait(tw.STATE_TIMEOUT)
            index = gsi("by_grp_rank", "grp_s", "rank_n", "INCLUDE", ["note_s"])
            self.create_index(name, index, self.DEFINITIONS)
            self.check_read_while_creating(name, "by_grp_rank", "grp_s = :g",
                                           {":g": {"S": "g2"}})
            wait_for_index_created(name, "by_grp_rank")
        finally:
            writer.join(tw.STATE_TIMEOUT)
        self.assertFalse(writer.is_alive(), "the writer did not end")
        self.assertEqual(errors, [])

        names = projected_names("INCLUDE", self.HASH, self.RANGE, ["note_s"])
        expected = expected_entries(scan_table(name), self.HASH, self.RANGE, names)
        self.assertTrue(expected)
        wait_for_index(lambda: scan_index(name, "by_grp_rank"), expected,
                       timeout=SETTLE_TIMEOUT)
        for group in GROUPS:
            with self.subTest(group=group):
                got = query_index(name, "by_grp_rank", "grp_s = :g", {":g": {"S": group}})
                self.assertEqual(sorted(got, key=table_key),
                                 [e for e in expected if e["grp_s"]["S"] == group])

    def test_backfill_skips_items_whose_index_key_has_the_wrong_type(self):
        name = self.new_table("gsitype")
        items = []
        for i in range(60):
            item = {"pk": {"S": "p%02d" % (i % 6)}, "sk": {"S": "s%02d" % i},
                    "grp_s": {"S": GROUPS[i % 2]}, "note_s": {"S": "n%02d" % i}}
            if i % 3 == 0:
                item["rank_n"] = {"N": str(i)}
            elif i % 3 == 1:
                item["rank_n"] = {"S": "r%02d" % i}  # declared N below
            if i % 10 == 0:
                item["grp_s"] = {"N": str(i)}        # declared S below
            items.append(item)
        batch_put(name, items)
        index = gsi("by_grp_rank", "grp_s", "rank_n", "ALL")
        self.create_index(name, index, self.DEFINITIONS)
        wait_for_index_created(name, "by_grp_rank")

        expected = expected_entries(items, self.HASH, self.RANGE, None)
        with_both = [i for i in items if "grp_s" in i and "rank_n" in i]
        self.assertTrue(0 < len(expected) < len(with_both))
        self.assertEqual(scan_index(name, "by_grp_rank"), expected)
        got = query_index(name, "by_grp_rank", "grp_s = :g", {":g": {"S": "g1"}})
        self.assertEqual(sorted(got, key=table_key),
                         [e for e in expected if e["grp_s"]["S"] == "g1"])
        # The items left out of the index are still in the table, unchanged.
        for item in (items[1], items[30]):
            self.assertEqual(self.ddb.get_item(TableName=name, Key=project(item, ["pk", "sk"]),
                                               ConsistentRead=True).get("Item"), item)

        # Once the index exists, a write of the wrong type is refused and writes nothing.
        new_key = {"pk": {"S": "p99"}, "sk": {"S": "new"}}
        for label, values in (("sort key", {"grp_s": {"S": "g0"}, "rank_n": {"S": "x"}}),
                              ("partition key", {"grp_s": {"N": "1"}, "rank_n": {"N": "1"}})):
            with self.subTest(label):
                self.assertClientError("ValidationException", self.ddb.put_item,
                                       TableName=name, Item=dict(new_key, **values))
                self.assertIsNone(self.ddb.get_item(TableName=name, Key=new_key,
                                                    ConsistentRead=True).get("Item"))
        self.assertClientError("ValidationException", self.ddb.update_item, TableName=name,
                               Key=project(items[3], ["pk", "sk"]),
                               UpdateExpression="SET rank_n = :r",
                               ExpressionAttributeValues={":r": {"S": "x"}})
        self.assertEqual(self.ddb.get_item(TableName=name, Key=project(items[3], ["pk", "sk"]),
                                           ConsistentRead=True).get("Item"), items[3])

    def test_creating_and_deleting_an_index_adds_no_stream_records(self):
        name = tw.unique_name("gsistream")
        self._tables_to_drop.append(name)
        tw.create_table(name, range_key=("sk", "S"), stream_view_type="NEW_AND_OLD_IMAGES")
        arn = describe(name)["LatestStreamArn"]

        def key(i):
            return {"pk": {"S": "p%d" % (i % 4)}, "sk": {"S": "s%02d" % i}}

        expected = []  # (eventName, sk) of every base-table write
        for i in range(20):
            item = dict(key(i), note_s={"S": "n%d" % i})
            if i % 2 == 0:
                item["grp_s"] = {"S": GROUPS[i % 4]}
            self.ddb.put_item(TableName=name, Item=item)
            expected.append(("INSERT", "s%02d" % i))
        for i in (1, 2, 3):
            self.ddb.update_item(TableName=name, Key=key(i), UpdateExpression="SET note_s = :n",
                                 ExpressionAttributeValues={":n": {"S": "changed"}})
            expected.append(("MODIFY", "s%02d" % i))
        for i in (4, 5):
            self.ddb.delete_item(TableName=name, Key=key(i))
            expected.append(("REMOVE", "s%02d" % i))

        reader = StreamReader(arn)

        def check_records():
            records = reader.read(len(expected))
            self.assertEqual(sorted((r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"])
                                    for _, r in records), sorted(expected))

        check_records()
        index = gsi("by_grp", "grp_s", None, "ALL")
        self.create_index(name, index, [attribute("grp_s", "S")])
        wait_for_index_created(name, "by_grp")
        self.assertEqual(sorted(i["sk"]["S"] for i in scan_index(name, "by_grp")),
                         ["s%02d" % i for i in range(0, 20, 2) if i != 4])
        # A write after the backfill: its record comes after any the backfill would have made.
        self.ddb.put_item(TableName=name, Item=dict(key(30), grp_s={"S": "g0"}))
        expected.append(("INSERT", "s30"))
        check_records()

        self.delete_index(name, "by_grp")
        wait_for_index_deleted(name, "by_grp")
        self.ddb.put_item(TableName=name, Item=dict(key(31), grp_s={"S": "g1"}))
        expected.append(("INSERT", "s31"))
        check_records()


class DeleteIndexTest(IndexUpdateTestCase):

    def test_delete_index_removes_it_and_its_name_can_be_created_again(self):
        name = self.new_table("gsidrop", [gsi("by_grp", "grp_s", None, "KEYS_ONLY"),
                                          gsi("by_tag", "tag_s", None, "ALL")],
                              [attribute("grp_s", "S"), attribute("tag_s", "S")])
        items = [{"pk": {"S": "p%d" % (i % 5)}, "sk": {"S": "s%02d" % i},
                  "grp_s": {"S": GROUPS[i % 4]}, "tag_s": {"S": "t%d" % (i % 3)},
                  "note_s": {"S": "n%02d" % i}} for i in range(40)]
        batch_put(name, items)
        wait_for_index(lambda: len(scan_index(name, "by_grp")), len(items))
        wait_for_index(lambda: len(scan_index(name, "by_tag")), len(items))

        # Delete one of two: the other stays, ACTIVE and readable.
        self.delete_index(name, "by_grp")
        table = wait_for_index_deleted(name, "by_grp")
        self.assertEqual(list(gsi_descriptions(table)), ["by_tag"])
        self.assertEqual(gsi_descriptions(table)["by_tag"]["IndexStatus"], "ACTIVE")
        self.assertClientError("ValidationException", self.ddb.query, TableName=name,
                               IndexName="by_grp", KeyConditionExpression="grp_s = :g",
                               ExpressionAttributeValues={":g": {"S": "g0"}})
        self.assertClientError("ValidationException", self.ddb.scan, TableName=name,
                               IndexName="by_grp")
        self.assertEqual(scan_index(name, "by_tag"), sorted(items, key=table_key))

        # Writes while the index is gone: deletes, new keys, new items.
        for item in items[:6]:
            self.ddb.delete_item(TableName=name, Key=project(item, ["pk", "sk"]))
        for item in items[6:12]:
            self.ddb.update_item(TableName=name, Key=project(item, ["pk", "sk"]),
                                 UpdateExpression="SET grp_s = :g",
                                 ExpressionAttributeValues={":g": {"S": "moved"}})
        for item in items[12:15]:
            self.ddb.update_item(TableName=name, Key=project(item, ["pk", "sk"]),
                                 UpdateExpression="REMOVE grp_s")
        for i in range(40, 45):
            self.ddb.put_item(TableName=name, Item={"pk": {"S": "p%d" % (i % 5)},
                                                    "sk": {"S": "s%02d" % i},
                                                    "grp_s": {"S": "fresh"}})

        # Delete the last one: no GSI is left.
        self.delete_index(name, "by_tag")
        table = wait_for_index_deleted(name, "by_tag")
        self.assertEqual(table.get("GlobalSecondaryIndexes", []), [])
        self.assertClientError("ValidationException", self.ddb.query, TableName=name,
                               IndexName="by_tag", KeyConditionExpression="tag_s = :t",
                               ExpressionAttributeValues={":t": {"S": "t0"}})

        # The name is free again; the new index (another projection) holds today's items.
        index = gsi("by_grp", "grp_s", None, "INCLUDE", ["note_s"])
        self.create_index(name, index, [attribute("grp_s", "S")])
        table = wait_for_index_created(name, "by_grp")
        self.assertCreated(table, index, [attribute("grp_s", "S")])
        expected = expected_entries(scan_table(name), ("grp_s", "S"), None,
                                    ["pk", "sk", "grp_s", "note_s"])
        self.assertEqual(len(expected), 40 - 6 - 3 + 5)
        self.assertEqual(scan_index(name, "by_grp"), expected)
        for group, count in (("moved", 6), ("fresh", 5)):
            got = query_index(name, "by_grp", "grp_s = :g", {":g": {"S": group}}, page_size=2)
            self.assertEqual(len(got), count)
            self.assertEqual(sorted(got, key=table_key),
                             [e for e in expected if e["grp_s"]["S"] == group])


class IndexUpdateRefusalTest(IndexUpdateTestCase):
    """Refused GlobalSecondaryIndexUpdates, on an on-demand and a provisioned table with one
    GSI each; every refusal leaves DescribeTable's answer as it was."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.on_demand, _ = create_gsi_table(
                cls, "gsiupdref", [attribute("pk", "S"), attribute("sk", "S"),
                                   attribute("grp_s", "S")],
                [gsi("existing", "grp_s", None, "KEYS_ONLY")])
            cls.provisioned, _ = create_gsi_table(
                cls, "gsiupdprov", [attribute("pk", "S"), attribute("sk", "S"),
                                    attribute("grp_s", "S")],
                [gsi("existing", "grp_s", None, "KEYS_ONLY", provisioned=(1, 1))],
                provisioned=(1, 1))
        except BaseException:
            cls.tearDownClass()  # not called when setUpClass fails
            raise

    def assertRefused(self, codes, name, message=None, **request):
        """UpdateTable(name, **request) fails with one of `codes` (its message containing
        `message`) and changes nothing."""
        before = index_state(wait_for_indexes_active(name))
        with self.assertRaises(ClientError) as context:
            self.ddb.update_table(TableName=name, **request)
        error = context.exception.response["Error"]
        self.assertIn(error["Code"], (codes,) if isinstance(codes, str) else codes,
                      "message was: %r" % error.get("Message"))
        if message is not None:
            self.assertIn(message, error.get("Message", ""))
        self.assertEqual(index_state(describe(name)), before)

    def test_create_of_an_existing_index_name_is_refused(self):
        cases = {"same keys": (gsi("existing", "grp_s", None, "KEYS_ONLY"), "grp_s"),
                 "other keys": (gsi("existing", "tag_s", None, "ALL"), "tag_s")}
        for label, (index, key) in cases.items():
            with self.subTest(label):
                self.assertRefused("ValidationException", self.on_demand,
                                   AttributeDefinitions=[attribute(key, "S")],
                                   GlobalSecondaryIndexUpdates=[{"Create": index}])

    def test_delete_of_a_missing_index_is_refused(self):
        self.assertRefused("ResourceNotFoundException", self.on_demand,
                           GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "no_such"}}])

    def test_more_than_one_create_or_delete_in_one_call_is_refused(self):
        cases = {
            "two creates": ([attribute("tag_s", "S"), attribute("code_n", "N")],
                            [{"Create": gsi("by_tag", "tag_s")},
                             {"Create": gsi("by_code", "code_n")}]),
            "a create and a delete": ([attribute("tag_s", "S")],
                                      [{"Create": gsi("by_tag", "tag_s")},
                                       {"Delete": {"IndexName": "existing"}}]),
        }
        for label, (definitions, updates) in cases.items():
            with self.subTest(label):
                self.assertRefused("LimitExceededException", self.on_demand,
                                   AttributeDefinitions=definitions,
                                   GlobalSecondaryIndexUpdates=updates)

    def test_create_with_a_key_attribute_not_defined_is_refused(self):
        cases = {
            "partition key": ([attribute("pk", "S"), attribute("sk", "S")],
                              gsi("by_x", "undefined_x")),
            "sort key": ([attribute("tag_s", "S")], gsi("by_tag_x", "tag_s", "undefined_x")),
        }
        for label, (definitions, index) in cases.items():
            with self.subTest(label):
                self.assertRefused("ValidationException", self.on_demand,
                                   message=UNDEFINED_KEY_MESSAGE,
                                   AttributeDefinitions=definitions,
                                   GlobalSecondaryIndexUpdates=[{"Create": index}])
        with self.subTest("no AttributeDefinitions"):
            self.assertRefused("ValidationException", self.on_demand,
                               GlobalSecondaryIndexUpdates=[{"Create": gsi("by_t", "tag_s")}])

    def test_create_without_throughput_on_a_provisioned_table_is_refused(self):
        self.assertRefused("ValidationException", self.provisioned,
                           AttributeDefinitions=[attribute("tag_s", "S")],
                           GlobalSecondaryIndexUpdates=[{"Create": gsi("by_tag", "tag_s")}])

    def test_create_with_throughput_on_an_on_demand_table_is_refused(self):
        self.assertRefused("ValidationException", self.on_demand,
                           AttributeDefinitions=[attribute("tag_s", "S")],
                           GlobalSecondaryIndexUpdates=[
                               {"Create": gsi("by_tag", "tag_s", provisioned=(1, 1))}])

    def test_update_of_a_missing_index_is_refused(self):
        self.assertRefused("ResourceNotFoundException", self.provisioned,
                           GlobalSecondaryIndexUpdates=[{"Update": {
                               "IndexName": "no_such", "ProvisionedThroughput": throughput(2, 2)}}])

    def test_index_updates_of_a_missing_table_are_refused(self):
        missing = tw.unique_name("gsiupdmissing")
        self._tables_to_drop.append(missing)  # should an endpoint wrongly create it
        cases = {
            "create": {"AttributeDefinitions": [attribute("tag_s", "S")],
                       "GlobalSecondaryIndexUpdates": [{"Create": gsi("by_tag", "tag_s")}]},
            "delete": {"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "existing"}}]},
            "update": {"GlobalSecondaryIndexUpdates": [{"Update": {
                "IndexName": "existing", "ProvisionedThroughput": throughput(2, 2)}}]},
        }
        for label, request in cases.items():
            with self.subTest(label):
                self.assertClientError("ResourceNotFoundException", self.ddb.update_table,
                                       TableName=missing, **request)

    def test_a_twenty_first_gsi_is_refused(self):
        keys = ["g%02d" % i for i in range(21)]
        name, _ = create_gsi_table(self, "gsiupd20",
                                   [attribute("pk", "S"), attribute("sk", "S")]
                                   + [attribute(k, "S") for k in keys[:20]],
                                   [gsi("by_" + k, k, projection_type="KEYS_ONLY")
                                    for k in keys[:20]])
        self.assertRefused(("LimitExceededException", "ValidationException"), name,
                           AttributeDefinitions=[attribute(keys[20], "S")],
                           GlobalSecondaryIndexUpdates=[{"Create": gsi(
                               "by_" + keys[20], keys[20], projection_type="KEYS_ONLY")}])
        self.assertEqual(len(describe(name)["GlobalSecondaryIndexes"]), 20)


class UpdateIndexThroughputTest(IndexUpdateTestCase):

    def test_update_changes_an_index_provisioned_throughput(self):
        name = self.new_table("gsithru", [gsi("by_grp", "grp_s", None, "ALL", provisioned=(1, 1)),
                                          gsi("by_tag", "tag_s", None, "KEYS_ONLY",
                                              provisioned=(1, 1))],
                              [attribute("grp_s", "S"), attribute("tag_s", "S")],
                              provisioned=(1, 1))
        response = self.ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[
            {"Update": {"IndexName": "by_grp", "ProvisionedThroughput": throughput(3, 2)}}])
        self.assertIn("by_grp", gsi_descriptions(response["TableDescription"]))

        def updated(table):
            index = gsi_descriptions(table)["by_grp"]
            units = index["ProvisionedThroughput"]
            return (table["TableStatus"] == "ACTIVE" and index["IndexStatus"] == "ACTIVE"
                    and (units["ReadCapacityUnits"], units["WriteCapacityUnits"]) == (3, 2))

        table = wait_for_table(name, updated, "by_grp with 3 read and 2 write units")
        other = gsi_descriptions(table)["by_tag"]["ProvisionedThroughput"]
        self.assertEqual((other["ReadCapacityUnits"], other["WriteCapacityUnits"]), (1, 1))
        units = table["ProvisionedThroughput"]
        self.assertEqual((units["ReadCapacityUnits"], units["WriteCapacityUnits"]), (1, 1))
        # The index still works.
        item = {"pk": {"S": "a"}, "sk": {"S": "b"}, "grp_s": {"S": "g0"}}
        self.ddb.put_item(TableName=name, Item=item)
        wait_for_index(lambda: query_index(name, "by_grp", "grp_s = :g", {":g": {"S": "g0"}}),
                       [item])


if __name__ == "__main__":
    unittest.main()
