"""Local secondary indexes: CreateTable's LocalSecondaryIndexes and their validation,
DescribeTable's index descriptions, Query and Scan with IndexName (index order, key
conditions on the index sort key, sparse indexes, projections and fetches of attributes
the index does not project, Select, pagination, parallel Scan), and the index kept right
by PutItem, UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems."""

import unittest

import tidewater_fixture as tw
from index_helpers import attribute, batch_put, key_element, project, scalar, table_key

# Attribute names carry an underscore so that none is a DynamoDB reserved word.
TABLE_KEY = ("pk", "sk")
KEYS_ONLY_INDEX = "keys_by_n"     # RANGE idx_n (N), KEYS_ONLY
INCLUDE_INDEX = "incl_by_s"       # RANGE idx_s (S), INCLUDE proj_a
ALL_INDEX = "all_by_t"            # RANGE idx_t (S), ALL
INDEX_ATTRIBUTE = {KEYS_ONLY_INDEX: "idx_n", INCLUDE_INDEX: "idx_s", ALL_INDEX: "idx_t"}
INDEX_PROJECTION = {KEYS_ONLY_INDEX: ("pk", "sk", "idx_n"),
                    INCLUDE_INDEX: ("pk", "sk", "idx_s", "proj_a"),
                    ALL_INDEX: None}


def lsi(name, range_attribute, projection_type="ALL", non_key_attributes=None,
        hash_attribute="pk"):
    projection = {"ProjectionType": projection_type}
    if non_key_attributes is not None:
        projection["NonKeyAttributes"] = non_key_attributes
    return {"IndexName": name,
            "KeySchema": [key_element(hash_attribute, "HASH"),
                          key_element(range_attribute, "RANGE")],
            "Projection": projection}


def table_request(name, attributes, indexes, range_key=True):
    """A CreateTable request: pk (S) [+ sk (S)] and the given attribute definitions and LSIs."""
    schema = [key_element("pk", "HASH")]
    if range_key:
        schema.append(key_element("sk", "RANGE"))
    return {"TableName": name, "KeySchema": schema, "AttributeDefinitions": attributes,
            "LocalSecondaryIndexes": indexes, "BillingMode": "PAY_PER_REQUEST"}


def create_lsi_table(cls, prefix, attributes, indexes):
    """Creates a table with LSIs that the test class drops afterwards; waits until ACTIVE.
    Returns (name, CreateTable response)."""
    name = tw.unique_name(prefix)
    cls._tables_to_drop.append(name)
    response = tw.dynamodb().create_table(**table_request(name, attributes, indexes))
    tw.wait_for_table_status(name)
    return name, response


def fixture_items():
    """Partition "p": ten items whose index sort keys order them differently from sk;
    s03 and s08 lack idx_s (sparse in incl_by_s). Partition "q": three items, the last
    without idx_s. Partition "r": seven items for pagination, several sharing an idx_n
    value, none with idx_s or idx_t."""
    s_values = {0: "b#2", 1: "a#1", 2: "c", 4: "a#10", 5: "b#1", 6: "a#2", 7: "d", 9: "b"}
    items = []
    for i in range(10):
        item = {"pk": {"S": "p"}, "sk": {"S": "s%02d" % i}, "idx_n": {"N": str(7 * i % 10)},
                "idx_t": {"S": "t%02d" % (9 - i)}, "proj_a": {"S": "a-%d" % i},
                "other_b": {"S": "b-%d" % i}, "even": {"BOOL": i % 2 == 0}}
        if i in s_values:
            item["idx_s"] = {"S": s_values[i]}
        items.append(item)
    for i in range(3):
        item = {"pk": {"S": "q"}, "sk": {"S": "s%02d" % i}, "idx_n": {"N": str(i + 1)},
                "idx_t": {"S": "t%02d" % i}, "proj_a": {"S": "qa-%d" % i},
                "other_b": {"S": "qb-%d" % i}, "even": {"BOOL": i % 2 == 0}}
        if i < 2:  # in the reverse of sk order
            item["idx_s"] = {"S": "a#%d" % (2 - i)}
        items.append(item)
    for i, n in enumerate([3, 1, 2, 2, 1, 2, 5]):
        items.append({"pk": {"S": "r"}, "sk": {"S": "r%d" % i}, "idx_n": {"N": str(n)},
                      "other_b": {"S": "rb-%d" % i}})
    return items


