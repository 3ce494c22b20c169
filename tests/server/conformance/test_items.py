"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem, conditions,
ReturnValues and consumed capacity."""

import unittest

import tidewater_fixture as tw


def key(pk):
    return {"pk": {"S": pk}}


def sorted_sets(item):
    """The item with set members sorted: DynamoDB does not order set members."""
    result = {}
    for name, value in item.items():
        (kind, inner), = value.items()
        if kind in ("SS", "NS", "BS"):
            result[name] = {kind: sorted(inner)}
        elif kind == "M":
            result[name] = {"M": sorted_sets(inner)}
        elif kind == "L":
            result[name] = {"L": [next(iter(sorted_sets({"_": v}).values())) for v in inner]}
        else:
            result[name] = value
    return result


class ItemsTestCase(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("items")

    def put(self, item, **kwargs):
        return self.ddb.put_item(TableName=self.table, Item=item, **kwargs)

    def get(self, pk, **kwargs):
        response = self.ddb.get_item(TableName=self.table, Key=key(pk), ConsistentRead=True,
                                     **kwargs)
        return response.get("Item")

    def update(self, pk, expression, values=None, names=None, **kwargs):
        request = {"TableName": self.table, "Key": key(pk), "UpdateExpression": expression}
        if values:
            request["ExpressionAttributeValues"] = values
        if names:
            request["ExpressionAttributeNames"] = names
        request.update(kwargs)
        return self.ddb.update_item(**request)


class PutGetTest(ItemsTestCase):

    def test_round_trip_of_every_type(self):
        item = {
            "pk": {"S": "all-types"},
            "s": {"S": "h\u00e9llo \u2603"},
            "n": {"N": "-12.5"},
            "big": {"N": "12345678901234567890123456789012345678"},
            "b": {"B": b"\x00\x01\xfe\xff"},
            "t": {"BOOL": True},
            "f": {"BOOL": False},
            "null": {"NULL": True},
            "ss": {"SS": ["b", "a", "c"]},
            "ns": {"NS": ["3", "-1", "2.5"]},
            "bs": {"BS": [b"\x02", b"\x01"]},
            "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": []}, {"M": {}}]},
            "m": {"M": {"inner": {"M": {"deep": {"S": "v"}}}, "k": {"NULL": True}}},
            "empty": {"S": ""},
        }
        self.put(item)
        got = self.get("all-types")
        self.assertEqual(sorted_sets(got), sorted_sets(item))

    def test_numbers_lose_leading_and_trailing_zeros(self):
        self.put({"pk": {"S": "zeros"}, "a": {"N": "0012.300"}, "b": {"N": "5.0"},
                  "c": {"N": "-000.50"}})
        got = self.get("zeros")
        self.assertEqual((got["a"], got["b"], got["c"]),
                         ({"N": "12.3"}, {"N": "5"}, {"N": "-0.5"}))

    def test_missing_item_has_no_item_field(self):
        response = self.ddb.get_item(TableName=self.table, Key=key("never-written"))
        self.assertNotIn("Item", response)

    def test_put_replaces_whole_item(self):
        self.put({"pk": {"S": "replace"}, "a": {"S": "1"}, "b": {"S": "2"}})
        self.put({"pk": {"S": "replace"}, "c": {"S": "3"}})
        self.assertEqual(self.get("replace"), {"pk": {"S": "replace"}, "c": {"S": "3"}})

    def test_projection_expression(self):
        self.put({"pk": {"S": "proj"}, "a": {"S": "A"}, "b": {"S": "B"},
                  "name": {"M": {"first": {"S": "F"}, "last": {"S": "L"}}},
                  "lst": {"L": [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}]},
                  "dotted.name": {"S": "D"}})
        cases = [
            ("a", None, {"a": {"S": "A"}}),
            ("a, b, pk", None, {"pk": {"S": "proj"}, "a": {"S": "A"}, "b": {"S": "B"}}),
            ("#n.#f", {"#n": "name", "#f": "first"}, {"name": {"M": {"first": {"S": "F"}}}}),
            ("lst[1], lst[2]", None, {"lst": {"L": [{"S": "l1"}, {"S": "l2"}]}}),
            ("#d", {"#d": "dotted.name"}, {"dotted.name": {"S": "D"}}),
            ("a, nonexistent", None, {"a": {"S": "A"}}),
        ]
        for projection, names, expected in cases:
            with self.subTest(projection):
                kwargs = {"ProjectionExpression": projection}
                if names:
                    kwargs["ExpressionAttributeNames"] = names
                self.assertEqual(self.get("proj", **kwargs), expected)

    def test_projection_of_only_missing_attributes_returns_empty_item(self):
        self.put({"pk": {"S": "proj-missing"}, "a": {"S": "A"}})
        self.assertEqual(self.get("proj-missing", ProjectionExpression="zzz"), {})

    def test_unused_expression_attribute_name_is_rejected(self):
        self.assertClientError("ValidationException", self.get, "x",
                               ProjectionExpression="a",
                               ExpressionAttributeNames={"#unused": "b"})


class UpdateItemTest(ItemsTestCase):

    def test_set_remove_add_delete(self):
        self.put({"pk": {"S": "upd"}, "n": {"N": "10"}, "gone": {"S": "x"},
                  "lst": {"L": [{"S": "a"}, {"S": "b"}]}, "colors": {"SS": ["red", "green"]},
                  "trim_me": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]},
                  "nested": {"M": {"lvl": {"N": "1"}}}})
        response = self.update(
            "upd",
            "SET n = n + :five, s = :s, lst = list_append(lst, :more), "
            "fresh = if_not_exists(fresh, :zero), nested.lvl = nested.lvl - :one, "
            "#r = :s "
            "REMOVE gone, trim_me[1] "
            "ADD hits :one, tags :tags "
            "DELETE colors :red",
            values={":five": {"N": "5"}, ":s": {"S": "str"}, ":more": {"L": [{"S": "c"}]},
                    ":zero": {"N": "0"}, ":one": {"N": "1"}, ":tags": {"SS": ["t1", "t2"]},
                    ":red": {"SS": ["red"]}},
            names={"#r": "reserved word"},
            ReturnValues="ALL_NEW")
        expected = {"pk": {"S": "upd"}, "n": {"N": "15"}, "s": {"S": "str"},
                    "lst": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]},
                    "trim_me": {"L": [{"S": "x"}, {"S": "z"}]}, "fresh": {"N": "0"},
                    "nested": {"M": {"lvl": {"N": "0"}}}, "reserved word": {"S": "str"},
                    "hits": {"N": "1"}, "tags": {"SS": ["t1", "t2"]},
                    "colors": {"SS": ["green"]}}
        self.assertEqual(sorted_sets(response["Attributes"]), sorted_sets(expected))
        self.assertEqual(sorted_sets(self.get("upd")), sorted_sets(expected))

    def test_update_creates_missing_item(self):
        response = self.update("upsert", "SET a = :a ADD c :one",
                               values={":a": {"S": "x"}, ":one": {"N": "1"}},
                               ReturnValues="ALL_NEW")
        self.assertEqual(response["Attributes"],
                         {"pk": {"S": "upsert"}, "a": {"S": "x"}, "c": {"N": "1"}})

    def test_update_that_only_removes_creates_no_item(self):
        # SET and ADD create a missing item; REMOVE and DELETE only take attributes away,
        # so on a missing item they do nothing (AttributeValueUpdate: "DELETE - Nothing
        # happens; there is no attribute to delete"), not even fail on a nested path.
        cases = {
            "REMOVE": dict(UpdateExpression="REMOVE a"),
            "REMOVE of a nested path": dict(UpdateExpression="REMOVE x.y, l[3]"),
            "DELETE": dict(UpdateExpression="DELETE s :members",
                           ExpressionAttributeValues={":members": {"SS": ["m"]}}),
            "REMOVE and DELETE": dict(UpdateExpression="REMOVE a DELETE s :members",
                                      ExpressionAttributeValues={":members": {"SS": ["m"]}}),
            "legacy DELETE": dict(AttributeUpdates={"a": {"Action": "DELETE"}}),
        }
        for label, request in cases.items():
            with self.subTest(label):
                pk = "removes-only-%s" % label.replace(" ", "-")
                for return_values in ("ALL_NEW", "ALL_OLD", "UPDATED_NEW", "UPDATED_OLD"):
                    response = self.ddb.update_item(TableName=self.table, Key=key(pk),
                                                    ReturnValues=return_values, **request)
                    self.assertNotIn("Attributes", response, return_values)
                self.assertIsNone(self.get(pk))

    def test_update_that_only_removes_changes_an_existing_item(self):
        self.put({"pk": {"S": "removes-existing"}, "a": {"S": "x"}, "b": {"S": "y"}})
        response = self.update("removes-existing", "REMOVE a", ReturnValues="ALL_NEW")
        self.assertEqual(response["Attributes"], {"pk": {"S": "removes-existing"},
                                                  "b": {"S": "y"}})
        self.assertClientError("ValidationException", self.update, "removes-existing",
                               "REMOVE x.y", message="document path")

    def test_delete_of_last_set_member_removes_attribute(self):
        self.put({"pk": {"S": "lastmember"}, "s": {"NS": ["1"]}})
        self.update("lastmember", "DELETE s :one", values={":one": {"NS": ["1"]}})
        self.assertEqual(self.get("lastmember"), {"pk": {"S": "lastmember"}})

    def test_if_not_exists_keeps_existing_value(self):
        self.put({"pk": {"S": "ifne"}, "a": {"N": "7"}})
        self.update("ifne", "SET a = if_not_exists(a, :zero)", values={":zero": {"N": "0"}})
        self.assertEqual(self.get("ifne")["a"], {"N": "7"})

    def test_updating_a_key_attribute_is_rejected(self):
        self.assertClientError("ValidationException", self.update, "keyupd", "SET pk = :v",
                               values={":v": {"S": "other"}})

    def test_invalid_update_expressions(self):
        cases = {
            "syntax error": ("SET = :v", {":v": {"S": "x"}}),
            "unused value": ("SET a = :v", {":v": {"S": "x"}, ":unused": {"S": "y"}}),
            "undefined value": ("SET a = :missing", {":v": {"S": "x"}}),
            "same path twice": ("SET a = :v REMOVE a", {":v": {"S": "x"}}),
            "add to a string": ("ADD s :v", {":v": {"S": "x"}}),
            "arithmetic on a string": ("SET a = :v + :v", {":v": {"S": "x"}}),
        }
        for label, (expression, values) in cases.items():
            with self.subTest(label):
                self.assertClientError("ValidationException", self.update, "invalid",
                                       expression, values=values)

    def test_return_values(self):
        old = {"pk": {"S": "rv"}, "a": {"N": "1"}, "b": {"S": "keep"}}
        cases = [
            ("NONE", None),
            ("ALL_OLD", old),
            ("UPDATED_OLD", {"a": {"N": "1"}}),
            ("ALL_NEW", {"pk": {"S": "rv"}, "a": {"N": "2"}, "b": {"S": "keep"},
                         "c": {"S": "new"}}),
            ("UPDATED_NEW", {"a": {"N": "2"}, "c": {"S": "new"}}),
        ]
        for return_values, expected in cases:
            with self.subTest(return_values):
                self.put(old)
                response = self.update("rv", "SET a = a + :one, c = :c",
                                       values={":one": {"N": "1"}, ":c": {"S": "new"}},
                                       ReturnValues=return_values)
                self.assertEqual(response.get("Attributes"), expected)

    def test_return_values_of_update_on_missing_item(self):
        response = self.update("rv-missing", "SET a = :a", values={":a": {"S": "x"}},
                               ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", response)


class ConditionTest(ItemsTestCase):

    def test_put_if_not_exists(self):
        first = {"pk": {"S": "cond-put"}, "v": {"N": "1"}}
        self.put(first, ConditionExpression="attribute_not_exists(pk)")
        self.assertClientError("ConditionalCheckFailedException", self.put,
                               {"pk": {"S": "cond-put"}, "v": {"N": "2"}},
                               ConditionExpression="attribute_not_exists(pk)",
                               message="The conditional request failed")
        self.assertEqual(self.get("cond-put"), first)

    def test_delete_with_condition(self):
        self.put({"pk": {"S": "cond-del"}, "v": {"N": "1"}})
        self.assertClientError("ConditionalCheckFailedException", self.ddb.delete_item,
                               TableName=self.table, Key=key("cond-del"),
                               ConditionExpression="v = :v",
                               ExpressionAttributeValues={":v": {"N": "2"}})
        self.assertIsNotNone(self.get("cond-del"))
        self.ddb.delete_item(TableName=self.table, Key=key("cond-del"),
                             ConditionExpression="v = :v",
                             ExpressionAttributeValues={":v": {"N": "1"}})
        self.assertIsNone(self.get("cond-del"))
        self.assertClientError("ConditionalCheckFailedException", self.ddb.delete_item,
                               TableName=self.table, Key=key("cond-del"),
                               ConditionExpression="attribute_exists(pk)")

    def test_condition_functions_and_operators(self):
        self.put({"pk": {"S": "cond"}, "n": {"N": "5"}, "s": {"S": "hello"},
                  "l": {"L": [{"S": "a"}, {"S": "b"}]}, "ss": {"SS": ["x", "y"]},
                  "m": {"M": {"k": {"BOOL": True}}}})
        values = {":3": {"N": "3"}, ":5": {"N": "5"}, ":7": {"N": "7"}, ":he": {"S": "he"},
                  ":hello": {"S": "hello"}, ":x": {"S": "x"}, ":S": {"S": "S"},
                  ":t": {"BOOL": True}, ":2": {"N": "2"}}
        cases = [
            ("n = :5", True), ("n <> :5", False), ("n < :7", True), ("n <= :3", False),
            ("n > :3", True), ("n >= :7", False), ("n BETWEEN :3 AND :7", True),
            ("n BETWEEN :7 AND :7", False), ("n IN (:3, :5)", True), ("n IN (:3, :7)", False),
            ("begins_with(s, :he)", True), ("begins_with(s, :x)", False),
            ("contains(s, :he)", True), ("contains(ss, :x)", True), ("contains(l, :x)", False),
            ("size(l) = :2", True), ("size(s) > :5", False),
            ("attribute_type(s, :S)", True), ("attribute_type(n, :S)", False),
            ("attribute_exists(m.k)", True), ("attribute_not_exists(m.k)", False),
            ("m.k = :t", True), ("NOT n = :5", False), ("n = :3 OR s = :hello", True),
            ("n = :5 AND s = :x", False), ("(n = :3 OR n = :5) AND NOT contains(s, :x)", True),
            ("absent = :5", False), ("absent <> :5", True),
        ]
        for condition, passes in cases:
            with self.subTest(condition):
                used = {k: v for k, v in values.items()
                        if any(k == tok.strip("(),") for tok in condition.split())}
                request = dict(TableName=self.table, Key=key("cond"),
                               UpdateExpression="SET touched = :t",
                               ConditionExpression=condition,
                               ExpressionAttributeValues=dict(used, **{":t": {"BOOL": True}}))
                if passes:
                    self.ddb.update_item(**request)
                else:
                    self.assertClientError("ConditionalCheckFailedException",
                                           self.ddb.update_item, **request)


class PutDeleteReturnValuesTest(ItemsTestCase):

    def test_put_return_values(self):
        old = {"pk": {"S": "put-rv"}, "a": {"S": "old"}}
        response = self.put(old, ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", response)
        response = self.put({"pk": {"S": "put-rv"}, "a": {"S": "new"}}, ReturnValues="ALL_OLD")
        self.assertEqual(response["Attributes"], old)
        response = self.put(old, ReturnValues="NONE")
        self.assertNotIn("Attributes", response)
        for invalid in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"):
            with self.subTest(invalid):
                self.assertClientError("ValidationException", self.put, old,
                                       ReturnValues=invalid)

    def test_delete_return_values(self):
        item = {"pk": {"S": "del-rv"}, "a": {"S": "x"}}
        self.put(item)
        response = self.ddb.delete_item(TableName=self.table, Key=key("del-rv"),
                                        ReturnValues="ALL_OLD")
        self.assertEqual(response["Attributes"], item)
        response = self.ddb.delete_item(TableName=self.table, Key=key("del-rv"),
                                        ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", response)
        self.put(item)
        response = self.ddb.delete_item(TableName=self.table, Key=key("del-rv"),
                                        ReturnValues="NONE")
        self.assertNotIn("Attributes", response)
        self.assertIsNone(self.get("del-rv"))
        for invalid in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"):
            with self.subTest(invalid):
                self.assertClientError("ValidationException", self.ddb.delete_item,
                                       TableName=self.table, Key=key("del-rv"),
                                       ReturnValues=invalid)


class ConsumedCapacityTest(ItemsTestCase):
    """Capacity units as DynamoDB counts them: writes per started 1 KB, reads per started
    4 KB, eventually consistent reads at half price. Item size = UTF-8 names + values."""

    @staticmethod
    def item_of_size(pk, size):
        overhead = len("pk") + len(pk) + len("payload")
        return {"pk": {"S": pk}, "payload": {"S": "x" * (size - overhead)}}

    def consumed(self, response):
        capacity = response["ConsumedCapacity"]
        self.assertEqual(capacity["TableName"], self.table)
        return capacity["CapacityUnits"]

    def test_put_and_get_of_one_kilobyte_item(self):
        put = self.put(self.item_of_size("cap-1k", 1000), ReturnConsumedCapacity="TOTAL")
        self.assertEqual(self.consumed(put), 1.0)
        eventual = self.ddb.get_item(TableName=self.table, Key=key("cap-1k"),
                                     ReturnConsumedCapacity="TOTAL")
        self.assertEqual(self.consumed(eventual), 0.5)
        strong = self.ddb.get_item(TableName=self.table, Key=key("cap-1k"),
                                   ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(self.consumed(strong), 1.0)

    def test_units_round_up_per_started_block(self):
        put = self.put(self.item_of_size("cap-5k", 5000), ReturnConsumedCapacity="TOTAL")
        self.assertEqual(self.consumed(put), 5.0)
        eventual = self.ddb.get_item(TableName=self.table, Key=key("cap-5k"),
                                     ReturnConsumedCapacity="TOTAL")
        self.assertEqual(self.consumed(eventual), 1.0)
        strong = self.ddb.get_item(TableName=self.table, Key=key("cap-5k"),
                                   ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(self.consumed(strong), 2.0)

    def test_overwrite_and_delete_count_the_larger_item(self):
        self.put(self.item_of_size("cap-over", 3000))
        put = self.put(self.item_of_size("cap-over", 500), ReturnConsumedCapacity="TOTAL")
        self.assertEqual(self.consumed(put), 3.0)
        self.put(self.item_of_size("cap-over", 2500))
        delete = self.ddb.delete_item(TableName=self.table, Key=key("cap-over"),
                                      ReturnConsumedCapacity="TOTAL")
        self.assertEqual(self.consumed(delete), 3.0)

    def test_no_capacity_unless_asked(self):
        self.assertNotIn("ConsumedCapacity", self.put(self.item_of_size("cap-none", 100)))
        self.assertNotIn("ConsumedCapacity",
                         self.put(self.item_of_size("cap-none", 100),
                                  ReturnConsumedCapacity="NONE"))


if __name__ == "__main__":
    unittest.main()
