"""Global secondary indexes: CreateTable's GlobalSecondaryIndexes (alone and together with
LocalSecondaryIndexes, on-demand and provisioned) and their validation, the index
descriptions of CreateTable and DescribeTable, Query and Scan with IndexName (index order,
key conditions on the index keys, sparse indexes, projections, Select, pagination over
equal index keys, parallel Scan, and what a GSI refuses: strongly consistent reads and
attributes it does not project), the index kept right by PutItem, UpdateItem, DeleteItem,
BatchWriteItem and TransactWriteItems, DeleteTable, and the index write units of
ReturnConsumedCapacity INDEXES.

A GSI is updated asynchronously (eventually consistent), so a test that writes and then
reads an index polls it with wait_for_index until the expected answer appears."""

import time
import unittest

import tidewater_fixture as tw
from index_helpers import attribute, batch_put, key_element, project, scalar, table_key

# Seconds a write may take to show in a GSI: DynamoDB propagates "within a fraction of a
# second" under normal conditions.
INDEX_TIMEOUT = 10.0

# Attribute names carry an underscore so that none is a DynamoDB reserved word.
INCLUDE_INDEX = "grp_by_rank"     # HASH idx_grp (S), RANGE idx_rank (N), INCLUDE proj_a
KEYS_ONLY_INDEX = "tag_by_label"  # HASH idx_tag (N), RANGE idx_label (S), KEYS_ONLY
ALL_INDEX = "blob_all"            # HASH idx_blob (B), no RANGE, ALL
INDEX_KEYS = {INCLUDE_INDEX: ("idx_grp", "idx_rank"),
              KEYS_ONLY_INDEX: ("idx_tag", "idx_label"),
              ALL_INDEX: ("idx_blob", None)}
INDEX_PROJECTION = {INCLUDE_INDEX: ("pk", "sk", "idx_grp", "idx_rank", "proj_a"),
                    KEYS_ONLY_INDEX: ("pk", "sk", "idx_tag", "idx_label"),
                    ALL_INDEX: None}

CONSISTENT_READ_MESSAGE = "Consistent reads are not supported on global secondary indexes"


def throughput(read, write):
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}


def gsi(name, hash_attribute, range_attribute=None, projection_type="ALL",
        non_key_attributes=None, provisioned=None):
    """A GlobalSecondaryIndexes entry; `provisioned` is (read, write) units."""
    schema = [key_element(hash_attribute, "HASH")]
    if range_attribute is not None:
        schema.append(key_element(range_attribute, "RANGE"))
    projection = {"ProjectionType": projection_type}
    if non_key_attributes is not None:
        projection["NonKeyAttributes"] = non_key_attributes
    index = {"IndexName": name, "KeySchema": schema, "Projection": projection}
    if provisioned is not None:
        index["ProvisionedThroughput"] = throughput(*provisioned)
    return index


def lsi(name, range_attribute, projection_type="ALL"):
    return {"IndexName": name,
            "KeySchema": [key_element("pk", "HASH"), key_element(range_attribute, "RANGE")],
            "Projection": {"ProjectionType": projection_type}}


def table_request(name, attributes, gsis, lsis=None, range_key=True, provisioned=None):
    """A CreateTable request: pk (S) [+ sk (S)], the given attribute definitions and indexes;
    on-demand unless `provisioned` gives the table's (read, write) units."""
    schema = [key_element("pk", "HASH")]
    if range_key:
        schema.append(key_element("sk", "RANGE"))
    request = {"TableName": name, "KeySchema": schema, "AttributeDefinitions": attributes,
               "GlobalSecondaryIndexes": gsis}
    if lsis is not None:
        request["LocalSecondaryIndexes"] = lsis
    if provisioned is None:
        request["BillingMode"] = "PAY_PER_REQUEST"
    else:
        request["BillingMode"] = "PROVISIONED"
        request["ProvisionedThroughput"] = throughput(*provisioned)
    return request


def wait_for_indexes_active(name):
    """DescribeTable until the table and every one of its GSIs are ACTIVE; returns the table."""
    deadline = time.monotonic() + tw.STATE_TIMEOUT
    while True:
        table = tw.dynamodb().describe_table(TableName=name)["Table"]
        statuses = [i.get("IndexStatus") for i in table.get("GlobalSecondaryIndexes", [])]
        if table["TableStatus"] == "ACTIVE" and all(s == "ACTIVE" for s in statuses):
            return table
        if time.monotonic() > deadline:
            raise AssertionError("table %s is %s, its indexes %s, after %ss" %
                                 (name, table["TableStatus"], statuses, tw.STATE_TIMEOUT))
        time.sleep(0.2)


def create_gsi_table(cls, prefix, attributes, gsis, **kwargs):
    """Creates a table with GSIs that the test class drops afterwards; waits until it and its
    indexes are ACTIVE. Returns (name, CreateTable response)."""
    name = tw.unique_name(prefix)
    cls._tables_to_drop.append(name)
    response = tw.dynamodb().create_table(**table_request(name, attributes, gsis, **kwargs))
    wait_for_indexes_active(name)
    return name, response