class LocalSecondaryIndexCreateTest(tw.ConformanceTestCase):
    """CreateTable with LocalSecondaryIndexes, DescribeTable's description of them, and the
    CreateTable rules, each refused with ValidationException."""

    def test_describe_table_shows_keys_only_and_include_indexes(self):
        attributes = [attribute("pk", "S"), attribute("sk", "S"), attribute("by_n", "N"),
                      attribute("by_s", "S")]
        indexes = [lsi("lsi_keys", "by_n", "KEYS_ONLY"),
                   lsi("lsi_include", "by_s", "INCLUDE", ["colour", "size"])]
        name, created = create_lsi_table(self, "lsidesc", attributes, indexes)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"},
                                                "by_n": {"N": "3"}, "colour": {"S": "red"}})
        table = self.ddb.describe_table(TableName=name)["Table"]
        for description in (created["TableDescription"], table):
            self.assertEqual(
                sorted(description["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
                sorted(attributes, key=lambda a: a["AttributeName"]))
            self.assertNotIn("GlobalSecondaryIndexes", description)
            described = {i["IndexName"]: i for i in description["LocalSecondaryIndexes"]}
            self.assertEqual(set(described), {"lsi_keys", "lsi_include"})
            for index in indexes:
                got = described[index["IndexName"]]
                self.assertEqual(got["KeySchema"], index["KeySchema"])
                self.assertEqual(got["Projection"]["ProjectionType"],
                                 index["Projection"]["ProjectionType"])
                self.assertEqual(sorted(got["Projection"].get("NonKeyAttributes", [])),
                                 sorted(index["Projection"].get("NonKeyAttributes", [])))
                self.assertEqual(got["IndexArn"],
                                 description["TableArn"] + "/index/" + index["IndexName"])
                # LocalSecondaryIndexDescription has exactly these members: no IndexStatus,
                # no ProvisionedThroughput (an LSI shares the table's capacity).
                self.assertLessEqual(set(got), {"IndexName", "KeySchema", "Projection",
                                                "IndexSizeBytes", "ItemCount", "IndexArn"})
        for index in table["LocalSecondaryIndexes"]:
            # DynamoDB refreshes both about every six hours: only their presence is certain.
            self.assertIsInstance(index["IndexSizeBytes"], int)
            self.assertIsInstance(index["ItemCount"], int)
            self.assertGreaterEqual(index["IndexSizeBytes"], 0)
            self.assertGreaterEqual(index["ItemCount"], 0)

    def assertCreateRefused(self, request, message=None):
        # Dropped afterwards should an endpoint wrongly create it.
        self._tables_to_drop.append(request["TableName"])
        self.assertClientError("ValidationException", self.ddb.create_table, message=message,
                               **request)

    def test_lsi_on_table_without_range_key_is_refused(self):
        request = table_request(tw.unique_name("lsinorange"),
                                [attribute("pk", "S"), attribute("lsk", "S")],
                                [lsi("by_lsk", "lsk")], range_key=False)
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: Table KeySchema does "
                             "not have a range key, which is required when specifying a "
                             "LocalSecondaryIndex")

    def test_lsi_with_other_hash_key_is_refused(self):
        request = table_request(tw.unique_name("lsihash"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("other", "S"), attribute("lsk", "S")],
                                [lsi("bad_hash", "lsk", hash_attribute="other")])
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: Index KeySchema does "
                             "not have the same leading hash key as table KeySchema for index: "
                             "bad_hash. index hash key: other, table hash key: pk")

    def test_lsi_without_range_key_is_refused(self):
        index = {"IndexName": "hash_only", "KeySchema": [key_element("pk", "HASH")],
                 "Projection": {"ProjectionType": "ALL"}}
        request = table_request(tw.unique_name("lsinoidxrange"),
                                [attribute("pk", "S"), attribute("sk", "S")], [index])
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: Index KeySchema does "
                             "not have a range key for index: hash_only")

    def test_lsi_range_attribute_missing_from_attribute_definitions_is_refused(self):
        request = table_request(tw.unique_name("lsiundef"),
                                [attribute("pk", "S"), attribute("sk", "S")],
                                [lsi("by_lsk", "lsk")])
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: Some index key "
                             "attributes are not defined in AttributeDefinitions.")

    def test_more_than_five_lsis_are_refused(self):
        ranges = ["l%d" % i for i in range(6)]
        request = table_request(tw.unique_name("lsisix"),
                                [attribute("pk", "S"), attribute("sk", "S")]
                                + [attribute(r, "S") for r in ranges],
                                [lsi("by_" + r, r, "KEYS_ONLY") for r in ranges])
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: Number of "
                             "LocalSecondaryIndexes exceeds per-table limit of 5")

    def test_five_lsis_are_accepted(self):
        ranges = ["l%d" % i for i in range(5)]
        name, _ = create_lsi_table(self, "lsifive",
                                   [attribute("pk", "S"), attribute("sk", "S")]
                                   + [attribute(r, "S") for r in ranges],
                                   [lsi("by_" + r, r, "KEYS_ONLY") for r in ranges])
        table = self.ddb.describe_table(TableName=name)["Table"]
        self.assertEqual(sorted(i["IndexName"] for i in table["LocalSecondaryIndexes"]),
                         ["by_" + r for r in ranges])

    def test_duplicate_index_names_are_refused(self):
        request = table_request(tw.unique_name("lsidup"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("l1", "S"), attribute("l2", "S")],
                                [lsi("dup", "l1"), lsi("dup", "l2")])
        self.assertCreateRefused(
            request,
            message="One or more parameter values were invalid: Duplicate index name: dup")

    def test_include_without_non_key_attributes_is_refused(self):
        request = table_request(tw.unique_name("lsiinc"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("lsk", "S")],
                                [lsi("by_lsk", "lsk", "INCLUDE")])
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: ProjectionType is "
                             "INCLUDE, but NonKeyAttributes is not specified")

    def test_non_key_attributes_with_all_or_keys_only_are_refused(self):
        for projection_type in ("ALL", "KEYS_ONLY"):
            with self.subTest(projection_type):
                request = table_request(tw.unique_name("lsinka"),
                                        [attribute("pk", "S"), attribute("sk", "S"),
                                         attribute("lsk", "S")],
                                        [lsi("by_lsk", "lsk", projection_type, ["colour"])])
                self.assertCreateRefused(
                    request, message="One or more parameter values were invalid: "
                                     "ProjectionType is %s, but NonKeyAttributes is specified"
                                     % projection_type)

    def test_unused_attribute_definition_is_refused(self):
        request = table_request(tw.unique_name("lsiunused"),
                                [attribute("pk", "S"), attribute("sk", "S"),
                                 attribute("lsk", "S"), attribute("extra", "S")],
                                [lsi("by_lsk", "lsk")])
        self.assertCreateRefused(
            request, message="One or more parameter values were invalid: Some "
                             "AttributeDefinitions are not used.")


