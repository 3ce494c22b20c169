"""BatchWriteItem, BatchGetItem, TransactWriteItems, TransactGetItems."""

import unittest
import uuid

import tidewater_fixture as tw


def key(pk):
    return {"pk": {"S": pk}}


def put_request(pk, **attributes):
    item = key(pk)
    item.update({name: {"S": value} for name, value in attributes.items()})
    return {"PutRequest": {"Item": item}}


class BatchTest(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("batch")
        cls.other = cls.create_class_table("batch2")

    def batch_get_all(self, request_items):
        """BatchGetItem, following UnprocessedKeys, returning {table: {pk: item}}."""
        found = {}
        pending = request_items
        for _ in range(100):
            response = self.ddb.batch_get_item(RequestItems=pending)
            for table, items in response["Responses"].items():
                found.setdefault(table, {}).update({i["pk"]["S"]: i for i in items})
            pending = response["UnprocessedKeys"]
            if not pending:
                return found
        self.fail("UnprocessedKeys never drained")

    def test_write_25_then_get_100(self):
        prefix = uuid.uuid4().hex[:6]
        names = ["%s-%03d" % (prefix, i) for i in range(100)]
        for start in range(0, 100, 25):
            response = self.ddb.batch_write_item(RequestItems={
                self.table: [put_request(n, v=n) for n in names[start:start + 25]]})
            self.assertEqual(response["UnprocessedItems"], {})
        found = self.batch_get_all({self.table: {"Keys": [key(n) for n in names]}})
        self.assertEqual(set(found[self.table]), set(names))
        self.assertEqual(found[self.table][names[7]], {"pk": {"S": names[7]},
                                                       "v": {"S": names[7]}})

    def test_batch_write_over_25_is_rejected(self):
        prefix = uuid.uuid4().hex[:6]
        requests = [put_request("%s-%d" % (prefix, i)) for i in range(26)]
        self.assertClientError("ValidationException", self.ddb.batch_write_item,
                               RequestItems={self.table: requests})
        found = self.batch_get_all({self.table: {"Keys": [key("%s-0" % prefix)]}})
        self.assertEqual(found.get(self.table, {}), {})

    def test_batch_write_25_across_two_tables_is_the_limit(self):
        prefix = uuid.uuid4().hex[:6]
        request = {self.table: [put_request("%s-a%d" % (prefix, i)) for i in range(13)],
                   self.other: [put_request("%s-b%d" % (prefix, i)) for i in range(13)]}
        self.assertClientError("ValidationException", self.ddb.batch_write_item,
                               RequestItems=request)
        request[self.other].pop()
        self.assertEqual(self.ddb.batch_write_item(RequestItems=request)["UnprocessedItems"],
                         {})

    def test_batch_get_over_100_is_rejected(self):
        keys = [key("k%d" % i) for i in range(101)]
        self.assertClientError("ValidationException", self.ddb.batch_get_item,
                               RequestItems={self.table: {"Keys": keys}})
        # The limit counts keys over all tables of the request.
        self.assertClientError("ValidationException", self.ddb.batch_get_item,
                               RequestItems={self.table: {"Keys": keys[:51]},
                                             self.other: {"Keys": keys[51:]}},
                               message="Too many items requested for the BatchGetItem call")
        found = self.batch_get_all({self.table: {"Keys": keys[:50]},
                                    self.other: {"Keys": keys[50:100]}})
        self.assertEqual([item for items in found.values() for item in items], [])

    def test_mixed_put_and_delete(self):
        self.ddb.put_item(TableName=self.table, Item=key("mixed-old"))
        self.ddb.batch_write_item(RequestItems={self.table: [
            put_request("mixed-new", v="x"),
            {"DeleteRequest": {"Key": key("mixed-old")}}]})
        found = self.batch_get_all({self.table: {"Keys": [key("mixed-new"), key("mixed-old")],
                                                 "ConsistentRead": True}})
        self.assertEqual(set(found[self.table]), {"mixed-new"})

    def test_duplicate_keys_are_rejected(self):
        self.assertClientError("ValidationException", self.ddb.batch_write_item,
                               RequestItems={self.table: [put_request("dup"),
                                                          put_request("dup", v="2")]})
        self.assertClientError("ValidationException", self.ddb.batch_get_item,
                               RequestItems={self.table: {"Keys": [key("dup"), key("dup")]}})

    def test_batch_get_projection_and_missing_items(self):
        self.ddb.put_item(TableName=self.table,
                          Item={"pk": {"S": "proj"}, "a": {"S": "A"}, "b": {"S": "B"}})
        response = self.ddb.batch_get_item(RequestItems={
            self.table: {"Keys": [key("proj"), key("absent")], "ProjectionExpression": "a"}})
        self.assertEqual(response["Responses"][self.table], [{"a": {"S": "A"}}])

    def test_unknown_table(self):
        missing = tw.unique_name("missing")
        self.assertClientError("ResourceNotFoundException", self.ddb.batch_get_item,
                               RequestItems={missing: {"Keys": [key("a")]}})
        self.assertClientError("ResourceNotFoundException", self.ddb.batch_write_item,
                               RequestItems={missing: [put_request("a")]})


class TransactTest(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("transact")
        cls.other = cls.create_class_table("transact2")

    def get(self, table, pk):
        return self.ddb.get_item(TableName=table, Key=key(pk), ConsistentRead=True).get("Item")

    def test_all_actions_commit_together(self):
        p = uuid.uuid4().hex[:6] + "-"
        self.ddb.put_item(TableName=self.table, Item={"pk": {"S": p + "upd"}, "n": {"N": "1"}})
        self.ddb.put_item(TableName=self.other, Item=key(p + "del"))
        self.ddb.put_item(TableName=self.other, Item={"pk": {"S": p + "chk"},
                                                      "ok": {"BOOL": True}})
        self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table, "Item": {"pk": {"S": p + "put"}, "v": {"S": "x"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": self.table, "Key": key(p + "upd"),
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": self.other, "Key": key(p + "del")}},
            {"ConditionCheck": {"TableName": self.other, "Key": key(p + "chk"),
                                "ConditionExpression": "ok = :t",
                                "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
        ])
        self.assertEqual(self.get(self.table, p + "put"), {"pk": {"S": p + "put"},
                                                          "v": {"S": "x"}})
        self.assertEqual(self.get(self.table, p + "upd")["n"], {"N": "2"})
        self.assertIsNone(self.get(self.other, p + "del"))

    def test_failed_condition_check_cancels_everything(self):
        p = uuid.uuid4().hex[:6] + "-"
        self.ddb.put_item(TableName=self.table, Item={"pk": {"S": p + "upd"}, "n": {"N": "1"}})
        self.ddb.put_item(TableName=self.other, Item=key(p + "del"))
        self.ddb.put_item(TableName=self.other, Item={"pk": {"S": p + "chk"},
                                                      "ok": {"BOOL": False}})
        error = self.assertClientError("TransactionCanceledException",
                                       self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": self.table, "Item": key(p + "put")}},
            {"Update": {"TableName": self.table, "Key": key(p + "upd"),
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": self.other, "Key": key(p + "del")}},
            {"ConditionCheck": {"TableName": self.other, "Key": key(p + "chk"),
                                "ConditionExpression": "ok = :t",
                                "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
        ])
        reasons = error.response["CancellationReasons"]
        self.assertEqual(len(reasons), 4)
        for reason in reasons[:3]:
            self.assertIn(reason.get("Code"), ("None", None), reasons)
        self.assertEqual(reasons[3]["Code"], "ConditionalCheckFailed")
        self.assertIsNone(self.get(self.table, p + "put"))
        self.assertEqual(self.get(self.table, p + "upd")["n"], {"N": "1"})
        self.assertIsNotNone(self.get(self.other, p + "del"))

    def test_failed_put_condition_is_reported_at_its_index(self):
        p = uuid.uuid4().hex[:6] + "-"
        self.ddb.put_item(TableName=self.table, Item=key(p + "exists"))
        error = self.assertClientError("TransactionCanceledException",
                                       self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": self.table, "Item": key(p + "new")}},
            {"Put": {"TableName": self.table, "Item": key(p + "exists"),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
        reasons = error.response["CancellationReasons"]
        self.assertEqual([r.get("Code") in ("None", None) for r in reasons], [True, False])
        self.assertEqual(reasons[1]["Code"], "ConditionalCheckFailed")
        self.assertIsNone(self.get(self.table, p + "new"))

    def test_client_request_token_is_idempotent(self):
        p = uuid.uuid4().hex[:6] + "-"
        token = uuid.uuid4().hex

        def increment(by):
            return self.ddb.transact_write_items(ClientRequestToken=token, TransactItems=[
                {"Update": {"TableName": self.table, "Key": key(p + "idem"),
                            "UpdateExpression": "ADD n :by",
                            "ExpressionAttributeValues": {":by": {"N": by}}}}])

        increment("1")
        increment("1")
        self.assertEqual(self.get(self.table, p + "idem")["n"], {"N": "1"})
        self.assertClientError("IdempotentParameterMismatchException", increment, "2")
        self.assertEqual(self.get(self.table, p + "idem")["n"], {"N": "1"})

    def test_two_actions_on_one_item_are_rejected(self):
        p = uuid.uuid4().hex[:6] + "-"
        self.assertClientError("ValidationException", self.ddb.transact_write_items,
                               TransactItems=[
            {"Put": {"TableName": self.table, "Item": key(p + "same")}},
            {"Delete": {"TableName": self.table, "Key": key(p + "same")}}])
        self.assertIsNone(self.get(self.table, p + "same"))

    def test_over_100_actions_are_rejected(self):
        p = uuid.uuid4().hex[:6] + "-"
        actions = [{"Put": {"TableName": self.table, "Item": key(p + str(i))}}
                   for i in range(101)]
        self.assertClientError("ValidationException", self.ddb.transact_write_items,
                               TransactItems=actions)
        self.assertIsNone(self.get(self.table, p + "0"))

    def test_transact_get_items(self):
        p = uuid.uuid4().hex[:6] + "-"
        self.ddb.put_item(TableName=self.table, Item={"pk": {"S": p + "a"}, "v": {"S": "A"},
                                                      "w": {"S": "W"}})
        self.ddb.put_item(TableName=self.other, Item={"pk": {"S": p + "b"}, "v": {"S": "B"}})
        response = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": self.other, "Key": key(p + "b")}},
            {"Get": {"TableName": self.table, "Key": key(p + "missing")}},
            {"Get": {"TableName": self.table, "Key": key(p + "a"), "ProjectionExpression": "v"}},
        ])
        self.assertEqual(response["Responses"], [
            {"Item": {"pk": {"S": p + "b"}, "v": {"S": "B"}}},
            {},
            {"Item": {"v": {"S": "A"}}},
        ])

    def test_invalid_item_cancels_with_a_validation_error_reason(self):
        cases = {
            "Put with a key of the wrong type": {
                "Put": {"TableName": self.table, "Item": {"pk": {"N": "1"}}}},
            "Put without the key": {"Put": {"TableName": self.table,
                                            "Item": {"other": {"S": "x"}}}},
            "Update with a key of the wrong type": {
                "Update": {"TableName": self.table, "Key": {"pk": {"N": "1"}},
                           "UpdateExpression": "SET v = :v",
                           "ExpressionAttributeValues": {":v": {"S": "x"}}}},
            "Delete with an extra key attribute": {
                "Delete": {"TableName": self.table,
                           "Key": {"pk": {"S": "x"}, "sk": {"S": "y"}}}},
            "ConditionCheck with an oversized key": {
                "ConditionCheck": {"TableName": self.table, "Key": key("k" * 2049),
                                   "ConditionExpression": "attribute_exists(pk)"}},
        }
        for label, invalid in cases.items():
            with self.subTest(label):
                p = uuid.uuid4().hex[:6] + "-"
                error = self.assertClientError(
                    "TransactionCanceledException", self.ddb.transact_write_items,
                    TransactItems=[{"Put": {"TableName": self.table, "Item": key(p + "before")}},
                                   invalid,
                                   {"Put": {"TableName": self.other, "Item": key(p + "after")}}])
                reasons = error.response["CancellationReasons"]
                self.assertEqual([r["Code"] for r in reasons],
                                 ["None", "ValidationError", "None"])
                self.assertTrue(reasons[1].get("Message"), reasons)
                self.assertIsNone(self.get(self.table, p + "before"))
                self.assertIsNone(self.get(self.other, p + "after"))

    def test_validation_error_reason_carries_the_items_message(self):
        error = self.assertClientError(
            "TransactionCanceledException", self.ddb.transact_write_items,
            TransactItems=[{"Put": {"TableName": self.table, "Item": {"pk": {"N": "1"}}}}],
            message="ValidationError")
        self.assertIn("Type mismatch for key pk", error.response["CancellationReasons"][0]["Message"])

    def test_transact_get_with_an_invalid_key_cancels(self):
        error = self.assertClientError(
            "TransactionCanceledException", self.ddb.transact_get_items,
            TransactItems=[{"Get": {"TableName": self.table, "Key": key("fine")}},
                           {"Get": {"TableName": self.table, "Key": {"pk": {"N": "1"}}}}])
        self.assertEqual([r["Code"] for r in error.response["CancellationReasons"]],
                         ["None", "ValidationError"])

    def test_aggregate_size_over_4_mb_is_rejected(self):
        # 50 items of 100 KB: 5 MB, each item well within the 400 KB item limit. A table of
        # its own: the 7,000 write units of the transaction that fits exceed what a new
        # table's partitions serve in a second, and would throttle the other tests.
        table = self.create_class_table("transactbig")
        p = uuid.uuid4().hex[:6] + "-"
        blob = "b" * (100 * 1024)
        actions = [{"Put": {"TableName": table,
                            "Item": {"pk": {"S": "%s%d" % (p, i)}, "blob": {"S": blob}}}}
                   for i in range(50)]
        self.assertClientError("ValidationException", self.ddb.transact_write_items,
                               TransactItems=actions)
        self.assertIsNone(self.get(table, p + "0"))
        # 35 of them (3.5 MB) are within the limit.
        self.ddb.transact_write_items(TransactItems=actions[:35])
        self.assertIsNotNone(tw.retry_throttled(self.get, table, p + "0"))

    def test_update_that_only_removes_creates_no_item(self):
        p = uuid.uuid4().hex[:6] + "-"
        self.ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": self.table, "Key": key(p + "ghost"),
                        "UpdateExpression": "REMOVE a.b"}},
            {"Put": {"TableName": self.table, "Item": key(p + "real")}}])
        self.assertIsNone(self.get(self.table, p + "ghost"))
        self.assertIsNotNone(self.get(self.table, p + "real"))

    def test_transact_on_unknown_table(self):
        missing = tw.unique_name("missing")
        self.assertClientError("ResourceNotFoundException", self.ddb.transact_get_items,
                               TransactItems=[{"Get": {"TableName": missing, "Key": key("a")}}])
        self.assertClientError("ResourceNotFoundException", self.ddb.transact_write_items,
                               TransactItems=[{"Put": {"TableName": missing,
                                                       "Item": key("a")}}])


if __name__ == "__main__":
    unittest.main()
