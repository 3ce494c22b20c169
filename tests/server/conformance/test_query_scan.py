"""Query and Scan: key conditions, filters, ordering, Limit and 1 MB pagination,
Select COUNT, parallel Scan segments."""

import unittest

import tidewater_fixture as tw


def batch_put(table, items):
    ddb = tw.dynamodb()
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
        pending = {table: requests}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending)["UnprocessedItems"]


def item_size(item):
    """DynamoDB's size of an item of string attributes: UTF-8 names plus values."""
    total = 0
    for name, value in item.items():
        (kind, inner), = value.items()
        total += len(name.encode())
        total += len(inner.encode()) if kind == "S" else len(inner) // 2 + 1
    return total


class QueryTest(tw.ConformanceTestCase):
    """Partition "p" holds sort keys 1..20 (numbers: 2 sorts before 10), "q" holds three."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("query", range_key=("sk", "N"))
        items = [{"pk": {"S": "p"}, "sk": {"N": str(i)}, "even": {"BOOL": i % 2 == 0},
                  "v": {"S": "value-%d" % i}} for i in range(1, 21)]
        items += [{"pk": {"S": "q"}, "sk": {"N": str(i)}} for i in (-1, 0, 1)]
        batch_put(cls.table, items)
        cls.string_table = cls.create_class_table("querys", range_key=("sk", "S"))
        batch_put(cls.string_table, [{"pk": {"S": "p"}, "sk": {"S": sk}} for sk in
                                     ("a", "a#1", "a#2", "a#10", "b", "b#1", "c")])

    def query(self, condition, values, table=None, **kwargs):
        return self.ddb.query(TableName=table or self.table, KeyConditionExpression=condition,
                              ExpressionAttributeValues=values, **kwargs)

    def sort_keys(self, response, kind="N"):
        return [int(i["sk"]["N"]) if kind == "N" else i["sk"]["S"] for i in response["Items"]]

    def test_key_conditions_on_number_sort_key(self):
        p = {":p": {"S": "p"}}
        cases = [
            ("pk = :p", {}, list(range(1, 21))),
            ("pk = :p AND sk = :a", {":a": {"N": "7"}}, [7]),
            ("pk = :p AND sk < :a", {":a": {"N": "3"}}, [1, 2]),
            ("pk = :p AND sk <= :a", {":a": {"N": "3"}}, [1, 2, 3]),
            ("pk = :p AND sk > :a", {":a": {"N": "18"}}, [19, 20]),
            ("pk = :p AND sk >= :a", {":a": {"N": "18"}}, [18, 19, 20]),
            ("pk = :p AND sk BETWEEN :a AND :b", {":a": {"N": "5"}, ":b": {"N": "9"}},
             [5, 6, 7, 8, 9]),
            ("pk = :p AND sk BETWEEN :a AND :b", {":a": {"N": "9.5"}, ":b": {"N": "10.5"}},
             [10]),
            ("sk BETWEEN :a AND :b AND pk = :p", {":a": {"N": "1"}, ":b": {"N": "2"}}, [1, 2]),
            ("pk = :q", {":q": {"S": "q"}}, [-1, 0, 1]),
            ("pk = :none", {":none": {"S": "none"}}, []),
        ]
        for condition, values, expected in cases:
            with self.subTest(condition, values=values):
                used = dict(values)
                if ":p" in condition:
                    used.update(p)
                response = self.query(condition, used, ConsistentRead=True)
                self.assertEqual(self.sort_keys(response), expected)
                self.assertEqual(response["Count"], len(expected))
                self.assertEqual(response["ScannedCount"], len(expected))
                self.assertNotIn("LastEvaluatedKey", response)

    def test_begins_with_and_string_order(self):
        response = self.query("pk = :p AND begins_with(sk, :a)",
                              {":p": {"S": "p"}, ":a": {"S": "a#"}}, table=self.string_table)
        self.assertEqual(self.sort_keys(response, "S"), ["a#1", "a#10", "a#2"])
        response = self.query("pk = :p AND sk BETWEEN :a AND :b",
                              {":p": {"S": "p"}, ":a": {"S": "a#2"}, ":b": {"S": "b#1"}},
                              table=self.string_table)
        self.assertEqual(self.sort_keys(response, "S"), ["a#2", "b", "b#1"])

    def test_invalid_key_conditions(self):
        cases = {
            "begins_with on a number": ("pk = :p AND begins_with(sk, :a)",
                                        {":p": {"S": "p"}, ":a": {"N": "1"}}),
            "no partition key": ("sk = :a", {":a": {"N": "1"}}),
            "partition key range": ("pk > :p", {":p": {"S": "p"}}),
            "non-key attribute": ("pk = :p AND v = :a", {":p": {"S": "p"}, ":a": {"S": "x"}}),
            "OR": ("pk = :p OR sk = :a", {":p": {"S": "p"}, ":a": {"N": "1"}}),
            "wrong key type": ("pk = :p", {":p": {"N": "1"}}),
        }
        for label, (condition, values) in cases.items():
            with self.subTest(label):
                self.assertClientError("ValidationException", self.query, condition, values)

    def test_filter_counts(self):
        response = self.query("pk = :p", {":p": {"S": "p"}, ":t": {"BOOL": True}},
                              FilterExpression="even = :t")
        self.assertEqual(self.sort_keys(response), list(range(2, 21, 2)))
        self.assertEqual(response["Count"], 10)
        self.assertEqual(response["ScannedCount"], 20)

    def test_filter_on_key_attribute_is_rejected(self):
        self.assertClientError("ValidationException", self.query, "pk = :p",
                               {":p": {"S": "p"}, ":a": {"N": "1"}}, FilterExpression="sk = :a")

    def test_scan_index_forward_false(self):
        response = self.query("pk = :p AND sk <= :a", {":p": {"S": "p"}, ":a": {"N": "11"}},
                              ScanIndexForward=False)
        self.assertEqual(self.sort_keys(response), list(range(11, 0, -1)))

    def test_limit_pagination(self):
        for forward in (True, False):
            with self.subTest(forward=forward):
                pages = self.pages("pk = :p", {":p": {"S": "p"}}, Limit=7,
                                   ScanIndexForward=forward)
                self.assertEqual([len(p["Items"]) for p in pages], [7, 7, 6])
                for page in pages[:2]:
                    self.assertEqual(page["LastEvaluatedKey"],
                                     {k: page["Items"][-1][k] for k in ("pk", "sk")})
                collected = [int(i["sk"]["N"]) for p in pages for i in p["Items"]]
                expected = list(range(1, 21))
                self.assertEqual(collected, expected if forward else expected[::-1])

    def test_limit_applies_before_filter(self):
        pages = self.pages("pk = :p", {":p": {"S": "p"}, ":t": {"BOOL": True}}, Limit=5,
                           FilterExpression="even = :t")
        self.assertEqual([p["ScannedCount"] for p in pages[:4]], [5, 5, 5, 5])
        self.assertEqual(sum(p["Count"] for p in pages), 10)
        self.assertEqual([int(i["sk"]["N"]) for p in pages for i in p["Items"]],
                         list(range(2, 21, 2)))

    def test_select_count(self):
        response = self.query("pk = :p", {":p": {"S": "p"}}, Select="COUNT")
        self.assertNotIn("Items", response)
        self.assertEqual(response["Count"], 20)
        self.assertEqual(response["ScannedCount"], 20)
        response = self.query("pk = :p", {":p": {"S": "p"}, ":t": {"BOOL": True}},
                              Select="COUNT", FilterExpression="even = :t")
        self.assertEqual((response["Count"], response["ScannedCount"]), (10, 20))

    def test_projection(self):
        response = self.query("pk = :p AND sk = :a", {":p": {"S": "p"}, ":a": {"N": "3"}},
                              ProjectionExpression="v")
        self.assertEqual(response["Items"], [{"v": {"S": "value-3"}}])

    def test_legacy_key_conditions_with_projection_and_filter_expressions(self):
        # DynamoDB refuses to mix expressions only with QueryFilter, AttributesToGet and
        # ConditionalOperator; legacy KeyConditions combine with the expression parameters.
        key_conditions = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
                          "sk": {"ComparisonOperator": "LE",
                                 "AttributeValueList": [{"N": "4"}]}}
        response = self.ddb.query(TableName=self.table, KeyConditions=key_conditions,
                                  ProjectionExpression="sk, #v",
                                  ExpressionAttributeNames={"#v": "v"},
                                  FilterExpression="even = :t",
                                  ExpressionAttributeValues={":t": {"BOOL": True}})
        self.assertEqual(response["Items"], [{"sk": {"N": "2"}, "v": {"S": "value-2"}},
                                             {"sk": {"N": "4"}, "v": {"S": "value-4"}}])
        self.assertEqual(response["ScannedCount"], 4)

    def test_expressions_do_not_mix_with_legacy_filter_and_projection(self):
        key_conditions = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}}
        query_filter = {"even": {"ComparisonOperator": "EQ",
                                 "AttributeValueList": [{"BOOL": True}]}}
        cases = {
            "QueryFilter with ProjectionExpression": dict(
                KeyConditions=key_conditions, QueryFilter=query_filter,
                ProjectionExpression="sk"),
            "AttributesToGet with FilterExpression": dict(
                KeyConditions=key_conditions, AttributesToGet=["sk"],
                FilterExpression="even = :t", ExpressionAttributeValues={":t": {"BOOL": True}}),
            "KeyConditions with KeyConditionExpression": dict(
                KeyConditions=key_conditions, KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "p"}}),
        }
        for label, request in cases.items():
            with self.subTest(label):
                self.assertClientError(
                    "ValidationException", self.ddb.query, TableName=self.table,
                    message="Can not use both expression and non-expression parameters",
                    **request)

    def test_exclusive_start_key_must_lie_in_the_queried_partition(self):
        self.assertClientError(
            "ValidationException", self.query, "pk = :p", {":p": {"S": "p"}},
            ExclusiveStartKey={"pk": {"S": "q"}, "sk": {"N": "0"}},
            message="The provided starting key is outside query boundaries based on provided "
                    "conditions")
        self.assertClientError(
            "ValidationException", self.query, "pk = :p", {":p": {"S": "p"}},
            ExclusiveStartKey={"pk": {"S": "p"}}, message="The provided starting key is invalid")
        page = self.query("pk = :p", {":p": {"S": "p"}},
                          ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "18"}})
        self.assertEqual(self.sort_keys(page), [19, 20])

    def test_unknown_table(self):
        self.assertClientError("ResourceNotFoundException", self.query, "pk = :p",
                               {":p": {"S": "p"}}, table=tw.unique_name("missing"),
                               message="Requested resource not found")

    def pages(self, condition, values, **kwargs):
        pages = []
        request = dict(kwargs)
        while True:
            page = self.query(condition, values, **request)
            pages.append(page)
            if "LastEvaluatedKey" not in page:
                return pages
            self.assertLess(len(pages), 1000, "pagination does not end")
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class OneMegabytePagesTest(tw.ConformanceTestCase):
    """A Query or Scan reads at most 1 MB per call, then returns LastEvaluatedKey."""

    ITEM_COUNT = 25
    PAYLOAD = 100 * 1000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("bigpages", range_key=("sk", "S"))
        cls.items = [{"pk": {"S": "big"}, "sk": {"S": "%03d" % i},
                      "payload": {"S": chr(ord("a") + i % 26) * cls.PAYLOAD}}
                     for i in range(cls.ITEM_COUNT)]
        # 2.5 MB into one partition key: more than its shard's 1,000 write units a second.
        for item in cls.items:
            tw.retry_throttled(tw.dynamodb().put_item, TableName=cls.table, Item=item)
        # Reads share the partition's capacity: wait until the load's debt is repaid.
        tw.retry_throttled(tw.dynamodb().get_item, TableName=cls.table,
                           Key={"pk": {"S": "big"}, "sk": {"S": "000"}})

    def check_pages(self, call, **request):
        pages = []
        while True:
            # Each page draws on the partition's capacity, which the load left nearly empty.
            page = tw.retry_throttled(call, TableName=self.table, **request)
            pages.append(page)
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        one_item = item_size(self.items[0])
        for page in pages:
            size = sum(item_size(i) for i in page["Items"])
            self.assertLessEqual(size, 1024 * 1024 + one_item,
                                 "page of %d items exceeds 1 MB" % len(page["Items"]))
        self.assertGreaterEqual(len(pages), 3, [len(p["Items"]) for p in pages])
        collected = [i for p in pages for i in p["Items"]]
        self.assertEqual([i["sk"]["S"] for i in collected],
                         [i["sk"]["S"] for i in self.items])
        self.assertEqual(collected, self.items)

    def test_query_pages(self):
        self.check_pages(self.ddb.query, KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": {"S": "big"}})

    def test_scan_pages(self):
        self.check_pages(self.ddb.scan)


class ScanTest(tw.ConformanceTestCase):

    ITEM_COUNT = 300

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("scan")
        cls.keys = {"k%04d" % i for i in range(cls.ITEM_COUNT)}
        batch_put(cls.table, [{"pk": {"S": k}, "n": {"N": k[1:]}} for k in sorted(cls.keys)])

    def scan_all(self, **kwargs):
        keys, request, calls = [], dict(kwargs), 0
        while True:
            page = self.ddb.scan(TableName=self.table, **request)
            calls += 1
            self.assertEqual(page["Count"], len(page["Items"]))
            keys += [i["pk"]["S"] for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return keys, calls
            self.assertLess(calls, 1000, "pagination does not end")
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def test_full_scan(self):
        keys, _ = self.scan_all()
        self.assertEqual(sorted(keys), sorted(self.keys))

    def test_limit_pagination_visits_every_item_once(self):
        keys, calls = self.scan_all(Limit=40)
        self.assertEqual(sorted(keys), sorted(self.keys))
        self.assertGreaterEqual(calls, 8)

    def test_parallel_segments_are_disjoint_and_complete(self):
        for total in (1, 3, 4):
            with self.subTest(total_segments=total):
                union = []
                for segment in range(total):
                    keys, _ = self.scan_all(Segment=segment, TotalSegments=total, Limit=50)
                    union += keys
                self.assertEqual(len(union), len(set(union)), "segments overlap")
                self.assertEqual(set(union), self.keys)

    def test_filter_and_select_count(self):
        response = self.ddb.scan(TableName=self.table, FilterExpression="n < :ten",
                                 ExpressionAttributeValues={":ten": {"N": "10"}})
        self.assertEqual(response["Count"], 10)
        self.assertEqual(response["ScannedCount"], self.ITEM_COUNT)
        response = self.ddb.scan(TableName=self.table, Select="COUNT")
        self.assertNotIn("Items", response)
        self.assertEqual(response["Count"], self.ITEM_COUNT)

    def test_exclusive_start_key_must_lie_in_the_scanned_segment(self):
        # The last key of segment 0's first page continues segment 0, not segment 1.
        first = self.ddb.scan(TableName=self.table, Segment=0, TotalSegments=2, Limit=5)
        start = first["LastEvaluatedKey"]
        page = self.ddb.scan(TableName=self.table, Segment=0, TotalSegments=2, Limit=5,
                             ExclusiveStartKey=start)
        self.assertTrue(page["Items"])
        self.assertClientError("ValidationException", self.ddb.scan, TableName=self.table,
                               Segment=1, TotalSegments=2, ExclusiveStartKey=start,
                               message="The provided starting key is invalid")
        self.assertClientError("ValidationException", self.ddb.scan, TableName=self.table,
                               ExclusiveStartKey={"other": {"S": "x"}},
                               message="The provided starting key is invalid")

    def test_invalid_segments(self):
        cases = [dict(Segment=4, TotalSegments=4), dict(Segment=1),
                 dict(TotalSegments=2)]
        for request in cases:
            with self.subTest(**request):
                self.assertClientError("ValidationException", self.ddb.scan,
                                       TableName=self.table, **request)


if __name__ == "__main__":
    unittest.main()