class LocalSecondaryIndexReadTest(tw.ConformanceTestCase):
    """Query and Scan through a table's three LSIs (KEYS_ONLY, INCLUDE, ALL); the table is
    loaded once and never written by the tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        attributes = [attribute("pk", "S"), attribute("sk", "S"), attribute("idx_n", "N"),
                      attribute("idx_s", "S"), attribute("idx_t", "S")]
        indexes = [lsi(KEYS_ONLY_INDEX, "idx_n", "KEYS_ONLY"),
                   lsi(INCLUDE_INDEX, "idx_s", "INCLUDE", ["proj_a"]),
                   lsi(ALL_INDEX, "idx_t", "ALL")]
        cls.table, _ = create_lsi_table(cls, "lsiread", attributes, indexes)
        cls.items = fixture_items()
        batch_put(cls.table, cls.items)

    def query(self, index, condition, values, **kwargs):
        return self.ddb.query(TableName=self.table, IndexName=index,
                              KeyConditionExpression=condition,
                              ExpressionAttributeValues=values, **kwargs)

    def indexed(self, index, partition=None, where=lambda item: True):
        """The fixture items in `index` (of one partition), in index order."""
        attr = INDEX_ATTRIBUTE[index]
        chosen = [i for i in self.items if attr in i and where(i)
                  and (partition is None or i["pk"]["S"] == partition)]
        return sorted(chosen, key=lambda i: (i["pk"]["S"], scalar(i[attr]), i["sk"]["S"]))

    def sks(self, items):
        return [i["sk"]["S"] for i in items]

    def test_query_returns_items_in_index_sort_key_order(self):
        for index in (KEYS_ONLY_INDEX, INCLUDE_INDEX, ALL_INDEX):
            expected = [project(i, INDEX_PROJECTION[index]) for i in self.indexed(index, "p")]
            for forward in (True, False):
                with self.subTest(index, forward=forward):
                    response = self.query(index, "pk = :p", {":p": {"S": "p"}},
                                          ScanIndexForward=forward)
                    self.assertEqual(response["Items"], expected if forward else expected[::-1])
                    self.assertEqual(response["Count"], len(expected))
                    self.assertNotIn("LastEvaluatedKey", response)

    def test_key_conditions_on_index_sort_key(self):
        def n(predicate):
            return lambda item: predicate(int(item["idx_n"]["N"]))

        def s(predicate):
            return lambda item: predicate(item["idx_s"]["S"])

        cases = [
            (KEYS_ONLY_INDEX, "pk = :p AND idx_n = :a", {":a": {"N": "4"}},
             n(lambda v: v == 4)),
            (KEYS_ONLY_INDEX, "pk = :p AND idx_n < :a", {":a": {"N": "3"}},
             n(lambda v: v < 3)),
            (KEYS_ONLY_INDEX, "pk = :p AND idx_n >= :a", {":a": {"N": "8"}},
             n(lambda v: v >= 8)),
            (KEYS_ONLY_INDEX, "pk = :p AND idx_n BETWEEN :a AND :b",
             {":a": {"N": "2"}, ":b": {"N": "5"}}, n(lambda v: 2 <= v <= 5)),
            (INCLUDE_INDEX, "pk = :p AND begins_with(idx_s, :a)", {":a": {"S": "a#"}},
             s(lambda v: v.startswith("a#"))),
            (INCLUDE_INDEX, "pk = :p AND idx_s BETWEEN :a AND :b",
             {":a": {"S": "a#2"}, ":b": {"S": "b#1"}}, s(lambda v: "a#2" <= v <= "b#1")),
            (INCLUDE_INDEX, "pk = :p AND idx_s > :a", {":a": {"S": "b#1"}},
             s(lambda v: v > "b#1")),
        ]
        for index, condition, values, where in cases:
            with self.subTest(index, condition=condition, values=values):
                expected = self.indexed(index, "p", where)
                self.assertTrue(expected)
                response = self.query(index, condition, dict(values, **{":p": {"S": "p"}}))
                self.assertEqual(self.sks(response["Items"]), self.sks(expected))
                self.assertEqual(response["ScannedCount"], len(expected))

    def test_sparse_index_leaves_out_items_without_its_sort_key(self):
        for partition in ("p", "q", "r"):
            with self.subTest(partition=partition):
                expected = [project(i, INDEX_PROJECTION[INCLUDE_INDEX])
                            for i in self.indexed(INCLUDE_INDEX, partition)]
                response = self.query(INCLUDE_INDEX, "pk = :p", {":p": {"S": partition}})
                self.assertEqual(response["Items"], expected)
        self.assertNotIn("s03", self.sks(self.indexed(INCLUDE_INDEX, "p")))
        response = self.ddb.scan(TableName=self.table, IndexName=INCLUDE_INDEX)
        self.assertEqual(sorted(table_key(i) for i in response["Items"]),
                         sorted(table_key(i) for i in self.indexed(INCLUDE_INDEX)))
        self.assertEqual(response["Count"], len(self.indexed(INCLUDE_INDEX)))
        self.assertEqual(response["ScannedCount"], len(self.indexed(INCLUDE_INDEX)))
        for item in response["Items"]:
            self.assertEqual(set(item), {"pk", "sk", "idx_s", "proj_a"})

    def test_filter_expression_on_index_query(self):
        response = self.query(ALL_INDEX, "pk = :p", {":p": {"S": "p"}, ":t": {"BOOL": True}},
                              FilterExpression="even = :t")
        expected = self.indexed(ALL_INDEX, "p", lambda i: i["even"]["BOOL"])
        self.assertEqual(response["Items"], expected)
        self.assertEqual(response["Count"], len(expected))
        self.assertEqual(response["ScannedCount"], len(self.indexed(ALL_INDEX, "p")))

    def test_select_count_on_index(self):
        response = self.query(INCLUDE_INDEX, "pk = :p", {":p": {"S": "p"}}, Select="COUNT")
        self.assertNotIn("Items", response)
        self.assertEqual(response["Count"], len(self.indexed(INCLUDE_INDEX, "p")))
        self.assertEqual(response["ScannedCount"], response["Count"])
        response = self.query(KEYS_ONLY_INDEX, "pk = :p AND idx_n <= :a",
                              {":p": {"S": "r"}, ":a": {"N": "2"}}, Select="COUNT")
        self.assertEqual((response["Count"], response["ScannedCount"]), (5, 5))
        response = self.ddb.scan(TableName=self.table, IndexName=KEYS_ONLY_INDEX,
                                 Select="COUNT")
        self.assertNotIn("Items", response)
        self.assertEqual(response["Count"], len(self.indexed(KEYS_ONLY_INDEX)))

    def test_keys_only_index_returns_table_and_index_keys(self):
        for select in ({}, {"Select": "ALL_PROJECTED_ATTRIBUTES"}):
            with self.subTest(**select):
                response = self.query(KEYS_ONLY_INDEX, "pk = :p", {":p": {"S": "q"}}, **select)
                self.assertEqual(response["Items"],
                                 [project(i, ("pk", "sk", "idx_n"))
                                  for i in self.indexed(KEYS_ONLY_INDEX, "q")])

    def test_include_index_returns_keys_and_non_key_attributes(self):
        for select in ({}, {"Select": "ALL_PROJECTED_ATTRIBUTES"}):
            with self.subTest(**select):
                response = self.query(INCLUDE_INDEX, "pk = :p", {":p": {"S": "p"}}, **select)
                self.assertEqual(response["Items"],
                                 [project(i, ("pk", "sk", "idx_s", "proj_a"))
                                  for i in self.indexed(INCLUDE_INDEX, "p")])
                for item in response["Items"]:
                    self.assertNotIn("other_b", item)
                    self.assertNotIn("idx_n", item)

    def test_select_all_attributes_on_lsi_returns_whole_items(self):
        for index in (KEYS_ONLY_INDEX, INCLUDE_INDEX):
            with self.subTest(index):
                response = self.query(index, "pk = :p", {":p": {"S": "p"}},
                                      Select="ALL_ATTRIBUTES")
                self.assertEqual(response["Items"], self.indexed(index, "p"))
        response = self.ddb.scan(TableName=self.table, IndexName=KEYS_ONLY_INDEX,
                                 Select="ALL_ATTRIBUTES")
        self.assertEqual(sorted(response["Items"], key=table_key),
                         sorted(self.indexed(KEYS_ONLY_INDEX), key=table_key))

    def test_projection_expression_fetches_attributes_the_index_does_not_project(self):
        response = self.query(KEYS_ONLY_INDEX, "pk = :p", {":p": {"S": "p"}},
                              ProjectionExpression="other_b, idx_n")
        self.assertEqual(response["Items"], [project(i, ("other_b", "idx_n"))
                                             for i in self.indexed(KEYS_ONLY_INDEX, "p")])
        response = self.query(INCLUDE_INDEX, "pk = :p", {":p": {"S": "q"}},
                              Select="SPECIFIC_ATTRIBUTES",
                              ProjectionExpression="proj_a, other_b, idx_t")
        self.assertEqual(response["Items"], [project(i, ("proj_a", "other_b", "idx_t"))
                                             for i in self.indexed(INCLUDE_INDEX, "q")])
        response = self.ddb.scan(TableName=self.table, IndexName=INCLUDE_INDEX,
                                 ProjectionExpression="sk, other_b")
        self.assertEqual(sorted(response["Items"], key=lambda i: (i["sk"]["S"], i["other_b"]["S"])),
                         sorted((project(i, ("sk", "other_b"))
                                 for i in self.indexed(INCLUDE_INDEX)),
                                key=lambda i: (i["sk"]["S"], i["other_b"]["S"])))

    def test_consistent_read_is_allowed_on_lsi(self):
        response = self.query(ALL_INDEX, "pk = :p", {":p": {"S": "q"}}, ConsistentRead=True)
        self.assertEqual(response["Items"], self.indexed(ALL_INDEX, "q"))
        response = self.ddb.scan(TableName=self.table, IndexName=ALL_INDEX, ConsistentRead=True)
        self.assertEqual(sorted(response["Items"], key=table_key),
                         sorted(self.indexed(ALL_INDEX), key=table_key))

    def test_limit_pagination_over_equal_index_sort_keys(self):
        expected_sks = sorted(self.sks(self.indexed(KEYS_ONLY_INDEX, "r")))
        self.assertEqual(len(expected_sks), 7)
        for forward in (True, False):
            with self.subTest(forward=forward):
                collected, request, calls = [], {"Limit": 2, "ScanIndexForward": forward}, 0
                while True:
                    page = self.query(KEYS_ONLY_INDEX, "pk = :p", {":p": {"S": "r"}}, **request)
                    calls += 1
                    self.assertLess(calls, 50, "pagination does not end")
                    self.assertLessEqual(len(page["Items"]), 2)
                    collected += page["Items"]
                    if "LastEvaluatedKey" not in page:
                        break
                    last_key = page["LastEvaluatedKey"]
                    # The table's key and the index's sort key: equal idx_n values need sk.
                    self.assertEqual(set(last_key), {"pk", "sk", "idx_n"})
                    self.assertEqual(last_key, project(page["Items"][-1], ("pk", "sk", "idx_n")))
                    request["ExclusiveStartKey"] = last_key
                self.assertGreaterEqual(calls, 4)
                self.assertEqual(sorted(self.sks(collected)), expected_sks)
                ranks = [int(i["idx_n"]["N"]) for i in collected]
                self.assertEqual(ranks, sorted(ranks, reverse=not forward))

    def test_query_with_unknown_index_is_refused(self):
        self.assertClientError("ValidationException", self.query, "no_such_index", "pk = :p",
                               {":p": {"S": "p"}},
                               message="The table does not have the specified index: "
                                       "no_such_index")
        self.assertClientError("ValidationException", self.ddb.scan, TableName=self.table,
                               IndexName="no_such_index",
                               message="The table does not have the specified index: "
                                       "no_such_index")

    def test_key_condition_must_use_the_index_key(self):
        p = {":p": {"S": "p"}}
        cases = {
            "table sort key on an LSI": (KEYS_ONLY_INDEX, "pk = :p AND sk = :a",
                                         dict(p, **{":a": {"S": "s01"}})),
            "other LSI's sort key": (KEYS_ONLY_INDEX, "pk = :p AND idx_s = :a",
                                     dict(p, **{":a": {"S": "a#1"}})),
            "index sort key of the wrong type": (KEYS_ONLY_INDEX, "pk = :p AND idx_n = :a",
                                                 dict(p, **{":a": {"S": "4"}})),
            "begins_with on a number index key": (KEYS_ONLY_INDEX,
                                                  "pk = :p AND begins_with(idx_n, :a)",
                                                  dict(p, **{":a": {"N": "4"}})),
            "no partition key": (INCLUDE_INDEX, "idx_s = :a", {":a": {"S": "a#1"}}),
        }
        for label, (index, condition, values) in cases.items():
            with self.subTest(label):
                self.assertClientError("ValidationException", self.query, index, condition,
                                       values)
        # Without IndexName an LSI's sort key is a non-key attribute of the table.
        self.assertClientError("ValidationException", self.ddb.query, TableName=self.table,
                               KeyConditionExpression="pk = :p AND idx_n = :a",
                               ExpressionAttributeValues=dict(p, **{":a": {"N": "4"}}))

    def test_parallel_scan_of_index_returns_each_indexed_item_once(self):
        for index in (KEYS_ONLY_INDEX, INCLUDE_INDEX):
            with self.subTest(index):
                keys = []
                for segment in range(3):
                    request = {"Segment": segment, "TotalSegments": 3, "Limit": 3}
                    for _ in range(50):
                        page = self.ddb.scan(TableName=self.table, IndexName=index, **request)
                        keys += [table_key(i) for i in page["Items"]]
                        if "LastEvaluatedKey" not in page:
                            break
                        self.assertEqual(set(page["LastEvaluatedKey"]),
                                         {"pk", "sk", INDEX_ATTRIBUTE[index]})
                        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
                    else:
                        self.fail("pagination does not end")
                self.assertEqual(len(keys), len(set(keys)), "segments overlap")
                self.assertEqual(set(keys), {table_key(i) for i in self.indexed(index)})


class LsiWriteTable(tw.ConformanceTestCase):
    """A table with two LSIs for tests that write: each test writes its own partition key;
    reads are strongly consistent (allowed on an LSI)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        attributes = [attribute("pk", "S"), attribute("sk", "S"), attribute("v", "N"),
                      attribute("w", "S")]
        cls.table, _ = create_lsi_table(cls, "lsiwrite", attributes,
                                        [lsi("by_v", "v", "ALL"),
                                         lsi("by_w", "w", "KEYS_ONLY")])

    def partition(self):
        return self.id().rsplit(".", 1)[-1]

    def item(self, sk, v=None, w=None, **extra):
        item = {"pk": {"S": self.partition()}, "sk": {"S": sk}}
        if v is not None:
            item["v"] = {"N": str(v)}
        if w is not None:
            item["w"] = {"S": w}
        item.update({name: {"S": value} for name, value in extra.items()})
        return item

    def key(self, sk):
        return {"pk": {"S": self.partition()}, "sk": {"S": sk}}

    def put(self, *items):
        for item in items:
            self.ddb.put_item(TableName=self.table, Item=item)

    def index_sks(self, index="by_v", **kwargs):
        response = self.ddb.query(TableName=self.table, IndexName=index, ConsistentRead=True,
                                  KeyConditionExpression="pk = :p",
                                  ExpressionAttributeValues={":p": {"S": self.partition()}},
                                  **kwargs)
        return [i["sk"]["S"] for i in response["Items"]]

    def get(self, sk):
        return self.ddb.get_item(TableName=self.table, Key=self.key(sk),
                                 ConsistentRead=True).get("Item")