def wait_for_index(read, expected, timeout=INDEX_TIMEOUT):
    """Calls read() (a Query or Scan of a GSI) until it returns `expected`, as a GSI is
    eventually consistent; returns it, or fails with the last answer after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = read()
        if got == expected:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("the index did not show the expected result within %ss:\n"
                                 "expected %r\n     got %r" % (timeout, expected, got))
        time.sleep(0.05)


def all_pages(call, **request):
    """Items of every page of a Query or Scan, following LastEvaluatedKey."""
    items = []
    for _ in range(1000):
        page = call(**request)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    raise AssertionError("pagination does not end")


RANKS = [5, 2, 9, None, 0, 7, 3, 8, None, 1, 6, 4]
LABELS = ["red#2", "blue#1", "red#10", "green", None, "blue#3", "red#1", "amber", "blue#2",
          None, "red#3", "cyan"]
SHARED = 13


def fixture_items():
    """Twelve items over six table partitions: idx_grp "g1" (nine, two without idx_rank, so
    not in grp_by_rank) and "g2" (three), unique ranks within each; idx_tag 0 and 1 (the
    even and odd items), unique labels, two items without idx_label; idx_blob 0xff on every
    fourth. Then thirteen items that share every index key: idx_grp "g3" with idx_rank 5,
    idx_tag 2 with idx_label "same", idx_blob 0x0102 (a GSI key is not unique)."""
    items = []
    for i in range(12):
        item = {"pk": {"S": "t%02d" % (i % 6)}, "sk": {"S": "v%d" % (i // 6)},
                "idx_grp": {"S": "g1" if i < 9 else "g2"}, "idx_tag": {"N": str(i % 2)},
                "proj_a": {"S": "pa-%02d" % i}, "other_b": {"S": "ob-%02d" % i},
                "is_even": {"BOOL": i % 2 == 0}}
        if RANKS[i] is not None:
            item["idx_rank"] = {"N": str(RANKS[i])}
        if LABELS[i] is not None:
            item["idx_label"] = {"S": LABELS[i]}
        if i % 4 == 0:
            item["idx_blob"] = {"B": b"\xff"}
        items.append(item)
    for j in range(SHARED):
        items.append({"pk": {"S": "s%02d" % j}, "sk": {"S": "w"}, "idx_grp": {"S": "g3"},
                      "idx_rank": {"N": "5"}, "idx_tag": {"N": "2"},
                      "idx_label": {"S": "same"}, "idx_blob": {"B": b"\x01\x02"},
                      "proj_a": {"S": "sa-%02d" % j}, "other_b": {"S": "sb-%02d" % j},
                      "is_even": {"BOOL": j % 2 == 0}})
    return items


class GlobalSecondaryIndexCreateTest(tw.ConformanceTestCase):
    """CreateTable with GlobalSecondaryIndexes, the index descriptions of CreateTable and
    DescribeTable, and the CreateTable rules, each refused with ValidationException."""

    def assertDescribes(self, description, indexes, final):
        """`description` (CreateTable's or DescribeTable's) describes exactly `indexes`."""
        described = {i["IndexName"]: i for i in description["GlobalSecondaryIndexes"]}
        self.assertEqual(set(described), {i["IndexName"] for i in indexes})
        for index in indexes:
            got = described[index["IndexName"]]
            self.assertEqual(got["KeySchema"], index["KeySchema"])
            self.assertEqual(got["Projection"]["ProjectionType"],
                             index["Projection"]["ProjectionType"])
            self.assertEqual(sorted(got["Projection"].get("NonKeyAttributes", [])),
                             sorted(index["Projection"].get("NonKeyAttributes", [])))
            self.assertEqual(got["IndexArn"],
                             description["TableArn"] + "/index/" + index["IndexName"])
            expected = index.get("ProvisionedThroughput", throughput(0, 0))
            self.assertEqual(got["ProvisionedThroughput"]["ReadCapacityUnits"],
                             expected["ReadCapacityUnits"])
            self.assertEqual(got["ProvisionedThroughput"]["WriteCapacityUnits"],
                             expected["WriteCapacityUnits"])
            if final:
                self.assertEqual(got["IndexStatus"], "ACTIVE")
                # DynamoDB refreshes both about every six hours: only their presence is certain.
                self.assertIsInstance(got["IndexSizeBytes"], int)
                self.assertIsInstance(got["ItemCount"], int)
                self.assertGreaterEqual(got["IndexSizeBytes"], 0)
                self.assertGreaterEqual(got["ItemCount"], 0)
            else:
                self.assertIn(got["IndexStatus"], ("CREATING", "ACTIVE"))

    def assertAttributeDefinitions(self, description, attributes):
        self.assertEqual(
            sorted(description["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
            sorted(attributes, key=lambda a: a["AttributeName"]))

    def test_describe_table_shows_on_demand_gsis(self):
        attributes = [attribute("pk", "S"), attribute("sk", "S"), attribute("idx_s", "S"),
                      attribute("idx_n", "N"), attribute("idx_b", "B")]
        indexes = [gsi("keys_by_b", "idx_b", projection_type="KEYS_ONLY"),
                   gsi("incl_by_n_s", "idx_n", "idx_s", "INCLUDE", ["colour", "size"]),
                   # The table's sort key as the index's partition key, and the other way round.
                   gsi("all_by_sk", "sk", "pk", "ALL")]
        name, created = create_gsi_table(self, "gsidesc", attributes, indexes)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"},
                                                "idx_n": {"N": "3"}, "idx_s": {"S": "x"},
                                                "idx_b": {"B": b"\x00\x01"},
                                                "colour": {"S": "red"}})
        table = self.ddb.describe_table(TableName=name)["Table"]
        self.assertDescribes(created["TableDescription"], indexes, final=False)
        self.assertDescribes(table, indexes, final=True)
        for description in (created["TableDescription"], table):
            self.assertAttributeDefinitions(description, attributes)
            self.assertNotIn("LocalSecondaryIndexes", description)

    def test_provisioned_table_gsis_have_their_own_throughput(self):
        attributes = [attribute("pk", "S"), attribute("sk", "S"), attribute("idx_s", "S"),
                      attribute("idx_n", "N")]
        indexes = [gsi("by_n", "idx_n", provisioned=(3, 4)),
                   gsi("by_s_n", "idx_s", "idx_n", "KEYS_ONLY", provisioned=(2, 1))]
        name, created = create_gsi_table(self, "gsiprov", attributes, indexes,
                                         provisioned=(5, 6))
        table = self.ddb.describe_table(TableName=name)["Table"]
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 5)
        self.assertEqual(table["ProvisionedThroughput"]["WriteCapacityUnits"], 6)
        self.assertDescribes(created["TableDescription"], indexes, final=False)
        self.assertDescribes(table, indexes, final=True)
        self.assertAttributeDefinitions(table, attributes)

    def test_gsis_together_with_lsis(self):
        attributes = [attribute("pk", "S"), attribute("sk", "S"), attribute("idx_s", "S"),
                      attribute("idx_n", "N")]
        gsis = [gsi("gsi_by_s", "idx_s", "sk", "ALL"),
                # A GSI may use the table's partition key as its own.
                gsi("gsi_by_pk_n", "pk", "idx_n", "KEYS_ONLY")]
        lsis = [lsi("lsi_by_s", "idx_s", "KEYS_ONLY")]
        name, created = create_gsi_table(self, "gsilsi", attributes, gsis, lsis=lsis)
        table = self.ddb.describe_table(TableName=name)["Table"]
        self.assertDescribes(table, gsis, final=True)
        self.assertEqual([i["IndexName"] for i in table["LocalSecondaryIndexes"]],
                         ["lsi_by_s"])
        self.assertAttributeDefinitions(table, attributes)
        items = [{"pk": {"S": "p"}, "sk": {"S": "s%d" % i}, "idx_s": {"S": "v%d" % (3 - i)},
                  "idx_n": {"N": str(10 - i)}} for i in range(3)]
        for item in items:
            self.ddb.put_item(TableName=name, Item=item)
        lsi_sks = [i["sk"]["S"] for i in self.ddb.query(
            TableName=name, IndexName="lsi_by_s", ConsistentRead=True,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}})["Items"]]
        self.assertEqual(lsi_sks, ["s2", "s1", "s0"])
        wait_for_index(lambda: self.ddb.query(
            TableName=name, IndexName="gsi_by_s", KeyConditionExpression="idx_s = :v",
            ExpressionAttributeValues={":v": {"S": "v2"}})["Items"], [items[1]])
        wait_for_index(lambda: [i["sk"]["S"] for i in self.ddb.query(
            TableName=name, IndexName="gsi_by_pk_n", KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}})["Items"]], ["s2", "s1", "s0"])

    def test_twenty_gsis_are_accepted(self):
        keys = ["g%02d" % i for i in range(20)]
        name, _ = create_gsi_table(self, "gsitwenty",
                                   [attribute("pk", "S"), attribute("sk", "S")]
                                   + [attribute(k, "S") for k in keys],
                                   [gsi("by_" + k, k, projection_type="KEYS_ONLY")
                                    for k in keys])
        table = self.ddb.describe_table(TableName=name)["Table"]
        self.assertEqual(sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]),
                         ["by_" + k for k in keys])

    def assertCreateRefused(self, request, message=None):
        # Dropped afterwards should an endpoint wrongly create it.
        self._tables_to_drop.append(request["TableName"])
        self.assertClientError("ValidationException", self.ddb.create_table, message=message,
                               **request)

    def test_more_than_twenty_gsis_are_refused(self):
        keys = ["g%02d" % i for i in range(21)]
        self.assertCreateRefused(table_request(
            tw.unique_name("gsimany"),
            [attribute("pk", "S"), attribute("sk", "S")] + [attribute(k, "S") for k in keys],
            [gsi("by_" + k, k, projection_type="KEYS_ONLY") for k in keys]))

    def test_duplicate_gsi_names_are_refused(self):
        request = table_request(tw.unique_name("gsidup"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("g1", "S"), attribute("g2", "S")],
                                [gsi("dup", "g1"), gsi("dup", "g2")])
        self.assertCreateRefused(
            request,
            message="One or more parameter values were invalid: Duplicate index name: dup")

    def test_gsi_named_like_an_lsi_is_refused(self):
        request = table_request(tw.unique_name("gsilsidup"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("g1", "S"), attribute("l1", "S")],
                                [gsi("same_name", "g1")], lsis=[lsi("same_name", "l1")])
        self.assertCreateRefused(
            request,
            message="One or more parameter values were invalid: Duplicate index name: "
                    "same_name")

    def test_gsi_key_attribute_missing_from_attribute_definitions_is_refused(self):
        table_keys = [attribute("pk", "S"), attribute("sk", "S")]
        cases = {"hash": (table_keys, gsi("by_x", "idx_x")),
                 "range": (table_keys + [attribute("idx_s", "S")],
                           gsi("by_s_x", "idx_s", "idx_x"))}
        for label, (attributes, index) in cases.items():
            with self.subTest(label):
                request = table_request(tw.unique_name("gsiundef"), attributes, [index])
                self.assertCreateRefused(
                    request, message="Some index key attributes are not defined in "
                                     "AttributeDefinitions")

    def test_unused_attribute_definition_is_refused(self):
        request = table_request(tw.unique_name("gsiunused"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("idx_s", "S"), attribute("extra_a", "S")],
                                [gsi("by_s", "idx_s")])
        self.assertCreateRefused(request, message="Some AttributeDefinitions are not used")

    def test_include_without_non_key_attributes_is_refused(self):
        request = table_request(tw.unique_name("gsiinc"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("idx_s", "S")],
                                [gsi("by_s", "idx_s", projection_type="INCLUDE")])
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: ProjectionType is "
                             "INCLUDE, but NonKeyAttributes is not specified")

    def test_gsi_without_throughput_on_provisioned_table_is_refused(self):
        request = table_request(tw.unique_name("gsinotp"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("idx_n", "N")],
                                [gsi("by_n", "idx_n")], provisioned=(5, 5))
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: ProvisionedThroughput "
                             "is not specified for index: by_n")

    def test_gsi_with_throughput_on_on_demand_table_is_refused(self):
        request = table_request(tw.unique_name("gsiondemandtp"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("idx_n", "N")],
                                [gsi("by_n", "idx_n", provisioned=(1, 1))])
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: ProvisionedThroughput "
                             "should not be specified for index: by_n when BillingMode is "
                             "PAY_PER_REQUEST")

    def test_gsi_key_schema_must_be_hash_then_range(self):
        cases = {
            "two HASH keys": [key_element("idx_s", "HASH"), key_element("idx_n", "HASH")],
            "RANGE first": [key_element("idx_n", "RANGE"), key_element("idx_s", "HASH")],
        }
        for label, schema in cases.items():
            with self.subTest(label):
                index = {"IndexName": "bad_keys", "KeySchema": schema,
                         "Projection": {"ProjectionType": "ALL"}}
                request = table_request(tw.unique_name("gsischema"),
                                        [attribute("pk", "S"), attribute("sk", "S"),
                                         attribute("idx_s", "S"), attribute("idx_n", "N")],
                                        [index])
                self.assertCreateRefused(request)


class GlobalSecondaryIndexReadTest(tw.ConformanceTestCase):
    """Query and Scan through a table's three GSIs (INCLUDE with an S partition key and N sort
    key, KEYS_ONLY with N and S, ALL with a B partition key only); the table is loaded once,
    waited for until every index shows it, and never written by the tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        attributes = [attribute("pk", "S"), attribute("sk", "S"), attribute("idx_grp", "S"),
                      attribute("idx_rank", "N"), attribute("idx_tag", "N"),
                      attribute("idx_label", "S"), attribute("idx_blob", "B")]
        indexes = [gsi(INCLUDE_INDEX, "idx_grp", "idx_rank", "INCLUDE", ["proj_a"]),
                   gsi(KEYS_ONLY_INDEX, "idx_tag", "idx_label", "KEYS_ONLY"),
                   gsi(ALL_INDEX, "idx_blob", None, "ALL")]
        try:
            cls.table, _ = create_gsi_table(cls, "gsiread", attributes, indexes)
            cls.items = fixture_items()
            batch_put(cls.table, cls.items)
            for index in INDEX_KEYS:
                expected = sorted(table_key(i) for i in cls.indexed(index))
                wait_for_index(lambda: sorted(table_key(i) for i in cls.scan_all(index)),
                               expected)
        except BaseException:
            cls.tearDownClass()  # not called when setUpClass fails
            raise

    @classmethod
    def scan_all(cls, index, **kwargs):
        return all_pages(tw.dynamodb().scan, TableName=cls.table, IndexName=index, **kwargs)

    @classmethod
    def indexed(cls, index, hash_value=None, where=lambda item: True):
        """The fixture items in `index` (with the given partition key value), in index order
        (items with equal index keys in table key order: DynamoDB leaves theirs open)."""
        hash_attr, range_attr = INDEX_KEYS[index]
        chosen = [i for i in cls.items if hash_attr in i and (range_attr is None
                                                              or range_attr in i)
                  and (hash_value is None or i[hash_attr] == hash_value) and where(i)]
        return sorted(chosen, key=lambda i: (scalar(i[hash_attr]),
                                             scalar(i[range_attr]) if range_attr else 0,
                                             table_key(i)))

    def query(self, index, condition, values, **kwargs):
        return self.ddb.query(TableName=self.table, IndexName=index,
                              KeyConditionExpression=condition,
                              ExpressionAttributeValues=values, **kwargs)

    def sks(self, items):
        return [table_key(i) for i in items]

    def test_query_returns_items_in_index_sort_key_order(self):
        cases = [(INCLUDE_INDEX, "idx_grp = :h", {"S": "g1"}),
                 (INCLUDE_INDEX, "idx_grp = :h", {"S": "g2"}),
                 (KEYS_ONLY_INDEX, "idx_tag = :h", {"N": "0"}),
                 (KEYS_ONLY_INDEX, "idx_tag = :h", {"N": "1"})]
        for index, condition, value in cases:
            expected = [project(i, INDEX_PROJECTION[index])
                        for i in self.indexed(index, value)]
            self.assertGreaterEqual(len(expected), 3)
            for forward in (True, False):
                with self.subTest(index, value=value, forward=forward):
                    response = self.query(index, condition, {":h": value},
                                          ScanIndexForward=forward)
                    self.assertEqual(response["Items"], expected if forward else expected[::-1])
                    self.assertEqual(response["Count"], len(expected))
                    self.assertEqual(response["ScannedCount"], len(expected))
                    self.assertNotIn("LastEvaluatedKey", response)

    def test_query_spans_table_partitions(self):
        # g1's entries come from items under several table partition keys.
        expected = {i["pk"]["S"] for i in self.indexed(INCLUDE_INDEX, {"S": "g1"})}
        self.assertGreater(len(expected), 1)
        response = self.query(INCLUDE_INDEX, "idx_grp = :h", {":h": {"S": "g1"}})
        self.assertEqual({i["pk"]["S"] for i in response["Items"]}, expected)

    def test_key_conditions_on_index_sort_key(self):
        def rank(predicate):
            return lambda item: predicate(int(item["idx_rank"]["N"]))

        def label(predicate):
            return lambda item: predicate(item["idx_label"]["S"])

        g1, tag0, tag1 = {":h": {"S": "g1"}}, {":h": {"N": "0"}}, {":h": {"N": "1"}}
        cases = [
            (INCLUDE_INDEX, g1, "idx_grp = :h AND idx_rank = :a", {":a": {"N": "7"}},
             rank(lambda v: v == 7)),
            (INCLUDE_INDEX, g1, "idx_grp = :h AND idx_rank < :a", {":a": {"N": "5"}},
             rank(lambda v: v < 5)),
            (INCLUDE_INDEX, g1, "idx_grp = :h AND idx_rank <= :a", {":a": {"N": "5"}},
             rank(lambda v: v <= 5)),
            (INCLUDE_INDEX, g1, "idx_grp = :h AND idx_rank > :a", {":a": {"N": "7"}},
             rank(lambda v: v > 7)),
            (INCLUDE_INDEX, g1, "idx_grp = :h AND idx_rank >= :a", {":a": {"N": "7"}},
             rank(lambda v: v >= 7)),
            (INCLUDE_INDEX, g1, "idx_grp = :h AND idx_rank BETWEEN :a AND :b",
             {":a": {"N": "2"}, ":b": {"N": "7"}}, rank(lambda v: 2 <= v <= 7)),
            (KEYS_ONLY_INDEX, tag0, "idx_tag = :h AND begins_with(idx_label, :a)",
             {":a": {"S": "red#"}}, label(lambda v: v.startswith("red#"))),
            (KEYS_ONLY_INDEX, tag1, "idx_tag = :h AND idx_label BETWEEN :a AND :b",
             {":a": {"S": "blue#"}, ":b": {"S": "cyan"}},
             label(lambda v: "blue#" <= v <= "cyan")),
            (KEYS_ONLY_INDEX, tag0, "idx_tag = :h AND idx_label < :a", {":a": {"S": "red#2"}},
             label(lambda v: v < "red#2")),
        ]
        for index, hash_values, condition, values, where in cases:
            with self.subTest(index, condition=condition, values=values):
                expected = self.indexed(index, hash_values[":h"], where)
                self.assertTrue(expected)
                response = self.query(index, condition, dict(values, **hash_values))
                self.assertEqual(self.sks(response["Items"]), self.sks(expected))
                self.assertEqual(response["ScannedCount"], len(expected))

    def test_hash_only_binary_index_returns_every_item_with_the_key(self):
        for value in ({"B": b"\xff"}, {"B": b"\x01\x02"}):
            with self.subTest(value=value):
                response = self.query(ALL_INDEX, "idx_blob = :h", {":h": value})
                expected = self.indexed(ALL_INDEX, value)
                # ALL projects whole items; equal index keys come in no documented order.
                self.assertEqual(sorted(response["Items"], key=table_key), expected)
        response = self.query(ALL_INDEX, "idx_blob = :h", {":h": {"B": b"\x00"}})
        self.assertEqual((response["Items"], response["Count"]), ([], 0))

    def test_sparse_index_scan_leaves_out_items_without_its_keys(self):
        for index in INDEX_KEYS:
            with self.subTest(index):
                scanned = self.scan_all(index)
                expected = self.indexed(index)
                self.assertEqual(sorted(scanned, key=table_key),
                                 sorted((project(i, INDEX_PROJECTION[index]) for i in expected),
                                        key=table_key))
        # t03/v0 has no idx_rank (INCLUDE), t04/v0 and t03/v1 no idx_label (KEYS_ONLY),
        # t01/v0 no idx_blob (ALL).
        self.assertNotIn(("t03", "v0"), self.sks(self.scan_all(INCLUDE_INDEX)))
        self.assertNotIn(("t04", "v0"), self.sks(self.scan_all(KEYS_ONLY_INDEX)))
        self.assertNotIn(("t03", "v1"), self.sks(self.scan_all(KEYS_ONLY_INDEX)))
        self.assertNotIn(("t01", "v0"), self.sks(self.scan_all(ALL_INDEX)))
        response = self.ddb.scan(TableName=self.table, IndexName=INCLUDE_INDEX)
        self.assertEqual(response["Count"], len(self.indexed(INCLUDE_INDEX)))
        self.assertEqual(response["ScannedCount"], len(self.indexed(INCLUDE_INDEX)))

    def test_filter_expression_on_index_query(self):
        response = self.query(ALL_INDEX, "idx_blob = :h",
                              {":h": {"B": b"\x01\x02"}, ":t": {"BOOL": True}},
                              FilterExpression="is_even = :t")
        expected = self.indexed(ALL_INDEX, {"B": b"\x01\x02"}, lambda i: i["is_even"]["BOOL"])
        self.assertEqual(sorted(response["Items"], key=table_key), expected)
        self.assertEqual(response["Count"], len(expected))
        self.assertEqual(response["ScannedCount"], SHARED)
        # A filter on an attribute the INCLUDE index projects.
        response = self.query(INCLUDE_INDEX, "idx_grp = :h",
                              {":h": {"S": "g1"}, ":a": {"S": "pa-05"}},
                              FilterExpression="proj_a < :a")
        expected = self.indexed(INCLUDE_INDEX, {"S": "g1"},
                                lambda i: i["proj_a"]["S"] < "pa-05")
        self.assertTrue(0 < len(expected) < len(self.indexed(INCLUDE_INDEX, {"S": "g1"})))
        self.assertEqual(response["Items"],
                         [project(i, INDEX_PROJECTION[INCLUDE_INDEX]) for i in expected])
        self.assertEqual(response["ScannedCount"], len(self.indexed(INCLUDE_INDEX,
                                                                    {"S": "g1"})))

    def test_projection_expression_of_projected_attributes(self):
        g1 = self.indexed(INCLUDE_INDEX, {"S": "g1"})
        response = self.query(INCLUDE_INDEX, "idx_grp = :h", {":h": {"S": "g1"}},
                              ProjectionExpression="proj_a, idx_rank")
        self.assertEqual(response["Items"], [project(i, ("proj_a", "idx_rank")) for i in g1])
        response = self.query(INCLUDE_INDEX, "idx_grp = :h", {":h": {"S": "g1"}},
                              Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="sk, idx_grp")
        self.assertEqual(response["Items"], [project(i, ("sk", "idx_grp")) for i in g1])
        response = self.query(KEYS_ONLY_INDEX, "idx_tag = :h", {":h": {"N": "1"}},
                              ProjectionExpression="#l, pk",
                              ExpressionAttributeNames={"#l": "idx_label"})
        self.assertEqual(response["Items"],
                         [project(i, ("idx_label", "pk"))
                          for i in self.indexed(KEYS_ONLY_INDEX, {"N": "1"})])
        # ALL projects every attribute.
        response = self.ddb.scan(TableName=self.table, IndexName=ALL_INDEX,
                                 ProjectionExpression="other_b")
        self.assertEqual(sorted(i["other_b"]["S"] for i in response["Items"]),
                         sorted(i["other_b"]["S"] for i in self.indexed(ALL_INDEX)))

    def test_select_count_on_index(self):
        response = self.query(INCLUDE_INDEX, "idx_grp = :h", {":h": {"S": "g1"}},
                              Select="COUNT")
        self.assertNotIn("Items", response)
        self.assertEqual(response["Count"], len(self.indexed(INCLUDE_INDEX, {"S": "g1"})))
        self.assertEqual(response["ScannedCount"], response["Count"])
        response = self.query(KEYS_ONLY_INDEX, "idx_tag = :h AND idx_label = :l",
                              {":h": {"N": "2"}, ":l": {"S": "same"}}, Select="COUNT")
        self.assertEqual((response["Count"], response["ScannedCount"]), (SHARED, SHARED))
        response = self.ddb.scan(TableName=self.table, IndexName=KEYS_ONLY_INDEX,
                                 Select="COUNT")
        self.assertNotIn("Items", response)
        self.assertEqual(response["Count"], len(self.indexed(KEYS_ONLY_INDEX)))

    def test_select_all_projected_attributes_returns_the_projection(self):
        for index, condition, value in ((INCLUDE_INDEX, "idx_grp = :h", {"S": "g2"}),
                                        (KEYS_ONLY_INDEX, "idx_tag = :h", {"N": "0"})):
            with self.subTest(index):
                expected = [project(i, INDEX_PROJECTION[index])
                            for i in self.indexed(index, value)]
                for select in ({}, {"Select": "ALL_PROJECTED_ATTRIBUTES"}):
                    response = self.query(index, condition, {":h": value}, **select)
                    self.assertEqual(response["Items"], expected)
                    for item in response["Items"]:
                        self.assertNotIn("other_b", item)

    def test_select_all_attributes_on_an_all_index_returns_whole_items(self):
        response = self.query(ALL_INDEX, "idx_blob = :h", {":h": {"B": b"\xff"}},
                              Select="ALL_ATTRIBUTES")
        self.assertEqual(sorted(response["Items"], key=table_key),
                         self.indexed(ALL_INDEX, {"B": b"\xff"}))

    def test_select_all_attributes_on_a_partial_projection_is_refused(self):
        for index, condition, value in ((INCLUDE_INDEX, "idx_grp = :h", {"S": "g1"}),
                                        (KEYS_ONLY_INDEX, "idx_tag = :h", {"N": "0"})):
            message = ("One or more parameter values were invalid: Select type ALL_ATTRIBUTES "
                       "is not supported for global secondary index %s because its "
                       "projection type is not ALL" % index)
            with self.subTest(index):
                self.assertClientError("ValidationException", self.query, index, condition,
                                       {":h": value}, Select="ALL_ATTRIBUTES", message=message)
                self.assertClientError("ValidationException", self.ddb.scan,
                                       TableName=self.table, IndexName=index,
                                       Select="ALL_ATTRIBUTES", message=message)

    def test_attributes_the_index_does_not_project_are_refused(self):
        # Unlike an LSI, a GSI never fetches attributes from the table.
        g1 = (INCLUDE_INDEX, "idx_grp = :h", {":h": {"S": "g1"}})
        tag0 = (KEYS_ONLY_INDEX, "idx_tag = :h", {":h": {"N": "0"}})
        cases = {
            "table attribute on KEYS_ONLY": (tag0, {"ProjectionExpression": "other_b"}),
            "INCLUDE's attribute on KEYS_ONLY": (tag0, {"ProjectionExpression": "sk, proj_a"}),
            "SPECIFIC_ATTRIBUTES with one not projected": (
                g1, {"Select": "SPECIFIC_ATTRIBUTES", "ProjectionExpression": "proj_a, other_b"}),
            "another index's key": (g1, {"ProjectionExpression": "idx_label"}),
        }
        for label, ((index, condition, values), kwargs) in cases.items():
            with self.subTest(label):
                self.assertClientError("ValidationException", self.query, index, condition,
                                       values, **kwargs)
        self.assertClientError("ValidationException", self.ddb.scan, TableName=self.table,
                               IndexName=INCLUDE_INDEX, ProjectionExpression="sk, other_b")

    def test_consistent_read_on_a_gsi_is_refused(self):
        self.assertClientError("ValidationException", self.query, INCLUDE_INDEX,
                               "idx_grp = :h", {":h": {"S": "g1"}}, ConsistentRead=True,
                               message=CONSISTENT_READ_MESSAGE)
        self.assertClientError("ValidationException", self.ddb.scan, TableName=self.table,
                               IndexName=ALL_INDEX, ConsistentRead=True,
                               message=CONSISTENT_READ_MESSAGE)
        # An eventually consistent read, asked for explicitly, is fine.
        response = self.query(INCLUDE_INDEX, "idx_grp = :h", {":h": {"S": "g2"}},
                              ConsistentRead=False)
        self.assertEqual(response["Count"], 3)

    def test_query_with_unknown_index_is_refused(self):
        message = "The table does not have the specified index: no_such_index"
        self.assertClientError("ValidationException", self.query, "no_such_index",
                               "idx_grp = :h", {":h": {"S": "g1"}}, message=message)
        self.assertClientError("ValidationException", self.ddb.scan, TableName=self.table,
                               IndexName="no_such_index", message=message)

    def test_key_condition_must_use_the_index_keys(self):
        cases = {
            "table partition key on a GSI": (INCLUDE_INDEX, "pk = :a", {":a": {"S": "t00"}}),
            "no index partition key": (INCLUDE_INDEX, "idx_rank = :a", {":a": {"N": "5"}}),
            "other GSI's sort key": (INCLUDE_INDEX, "idx_grp = :h AND idx_label = :a",
                                     {":h": {"S": "g1"}, ":a": {"S": "red#1"}}),
            "index partition key of the wrong type": (KEYS_ONLY_INDEX, "idx_tag = :h",
                                                      {":h": {"S": "0"}}),
            "sort key condition on a hash-only index": (
                ALL_INDEX, "idx_blob = :h AND pk = :a",
                {":h": {"B": b"\xff"}, ":a": {"S": "t00"}}),
        }
        for label, (index, condition, values) in cases.items():
            with self.subTest(label):
                self.assertClientError("ValidationException", self.query, index, condition,
                                       values)

    def page_through(self, call, page_size, key_names, **request):
        """Every page of `call` with Limit `page_size`; checks each LastEvaluatedKey holds the
        table's and the index's keys, those of the page's last item. Returns (items, calls)."""
        collected, calls = [], 0
        request["Limit"] = page_size
        while True:
            page = call(**request)
            calls += 1
            self.assertLess(calls, 100, "pagination does not end")
            self.assertLessEqual(len(page["Items"]), page_size)
            collected += page["Items"]
            if "LastEvaluatedKey" not in page:
                return collected, calls
            last_key = page["LastEvaluatedKey"]
            self.assertEqual(set(last_key), set(key_names))
            self.assertEqual(last_key, project(page["Items"][-1], key_names))
            request["ExclusiveStartKey"] = last_key

    def test_query_pagination_over_equal_index_keys(self):
        cases = [(INCLUDE_INDEX, "idx_grp = :h AND idx_rank = :r",
                  {":h": {"S": "g3"}, ":r": {"N": "5"}}, {"S": "g3"}, 4),
                 (KEYS_ONLY_INDEX, "idx_tag = :h", {":h": {"N": "2"}}, {"N": "2"}, 5),
                 (ALL_INDEX, "idx_blob = :h", {":h": {"B": b"\x01\x02"}}, {"B": b"\x01\x02"},
                  3)]
        for index, condition, values, hash_value, page_size in cases:
            hash_attr, range_attr = INDEX_KEYS[index]
            key_names = ["pk", "sk", hash_attr] + ([range_attr] if range_attr else [])
            expected = sorted(self.sks(self.indexed(index, hash_value)))
            self.assertEqual(len(expected), SHARED)
            for forward in (True, False):
                with self.subTest(index, forward=forward):
                    collected, calls = self.page_through(
                        self.ddb.query, page_size, key_names, TableName=self.table,
                        IndexName=index, KeyConditionExpression=condition,
                        ExpressionAttributeValues=values, ScanIndexForward=forward)
                    self.assertGreaterEqual(calls, SHARED // page_size)
                    keys = self.sks(collected)
                    self.assertEqual(len(keys), len(set(keys)), "an item came twice")
                    self.assertEqual(sorted(keys), expected)

    def test_query_pagination_keeps_index_order(self):
        expected = self.sks(self.indexed(INCLUDE_INDEX, {"S": "g1"}))
        for forward in (True, False):
            with self.subTest(forward=forward):
                collected, calls = self.page_through(
                    self.ddb.query, 2, ["pk", "sk", "idx_grp", "idx_rank"],
                    TableName=self.table, IndexName=INCLUDE_INDEX,
                    KeyConditionExpression="idx_grp = :h",
                    ExpressionAttributeValues={":h": {"S": "g1"}}, ScanIndexForward=forward)
                self.assertGreaterEqual(calls, 4)
                self.assertEqual(self.sks(collected), expected if forward else expected[::-1])

    def test_scan_pagination_returns_every_entry_once(self):
        for index in INDEX_KEYS:
            hash_attr, range_attr = INDEX_KEYS[index]
            key_names = ["pk", "sk", hash_attr] + ([range_attr] if range_attr else [])
            with self.subTest(index):
                collected, calls = self.page_through(self.ddb.scan, 4, key_names,
                                                     TableName=self.table, IndexName=index)
                keys = self.sks(collected)
                self.assertGreaterEqual(calls, len(self.indexed(index)) // 4)
                self.assertEqual(len(keys), len(set(keys)), "an entry came twice")
                self.assertEqual(sorted(keys), sorted(self.sks(self.indexed(index))))

    def test_parallel_scan_of_index_returns_each_entry_once(self):
        for index in INDEX_KEYS:
            with self.subTest(index):
                keys = []
                for segment in range(3):
                    keys += self.sks(self.scan_all(index, Segment=segment, TotalSegments=3,
                                                   Limit=3))
                self.assertEqual(len(keys), len(set(keys)), "segments overlap")
                self.assertEqual(sorted(keys), sorted(self.sks(self.indexed(index))))


class GsiWriteTable(tw.ConformanceTestCase):
    """A table with two GSIs for tests that write: by_owner (owner_s S, score_n N, ALL) and
    by_tag (tag_s S, KEYS_ONLY). Each test writes under its own table partition key and its
    own index key values (the test's name, plus a suffix), and polls the indexes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        attributes = [attribute("pk", "S"), attribute("sk", "S"), attribute("owner_s", "S"),
                      attribute("score_n", "N"), attribute("tag_s", "S")]
        try:
            cls.table, _ = create_gsi_table(cls, "gsiwrite", attributes,
                                            [gsi("by_owner", "owner_s", "score_n", "ALL"),
                                             gsi("by_tag", "tag_s", None, "KEYS_ONLY")])
        except BaseException:
            cls.tearDownClass()  # not called when setUpClass fails
            raise

    def partition(self):
        return self.id().rsplit(".", 1)[-1]

    def item(self, sk, owner=None, score=None, tag=None, **extra):
        """An item of this test; `owner` and `tag` are suffixes to the test's name."""
        item = {"pk": {"S": self.partition()}, "sk": {"S": sk}}
        if owner is not None:
            item["owner_s"] = {"S": self.partition() + owner}
        if score is not None:
            item["score_n"] = {"N": str(score)}
        if tag is not None:
            item["tag_s"] = {"S": self.partition() + tag}
        item.update({name: {"S": value} for name, value in extra.items()})
        return item

    def key(self, sk):
        return {"pk": {"S": self.partition()}, "sk": {"S": sk}}

    def put(self, *items):
        for item in items:
            self.ddb.put_item(TableName=self.table, Item=item)

    def get(self, sk):
        return self.ddb.get_item(TableName=self.table, Key=self.key(sk),
                                 ConsistentRead=True).get("Item")

    def owner_items(self, owner=""):
        """by_owner's entries for owner_s = test name + `owner`, in score order."""
        return all_pages(self.ddb.query, TableName=self.table, IndexName="by_owner",
                         KeyConditionExpression="owner_s = :o",
                         ExpressionAttributeValues={":o": {"S": self.partition() + owner}})

    def owner_sks(self, owner=""):
        return [i["sk"]["S"] for i in self.owner_items(owner)]

    def tag_sks(self, tag=""):
        items = all_pages(self.ddb.query, TableName=self.table, IndexName="by_tag",
                          KeyConditionExpression="tag_s = :t",
                          ExpressionAttributeValues={":t": {"S": self.partition() + tag}})
        return sorted(i["sk"]["S"] for i in items)

    def wait_owner(self, expected, owner=""):
        return wait_for_index(lambda: self.owner_sks(owner), expected)

    def wait_tag(self, expected, tag=""):
        return wait_for_index(lambda: self.tag_sks(tag), sorted(expected))


class GlobalSecondaryIndexWriteTest(GsiWriteTable):
    """Every write reaches the GSIs (eventually); writes that would break an index key are
    refused whole."""

    def test_put_item_appears_in_index(self):
        self.put(self.item("a", owner="", score=3, tag="", note_s="first"),
                 self.item("b", owner="", score=1), self.item("c", owner="", score=2, tag=""))
        self.wait_owner(["b", "c", "a"])
        self.assertEqual(self.owner_items()[-1], self.item("a", owner="", score=3, tag="",
                                                           note_s="first"))
        self.wait_tag(["a", "c"])

    def test_update_item_changing_index_key_moves_the_entry(self):
        self.put(self.item("a", owner="#1", score=1, tag="#x"),
                 self.item("b", owner="#1", score=2, tag="#x"))
        self.wait_owner(["a", "b"], "#1")
        self.ddb.update_item(TableName=self.table, Key=self.key("a"),
                             UpdateExpression="SET owner_s = :o, tag_s = :t",
                             ExpressionAttributeValues={
                                 ":o": {"S": self.partition() + "#2"},
                                 ":t": {"S": self.partition() + "#y"}})
        self.wait_owner(["b"], "#1")
        self.wait_owner(["a"], "#2")
        self.wait_tag(["b"], "#x")
        self.wait_tag(["a"], "#y")
        # Changing the index sort key reorders the index.
        self.ddb.update_item(TableName=self.table, Key=self.key("b"),
                             UpdateExpression="SET owner_s = :o, score_n = :s",
                             ExpressionAttributeValues={
                                 ":o": {"S": self.partition() + "#2"}, ":s": {"N": "0"}})
        self.wait_owner([], "#1")
        self.wait_owner(["b", "a"], "#2")

    def test_update_item_of_a_projected_attribute_updates_the_entry(self):
        self.put(self.item("a", owner="", score=1, note_s="old"))
        self.wait_owner(["a"])
        self.ddb.update_item(TableName=self.table, Key=self.key("a"),
                             UpdateExpression="SET note_s = :n",
                             ExpressionAttributeValues={":n": {"S": "new"}})
        wait_for_index(self.owner_items, [self.item("a", owner="", score=1, note_s="new")])

    def test_update_item_adding_and_removing_index_keys(self):
        self.put(self.item("a", owner="", score=1), self.item("b", owner=""))
        self.wait_owner(["a"])
        self.ddb.update_item(TableName=self.table, Key=self.key("b"),
                             UpdateExpression="SET score_n = :s",
                             ExpressionAttributeValues={":s": {"N": "0"}})
        self.wait_owner(["b", "a"])
        # An UpdateItem that creates the item indexes it too.
        self.ddb.update_item(TableName=self.table, Key=self.key("c"),
                             UpdateExpression="SET owner_s = :o, score_n = :s, tag_s = :t",
                             ExpressionAttributeValues={
                                 ":o": {"S": self.partition()}, ":s": {"N": "5"},
                                 ":t": {"S": self.partition()}})
        self.wait_owner(["b", "a", "c"])
        self.wait_tag(["c"])
        # Removing either key attribute drops the entry; the item stays in the table.
        self.ddb.update_item(TableName=self.table, Key=self.key("a"),
                             UpdateExpression="REMOVE score_n")
        self.ddb.update_item(TableName=self.table, Key=self.key("c"),
                             UpdateExpression="REMOVE owner_s")
        self.wait_owner(["b"])
        self.wait_tag(["c"])
        self.assertEqual(self.get("a"), self.item("a", owner=""))

    def test_put_item_replacing_an_item_reindexes_it(self):
        self.put(self.item("a", owner="", score=1, tag=""), self.item("b", owner="", score=2))
        self.wait_owner(["a", "b"])
        self.put(self.item("a", owner="", score=9))
        self.wait_owner(["b", "a"])
        self.wait_tag([])
        self.put(self.item("b", extra_s="no index keys"))
        self.wait_owner(["a"])

    def test_delete_item_removes_the_entry(self):
        self.put(self.item("a", owner="", score=1, tag=""), self.item("b", owner="", score=2,
                                                                        tag=""))
        self.wait_owner(["a", "b"])
        self.wait_tag(["a", "b"])
        self.ddb.delete_item(TableName=self.table, Key=self.key("a"))
        self.wait_owner(["b"])
        self.wait_tag(["b"])
        self.ddb.delete_item(TableName=self.table, Key=self.key("b"))
        self.wait_owner([])
        self.wait_tag([])

    def test_batch_write_item_updates_index(self):
        response = self.ddb.batch_write_item(RequestItems={self.table: [
            {"PutRequest": {"Item": self.item(sk, owner="", score=score, tag="")}}
            for sk, score in (("a", 4), ("b", 3), ("c", 2), ("d", 1))]})
        self.assertEqual(response["UnprocessedItems"], {})
        self.wait_owner(["d", "c", "b", "a"])
        response = self.ddb.batch_write_item(RequestItems={self.table: [
            {"DeleteRequest": {"Key": self.key("d")}},
            {"PutRequest": {"Item": self.item("c", owner="", score=7, tag="")}},
            {"PutRequest": {"Item": self.item("b", tag="")}}]})
        self.assertEqual(response["UnprocessedItems"], {})
        self.wait_owner(["a", "c"])
        self.wait_tag(["a", "b", "c"])

    def test_transact_write_items_updates_index(self):
        self.put(self.item("a", owner="", score=1, tag=""), self.item("b", owner="", score=2,
                                                                        tag=""),
                 self.item("c", owner="", score=3, tag=""))
        self.wait_owner(["a", "b", "c"])
        self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table, "Item": self.item("d", owner="", score=0)}},
            {"Update": {"TableName": self.table, "Key": self.key("a"),
                        "UpdateExpression": "SET score_n = :s",
                        "ExpressionAttributeValues": {":s": {"N": "5"}}}},
            {"Update": {"TableName": self.table, "Key": self.key("b"),
                        "UpdateExpression": "REMOVE owner_s, tag_s"}},
            {"Delete": {"TableName": self.table, "Key": self.key("c")}},
        ])
        self.wait_owner(["d", "a"])
        self.wait_tag(["a"])
        self.assertEqual(self.get("b"), self.item("b", score=2))

    def test_sparse_index_scan_leaves_out_items_without_its_keys(self):
        self.put(self.item("a", owner="", score=1, tag=""),
                 self.item("b", owner=""),           # no sort key: not in by_owner
                 self.item("c", score=2, tag=""),    # no partition key: not in by_owner
                 self.item("d", note_s="neither"))

        def scanned(index):
            items = all_pages(self.ddb.scan, TableName=self.table, IndexName=index,
                              FilterExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": self.partition()}})
            return sorted(i["sk"]["S"] for i in items)

        wait_for_index(lambda: scanned("by_owner"), ["a"])
        wait_for_index(lambda: scanned("by_tag"), ["a", "c"])
        self.assertEqual(self.get("b"), self.item("b", owner=""))

    def test_put_with_mistyped_index_key_is_refused_and_writes_nothing(self):
        cases = [("by_owner", self.item("a", score=1), "owner_s", {"N": "1"}, "S", "N"),
                 ("by_owner", self.item("a", owner=""), "score_n", {"S": "x"}, "N", "S"),
                 ("by_tag", self.item("a", owner="", score=1), "tag_s", {"B": b"x"}, "S", "B")]
        for index, item, name, value, expected, actual in cases:
            with self.subTest(index, attribute=name):
                item = dict(item, **{name: value})
                self.assertClientError(
                    "ValidationException", self.ddb.put_item, TableName=self.table, Item=item,
                    message="One or more parameter values were invalid: Type mismatch for "
                            "Index Key %s Expected: %s Actual: %s IndexName: %s"
                            % (name, expected, actual, index))
                self.assertIsNone(self.get("a"))
        self.assertEqual(self.owner_sks(), [])
        self.assertEqual(self.tag_sks(), [])

    def test_update_setting_mistyped_index_key_is_refused(self):
        self.put(self.item("a", owner="", score=1, tag=""))
        self.wait_owner(["a"])
        self.assertClientError(
            "ValidationException", self.ddb.update_item, TableName=self.table,
            Key=self.key("a"), UpdateExpression="SET score_n = :s",
            ExpressionAttributeValues={":s": {"S": "x"}},
            message="One or more parameter values were invalid: Type mismatch for Index Key "
                    "score_n Expected: N Actual: S IndexName: by_owner")
        self.assertEqual(self.get("a"), self.item("a", owner="", score=1, tag=""))
        self.assertEqual(self.owner_sks(), ["a"])

    def test_batch_write_with_mistyped_index_key_writes_nothing(self):
        self.assertClientError(
            "ValidationException", self.ddb.batch_write_item, RequestItems={self.table: [
                {"PutRequest": {"Item": self.item("a", owner="", score=1)}},
                {"PutRequest": {"Item": dict(self.item("b", owner=""),
                                             score_n={"S": "x"})}}]},
            message="One or more parameter values were invalid: Type mismatch for Index Key "
                    "score_n Expected: N Actual: S IndexName: by_owner")
        self.assertIsNone(self.get("a"))
        self.assertIsNone(self.get("b"))
        self.assertEqual(self.owner_sks(), [])

    def test_empty_string_index_key_is_refused(self):
        message = ("One or more parameter values are not valid. A value specified for a "
                   "secondary index key is not supported. The AttributeValue for a key "
                   "attribute cannot contain an empty string value. IndexName: by_tag, "
                   "IndexKey: tag_s")
        self.assertClientError("ValidationException", self.ddb.put_item, TableName=self.table,
                               Item=dict(self.item("a", owner="", score=1), tag_s={"S": ""}),
                               message=message)
        self.assertIsNone(self.get("a"))
        self.put(self.item("b", owner="", score=1, tag=""))
        self.assertClientError("ValidationException", self.ddb.update_item,
                               TableName=self.table, Key=self.key("b"),
                               UpdateExpression="SET tag_s = :t",
                               ExpressionAttributeValues={":t": {"S": ""}}, message=message)
        self.assertEqual(self.get("b"), self.item("b", owner="", score=1, tag=""))
        self.wait_tag(["b"])


class GlobalSecondaryIndexCapacityTest(GsiWriteTable):
    """ReturnConsumedCapacity INDEXES on a table with GSIs: the table's write units and, per
    GSI an item is written to, the index's; TOTAL is their sum."""

    def consumed(self, response):
        capacity = response["ConsumedCapacity"]
        indexes = {name: units["CapacityUnits"]
                   for name, units in capacity.get("GlobalSecondaryIndexes", {}).items()}
        return capacity["CapacityUnits"], capacity["Table"]["CapacityUnits"], indexes

    def test_put_item_counts_the_write_to_each_index(self):
        # A new item under 1 KB with by_owner's keys only: one unit on the table, one on the
        # ALL index, none on by_tag.
        put = self.ddb.put_item(TableName=self.table, Item=self.item("a", owner="", score=1),
                                ReturnConsumedCapacity="INDEXES")
        self.assertEqual(put["ConsumedCapacity"]["TableName"], self.table)
        total, table, indexes = self.consumed(put)
        self.assertEqual((total, table), (2.0, 1.0))
        self.assertEqual(indexes.get("by_owner"), 1.0)
        self.assertEqual(indexes.get("by_tag", 0.0), 0.0)
        self.assertEqual(total, table + sum(indexes.values()))
        # TOTAL: the same sum, without the breakdown.
        total_only = self.ddb.put_item(TableName=self.table,
                                       Item=self.item("b", owner="", score=2),
                                       ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
        self.assertEqual(total_only["CapacityUnits"], 2.0)
        self.assertNotIn("Table", total_only)
        self.assertNotIn("GlobalSecondaryIndexes", total_only)
        # An item with the keys of both indexes is written to both.
        both = self.ddb.put_item(TableName=self.table,
                                 Item=self.item("c", owner="", score=3, tag=""),
                                 ReturnConsumedCapacity="INDEXES")
        total, table, indexes = self.consumed(both)
        self.assertEqual(table, 1.0)
        self.assertGreater(indexes.get("by_owner", 0.0), 0.0)
        self.assertGreater(indexes.get("by_tag", 0.0), 0.0)
        self.assertEqual(total, table + sum(indexes.values()))


class GlobalSecondaryIndexDeleteTableTest(tw.ConformanceTestCase):
    """DeleteTable of a table with GSIs, and a new table of the same name starting with
    empty indexes."""

    def test_delete_table_with_gsis_and_recreate_it_empty(self):
        name = tw.unique_name("gsidelete")
        self._tables_to_drop.append(name)
        request = table_request(name, [attribute("pk", "S"), attribute("code_n", "N"),
                                       attribute("label_s", "S")],
                                [gsi("by_code", "code_n", None, "ALL"),
                                 gsi("by_label", "label_s", "code_n", "KEYS_ONLY")],
                                range_key=False)
        self.ddb.create_table(**request)
        wait_for_indexes_active(name)
        for i in range(3):
            self.ddb.put_item(TableName=name, Item={"pk": {"S": "k%d" % i},
                                                    "code_n": {"N": "1"},
                                                    "label_s": {"S": "l"}})

        def index_keys(index):
            items = all_pages(self.ddb.scan, TableName=name, IndexName=index)
            return sorted(i["pk"]["S"] for i in items)

        wait_for_index(lambda: index_keys("by_code"), ["k0", "k1", "k2"])
        wait_for_index(lambda: index_keys("by_label"), ["k0", "k1", "k2"])

        deleted = self.ddb.delete_table(TableName=name)["TableDescription"]
        self.assertEqual(deleted["TableStatus"], "DELETING")
        tw.wait_for_table_gone(name)
        self.assertClientError("ResourceNotFoundException", self.ddb.query, TableName=name,
                               IndexName="by_code", KeyConditionExpression="code_n = :c",
                               ExpressionAttributeValues={":c": {"N": "1"}})

        self.ddb.create_table(**request)
        table = wait_for_indexes_active(name)
        self.assertEqual(sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]),
                         ["by_code", "by_label"])
        for index in table["GlobalSecondaryIndexes"]:
            self.assertEqual(index["ItemCount"], 0)
        for index in ("by_code", "by_label"):
            response = self.ddb.scan(TableName=name, IndexName=index)
            self.assertEqual((response["Items"], response["Count"]), ([], 0))
        response = self.ddb.query(TableName=name, IndexName="by_code",
                                  KeyConditionExpression="code_n = :c",
                                  ExpressionAttributeValues={":c": {"N": "1"}})
        self.assertEqual(response["Items"], [])
        # The new table's index holds its own items only.
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "new"}, "code_n": {"N": "1"}})
        wait_for_index(lambda: index_keys("by_code"), ["new"])
        self.assertEqual(index_keys("by_label"), [])


if __name__ == "__main__":
    unittest.main()