class LocalSecondaryIndexWriteTest(LsiWriteTable):
    """Every write keeps the LSIs right."""

    def test_update_item_moving_index_sort_key_reorders_index(self):
        self.put(self.item("a", v=1, w="m"), self.item("b", v=2, w="n"),
                 self.item("c", v=3, w="o"))
        self.assertEqual(self.index_sks(), ["a", "b", "c"])
        self.ddb.update_item(TableName=self.table, Key=self.key("a"),
                             UpdateExpression="SET v = :v, w = :w",
                             ExpressionAttributeValues={":v": {"N": "10"}, ":w": {"S": "z"}})
        self.assertEqual(self.index_sks(), ["b", "c", "a"])
        self.assertEqual(self.index_sks(ScanIndexForward=False), ["a", "c", "b"])
        self.assertEqual(self.index_sks("by_w"), ["b", "c", "a"])
        response = self.ddb.query(TableName=self.table, IndexName="by_v", ConsistentRead=True,
                                  KeyConditionExpression="pk = :p AND v = :v",
                                  ExpressionAttributeValues={":p": {"S": self.partition()},
                                                             ":v": {"N": "1"}})
        self.assertEqual(response["Items"], [])

    def test_update_item_adding_index_sort_key_adds_item_to_index(self):
        self.put(self.item("a", v=5), self.item("b"))
        self.assertEqual(self.index_sks(), ["a"])
        self.ddb.update_item(TableName=self.table, Key=self.key("b"),
                             UpdateExpression="SET v = :v",
                             ExpressionAttributeValues={":v": {"N": "1"}})
        self.assertEqual(self.index_sks(), ["b", "a"])
        # An UpdateItem that creates the item indexes it too.
        self.ddb.update_item(TableName=self.table, Key=self.key("c"),
                             UpdateExpression="SET v = :v",
                             ExpressionAttributeValues={":v": {"N": "3"}})
        self.assertEqual(self.index_sks(), ["b", "c", "a"])

    def test_remove_of_index_sort_key_drops_item_from_index(self):
        self.put(self.item("a", v=1, w="m"), self.item("b", v=2, w="n"),
                 self.item("c", v=3, w="o"))
        self.ddb.update_item(TableName=self.table, Key=self.key("b"),
                             UpdateExpression="REMOVE v")
        self.assertEqual(self.index_sks(), ["a", "c"])
        self.assertEqual(self.index_sks("by_w"), ["a", "b", "c"])
        self.assertEqual(self.get("b"), self.item("b", w="n"))
        response = self.ddb.scan(TableName=self.table, IndexName="by_v", ConsistentRead=True,
                                 FilterExpression="pk = :p",
                                 ExpressionAttributeValues={":p": {"S": self.partition()}})
        self.assertEqual(sorted(i["sk"]["S"] for i in response["Items"]), ["a", "c"])

    def test_put_item_replacing_an_item_reindexes_it(self):
        self.put(self.item("a", v=1), self.item("b", v=2))
        self.put(self.item("a", v=9))
        self.assertEqual(self.index_sks(), ["b", "a"])
        self.put(self.item("b", extra="no v"))
        self.assertEqual(self.index_sks(), ["a"])

    def test_delete_item_drops_it_from_index(self):
        self.put(self.item("a", v=1, w="m"), self.item("b", v=2, w="n"))
        self.ddb.delete_item(TableName=self.table, Key=self.key("a"))
        self.assertEqual(self.index_sks(), ["b"])
        self.assertEqual(self.index_sks("by_w"), ["b"])
        self.ddb.delete_item(TableName=self.table, Key=self.key("b"))
        self.assertEqual(self.index_sks(), [])
        self.assertEqual(self.index_sks("by_w"), [])

    def test_batch_write_item_updates_index(self):
        response = self.ddb.batch_write_item(RequestItems={self.table: [
            {"PutRequest": {"Item": self.item(sk, v=v, w=sk)}}
            for sk, v in (("a", 4), ("b", 3), ("c", 2), ("d", 1))]})
        self.assertEqual(response["UnprocessedItems"], {})
        self.assertEqual(self.index_sks(), ["d", "c", "b", "a"])
        response = self.ddb.batch_write_item(RequestItems={self.table: [
            {"DeleteRequest": {"Key": self.key("d")}},
            {"PutRequest": {"Item": self.item("c", v=7, w="c")}},
            {"PutRequest": {"Item": self.item("b", w="b")}}]})
        self.assertEqual(response["UnprocessedItems"], {})
        self.assertEqual(self.index_sks(), ["a", "c"])
        self.assertEqual(self.index_sks("by_w"), ["a", "b", "c"])

    def test_transact_write_items_updates_index(self):
        self.put(self.item("a", v=1, w="a"), self.item("b", v=2, w="b"),
                 self.item("c", v=3, w="c"))
        self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table, "Item": self.item("d", v=0, w="d")}},
            {"Update": {"TableName": self.table, "Key": self.key("a"),
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"N": "5"}}}},
            {"Update": {"TableName": self.table, "Key": self.key("b"),
                        "UpdateExpression": "REMOVE v, w"}},
            {"Delete": {"TableName": self.table, "Key": self.key("c")}},
        ])
        self.assertEqual(self.index_sks(), ["d", "a"])
        self.assertEqual(self.index_sks("by_w"), ["a", "d"])
        self.assertEqual(self.get("b"), self.key("b"))

    def test_put_with_mistyped_index_sort_key_is_refused_and_writes_nothing(self):
        cases = [("by_v", self.item("a", w="m"), "v", {"S": "x"}, "N", "S"),
                 ("by_w", self.item("a", v=1), "w", {"N": "1"}, "S", "N")]
        for index, item, name, value, expected, actual in cases:
            with self.subTest(index):
                item = dict(item, **{name: value})
                self.assertClientError(
                    "ValidationException", self.ddb.put_item, TableName=self.table, Item=item,
                    message="One or more parameter values were invalid: Type mismatch for "
                            "Index Key %s Expected: %s Actual: %s IndexName: %s"
                            % (name, expected, actual, index))
                self.assertIsNone(self.get("a"))
        self.assertEqual(self.index_sks(), [])
        self.assertEqual(self.index_sks("by_w"), [])

    def test_update_setting_mistyped_index_sort_key_is_refused(self):
        self.put(self.item("a", v=1, w="m"))
        self.assertClientError(
            "ValidationException", self.ddb.update_item, TableName=self.table,
            Key=self.key("a"), UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"S": "x"}},
            message="One or more parameter values were invalid: Type mismatch for Index Key v "
                    "Expected: N Actual: S IndexName: by_v")
        self.assertEqual(self.get("a"), self.item("a", v=1, w="m"))
        self.assertEqual(self.index_sks(), ["a"])

    def test_batch_write_with_mistyped_index_sort_key_writes_nothing(self):
        self.assertClientError(
            "ValidationException", self.ddb.batch_write_item, RequestItems={self.table: [
                {"PutRequest": {"Item": self.item("a", v=1)}},
                {"PutRequest": {"Item": dict(self.item("b"), v={"S": "x"})}}]},
            message="One or more parameter values were invalid: Type mismatch for Index Key v "
                    "Expected: N Actual: S IndexName: by_v")
        self.assertIsNone(self.get("a"))
        self.assertIsNone(self.get("b"))
        self.assertEqual(self.index_sks(), [])


if __name__ == "__main__":
    unittest.main()


class LocalSecondaryIndexCapacityTest(LsiWriteTable):
    """ReturnConsumedCapacity INDEXES: a write costs one write unit per index entry it
    deletes or writes (two when an index key changes), a KB each; an index read costs its
    entries on the index and the attributes it fetches on the table."""

    def consumed(self, response):
        capacity = response["ConsumedCapacity"]
        indexes = {name: units["CapacityUnits"]
                   for name, units in capacity.get("LocalSecondaryIndexes", {}).items()}
        return capacity["CapacityUnits"], capacity["Table"]["CapacityUnits"], indexes

    def test_writes_count_each_index_entry_they_change(self):
        put = self.ddb.put_item(TableName=self.table, Item=self.item("a", v=1, w="x"),
                                ReturnConsumedCapacity="INDEXES")
        self.assertEqual(self.consumed(put), (3.0, 1.0, {"by_v": 1.0, "by_w": 1.0}))
        # The by_v key changes (delete + put); by_w's entry does not change.
        moved = self.ddb.update_item(TableName=self.table, Key=self.key("a"),
                                     UpdateExpression="SET v = :v",
                                     ExpressionAttributeValues={":v": {"N": "2"}},
                                     ReturnConsumedCapacity="INDEXES")
        self.assertEqual(self.consumed(moved), (3.0, 1.0, {"by_v": 2.0}))
        total = self.ddb.delete_item(TableName=self.table, Key=self.key("a"),
                                     ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
        self.assertEqual(total["CapacityUnits"], 3.0)
        self.assertNotIn("Table", total)

    def test_index_reads_count_entries_on_the_index_and_fetches_on_the_table(self):
        self.put(self.item("a", w="x", big="y" * 6000))
        keys_only = self.ddb.query(TableName=self.table, IndexName="by_w",
                                   KeyConditionExpression="pk = :p",
                                   ExpressionAttributeValues={":p": {"S": self.partition()}},
                                   ReturnConsumedCapacity="INDEXES")
        self.assertEqual(self.consumed(keys_only), (0.5, 0.0, {"by_w": 0.5}))
        fetched = self.ddb.query(TableName=self.table, IndexName="by_w", ConsistentRead=True,
                                 KeyConditionExpression="pk = :p",
                                 ExpressionAttributeValues={":p": {"S": self.partition()}},
                                 Select="ALL_ATTRIBUTES", ReturnConsumedCapacity="INDEXES")
        self.assertEqual(fetched["Items"][0]["big"]["S"], "y" * 6000)
        self.assertEqual(self.consumed(fetched), (3.0, 2.0, {"by_w": 1.0}))

    def test_item_collection_metrics_name_the_partition(self):
        put = self.ddb.put_item(TableName=self.table, Item=self.item("a", v=1),
                                ReturnItemCollectionMetrics="SIZE")
        metrics = put["ItemCollectionMetrics"]
        self.assertEqual(metrics["ItemCollectionKey"], {"pk": {"S": self.partition()}})
        low, high = metrics["SizeEstimateRangeGB"]
        self.assertGreaterEqual(low, 0)
        self.assertLess(low, high)
        updated = self.ddb.update_item(TableName=self.table, Key=self.key("a"),
                                       UpdateExpression="SET w = :w",
                                       ExpressionAttributeValues={":w": {"S": "x"}},
                                       ReturnItemCollectionMetrics="SIZE")
        self.assertEqual(updated["ItemCollectionMetrics"]["ItemCollectionKey"],
                         {"pk": {"S": self.partition()}})
        deleted = self.ddb.delete_item(TableName=self.table, Key=self.key("a"))
        self.assertNotIn("ItemCollectionMetrics", deleted)

    def test_batch_and_transaction_item_collection_metrics_list_each_collection(self):
        partition = {"pk": {"S": self.partition()}}
        other = {"pk": {"S": self.partition() + "_other"}}
        batch = self.ddb.batch_write_item(
            RequestItems={self.table: [
                {"PutRequest": {"Item": self.item("a", v=1)}},
                {"PutRequest": {"Item": self.item("b", v=2)}},
                {"PutRequest": {"Item": dict(self.item("c", v=3), pk=other["pk"])}}]},
            ReturnItemCollectionMetrics="SIZE")
        self.assertEqual(batch["UnprocessedItems"], {})
        listed = batch["ItemCollectionMetrics"][self.table]
        self.assertEqual([m["ItemCollectionKey"] for m in listed], [partition, other])
        for metrics in listed:
            low, high = metrics["SizeEstimateRangeGB"]
            self.assertLess(low, high)
        transaction = self.ddb.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": self.table, "Key": self.key("a")}},
                {"Update": {"TableName": self.table, "Key": self.key("b"),
                            "UpdateExpression": "SET w = :w",
                            "ExpressionAttributeValues": {":w": {"S": "x"}}}},
                {"ConditionCheck": {"TableName": self.table,
                                    "Key": dict(self.key("c"), pk=other["pk"]),
                                    "ConditionExpression": "attribute_exists(pk)"}}],
            ReturnItemCollectionMetrics="SIZE")
        self.assertEqual([m["ItemCollectionKey"]
                          for m in transaction["ItemCollectionMetrics"][self.table]],
                         [partition])
        unasked = self.ddb.batch_write_item(
            RequestItems={self.table: [{"PutRequest": {"Item": self.item("d", v=4)}}]})
        self.assertNotIn("ItemCollectionMetrics", unasked)
