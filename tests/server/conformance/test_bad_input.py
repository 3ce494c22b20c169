"""Bad input: malformed or unknown requests, keys that do not match the schema, limits,
unknown tables, oversized bodies and misbehaving connections. Every error must be a
DynamoDB error the client can parse, and the server must keep serving."""

import datetime
import email.utils
import gzip
import json
import socket
import threading
import time
import unittest
import zlib

import tidewater_fixture as tw

SCHEMA_MISMATCH = "The provided key element does not match the schema"


def error_type(body):
    """The error name of a JSON 1.0 error body: '__type' after its '#'."""
    return json.loads(body)["__type"].rsplit("#", 1)[-1]


class RawRequestTest(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("raw")

    def test_malformed_json_is_serialization_exception(self):
        for body in (b"{", b"not json", b'{"TableName": }', b'{"TableName": "t"',
                     b"[1, 2", b'{"Key": {"pk": {"S": "x"}}}}'):
            with self.subTest(body=body):
                status, _, response = tw.raw_request("GetItem", body)
                self.assertEqual(status, 400, response)
                self.assertEqual(error_type(response), "SerializationException", response)

    def test_wrongly_typed_json_is_serialization_exception(self):
        # A number where DynamoDB JSON wants a string: {"N": 5} instead of {"N": "5"}.
        body = json.dumps({"TableName": self.table,
                           "Item": {"pk": {"S": "x"}, "n": {"N": 5}}}).encode()
        status, _, response = tw.raw_request("PutItem", body)
        self.assertEqual(status, 400, response)
        self.assertEqual(error_type(response), "SerializationException", response)

    def test_unknown_operation(self):
        status, _, response = tw.raw_request("NoSuchOperation", b"{}")
        self.assertEqual(status, 400, response)
        self.assertEqual(error_type(response), "UnknownOperationException", response)

    def test_valid_raw_request_is_answered_with_json(self):
        status, headers, response = tw.raw_request("ListTables", b"{}")
        self.assertEqual(status, 200, response)
        self.assertIn("TableNames", json.loads(response))
        content_type = {k.lower(): v for k, v in headers.items()}["content-type"]
        self.assertTrue(content_type.startswith("application/x-amz-json-1.0"), content_type)

    def test_very_deep_nesting_is_an_error_not_a_crash(self):
        depth = 100000
        deep_value = '{"M": {"a": ' * depth + '{"S": "x"}' + "}}" * depth
        bodies = {
            "nested arrays": "[" * depth + "]" * depth,
            "unclosed objects": '{"a":' * depth,
            "nested maps": '{"TableName": "%s", "Item": {"pk": {"S": "deep"}, "a": %s}}' % (
                self.table, deep_value),
        }
        for label, body in bodies.items():
            with self.subTest(label):
                status, _, response = tw.raw_request("PutItem", body.encode())
                self.assertEqual(status, 400, response[:300])
                self.assertIn(error_type(response),
                              ("ValidationException", "SerializationException"))
        self.assertNotIn("Item", self.ddb.get_item(TableName=self.table,
                                                   Key={"pk": {"S": "deep"}},
                                                   ConsistentRead=True))

    def test_missing_required_parameter(self):
        status, _, response = tw.raw_request("GetItem",
                                             json.dumps({"TableName": self.table}).encode())
        self.assertEqual(status, 400, response)
        self.assertEqual(error_type(response), "ValidationException", response)


class HttpResponseHeadersTest(tw.ConformanceTestCase):

    def test_date_header_in_rfc_7231_format(self):
        for target, body in (("ListTables", b"{}"), ("NoSuchOperation", b"{}")):
            with self.subTest(target):
                _, headers, _ = tw.raw_request(target, body)
                date = {k.lower(): v for k, v in headers.items()}.get("date")
                self.assertIsNotNone(date, headers)
                self.assertRegex(date, r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                                 r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                                 r"\d{4} \d\d:\d\d:\d\d GMT$")
                sent = email.utils.parsedate_to_datetime(date)
                skew = abs((sent - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
                self.assertLess(skew, 300, date)


class CompressedRequestTest(tw.ConformanceTestCase):
    """Request bodies compressed as the SDKs' request compression does (Content-Encoding:
    gzip, also deflate); an encoding or body the server cannot decode is HTTP 500 and
    writes nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("compressed")

    def put_body(self, pk, **attributes):
        item = {"pk": {"S": pk}}
        item.update({name: {"S": value} for name, value in attributes.items()})
        return json.dumps({"TableName": self.table, "Item": item}).encode()

    def get(self, pk):
        return self.ddb.get_item(TableName=self.table, Key={"pk": {"S": pk}},
                                 ConsistentRead=True).get("Item")

    def test_gzip_and_deflate_bodies_are_accepted(self):
        bodies = {
            "gzip": gzip.compress(self.put_body("gzip", v="x" * 20000)),
            "deflate": zlib.compress(self.put_body("deflate", v="y")),
            "gzip in two members": (lambda b: gzip.compress(b[:10]) + gzip.compress(b[10:]))(
                self.put_body("two-members", v="z")),
        }
        for encoding_label, body in bodies.items():
            with self.subTest(encoding_label):
                encoding = encoding_label.split()[0]
                status, _, response = tw.raw_request(
                    "PutItem", body, extra_headers={"Content-Encoding": encoding})
                self.assertEqual(status, 200, response)
        self.assertEqual(self.get("gzip")["v"], {"S": "x" * 20000})
        self.assertEqual(self.get("deflate")["v"], {"S": "y"})
        self.assertEqual(self.get("two-members")["v"], {"S": "z"})

    def test_undecodable_bodies_are_internal_errors_and_write_nothing(self):
        plain = self.put_body("undecodable")
        cases = {
            "unknown encoding": ("garbage", plain),
            "not gzip": ("gzip", plain),
            "truncated gzip": ("gzip", gzip.compress(plain)[:-1]),
            "empty gzip": ("gzip", b""),
        }
        for label, (encoding, body) in cases.items():
            with self.subTest(label):
                status, _, response = tw.raw_request(
                    "PutItem", body, extra_headers={"Content-Encoding": encoding})
                self.assertEqual(status, 500, response)
        self.assertIsNone(self.get("undecodable"))

    def test_decoded_body_is_limited(self):
        if tw.managed_server() is None:
            self.skipTest("DynamoDB does not limit the decoded size of a compressed body")
        body = self.put_body("bomb", v=" " * (17 * 1024 * 1024))
        status, _, response = tw.raw_request("PutItem", gzip.compress(body),
                                             extra_headers={"Content-Encoding": "gzip"})
        self.assertEqual(status, 413, response[:300])
        self.assertIsNone(self.get("bomb"))


class AttributeNameTest(tw.ConformanceTestCase):
    """Attribute names: at least 1 byte and less than 64 KB (65535 bytes is the largest
    accepted); key attribute names at most 255 bytes."""

    LONGEST = "n" * 65535
    TOO_LONG = "n" * 65536

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("names")

    def test_longest_name_is_usable(self):
        self.ddb.put_item(TableName=self.table, Item={"pk": {"S": "long"},
                                                      self.LONGEST: {"S": "v"}})
        got = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": "long"}},
                                ProjectionExpression="#n",
                                ExpressionAttributeNames={"#n": self.LONGEST})
        self.assertEqual(got["Item"], {self.LONGEST: {"S": "v"}})

    def test_empty_and_too_long_names_are_rejected(self):
        key = {"pk": {"S": "bad-names"}}
        for label, name in (("empty", ""), ("65536 bytes", self.TOO_LONG)):
            calls = {
                "PutItem": lambda: self.ddb.put_item(
                    TableName=self.table, Item=dict(key, **{name: {"S": "v"}})),
                "UpdateItem with a name placeholder": lambda: self.ddb.update_item(
                    TableName=self.table, Key=key, UpdateExpression="SET #n = :v",
                    ExpressionAttributeNames={"#n": name},
                    ExpressionAttributeValues={":v": {"S": "v"}}),
                "GetItem with AttributesToGet": lambda: self.ddb.get_item(
                    TableName=self.table, Key=key, AttributesToGet=[name]),
                "UpdateItem with AttributeUpdates": lambda: self.ddb.update_item(
                    TableName=self.table, Key=key,
                    AttributeUpdates={name: {"Action": "PUT", "Value": {"S": "v"}}}),
            }
            for operation, call in calls.items():
                with self.subTest(name=label, operation=operation):
                    self.assertClientError("ValidationException", call)
        self.assertNotIn("Item", self.ddb.get_item(TableName=self.table, Key=key,
                                                   ConsistentRead=True))

    def test_empty_expression_attribute_name(self):
        self.assertClientError(
            "ValidationException", self.ddb.get_item, TableName=self.table,
            Key={"pk": {"S": "x"}}, ProjectionExpression="#a",
            ExpressionAttributeNames={"#a": ""},
            message="ExpressionAttributeNames contains invalid value: Empty attribute name "
                    "for key #a")

    def test_malformed_placeholder_keys(self):
        cases = {
            "name key without name": dict(ProjectionExpression="#a",
                                          ExpressionAttributeNames={"#a": "a", "#": "b"}),
            "name key with a dash": dict(ProjectionExpression="#a",
                                         ExpressionAttributeNames={"#a": "a", "#a-b": "b"}),
            "name key too long": dict(ProjectionExpression="#a",
                                      ExpressionAttributeNames={"#a": "a", "#" + "k" * 255: "b"}),
        }
        messages = {
            "name key without name":
                'ExpressionAttributeNames contains invalid key: Syntax error; key: "#"',
            "name key with a dash":
                'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"',
            "name key too long":
                "ExpressionAttributeNames contains invalid key: The expression attribute map "
                "contains a key that is too long",
        }
        for label, request in cases.items():
            with self.subTest(label):
                self.assertClientError("ValidationException", self.ddb.get_item,
                                       TableName=self.table, Key={"pk": {"S": "x"}},
                                       message=messages[label], **request)
        self.assertClientError(
            "ValidationException", self.ddb.scan, TableName=self.table,
            FilterExpression="pk = :v", ExpressionAttributeValues={":v": {"S": "x"},
                                                                   ":v-w": {"S": "y"}},
            message='ExpressionAttributeValues contains invalid key: Syntax error; key: ":v-w"')

    def test_key_attribute_names_are_at_most_255_bytes(self):
        longest = "k" * 255
        name = tw.unique_name("keyname")
        self._tables_to_drop.append(name)
        tw.create_table(name, hash_key=(longest, "S"))
        self.ddb.put_item(TableName=name, Item={longest: {"S": "v"}})
        too_long = tw.unique_name("keyname")
        self._tables_to_drop.append(too_long)
        self.assertClientError(
            "ValidationException", self.ddb.create_table, TableName=too_long,
            KeySchema=[{"AttributeName": "k" * 256, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k" * 256, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST", message="Member must have length less than or equal "
                                                   "to 255")


class KeyValidationTest(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("keys", range_key=("sk", "N"))

    BAD_KEYS = {
        "missing sort key": {"pk": {"S": "a"}},
        "missing partition key": {"sk": {"N": "1"}},
        "wrong partition key type": {"pk": {"N": "1"}, "sk": {"N": "1"}},
        "wrong sort key type": {"pk": {"S": "a"}, "sk": {"S": "1"}},
        "extra attribute": {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}},
        "no attributes": {},
    }

    def test_get_update_delete_with_bad_keys(self):
        operations = {
            "GetItem": lambda k: self.ddb.get_item(TableName=self.table, Key=k),
            "DeleteItem": lambda k: self.ddb.delete_item(TableName=self.table, Key=k),
            "UpdateItem": lambda k: self.ddb.update_item(
                TableName=self.table, Key=k, UpdateExpression="SET v = :v",
                ExpressionAttributeValues={":v": {"S": "v"}}),
            "BatchGetItem": lambda k: self.ddb.batch_get_item(
                RequestItems={self.table: {"Keys": [k]}}),
        }
        for operation, call in operations.items():
            for label, bad_key in self.BAD_KEYS.items():
                with self.subTest(operation=operation, key=label):
                    self.assertClientError("ValidationException", call, bad_key,
                                           message=SCHEMA_MISMATCH)

    def test_put_with_missing_or_mistyped_key(self):
        for label, bad_item in [("missing sort key", {"pk": {"S": "a"}}),
                                ("wrong sort key type", {"pk": {"S": "a"}, "sk": {"S": "1"}})]:
            with self.subTest(label):
                self.assertClientError("ValidationException", self.ddb.put_item,
                                       TableName=self.table, Item=bad_item)

    def test_empty_string_key(self):
        self.assertClientError("ValidationException", self.ddb.put_item, TableName=self.table,
                               Item={"pk": {"S": ""}, "sk": {"N": "1"}})

    def test_oversized_keys(self):
        self.assertClientError("ValidationException", self.ddb.put_item, TableName=self.table,
                               Item={"pk": {"S": "p" * 2049}, "sk": {"N": "1"}})
        self.ddb.put_item(TableName=self.table, Item={"pk": {"S": "p" * 2048}, "sk": {"N": "1"}})

    def test_invalid_numbers(self):
        for number in ("dog", "NaN", "Infinity", "1e126", "1e-131",
                       "1234567890123456789012345678901234567890"):
            with self.subTest(number=number):
                self.assertClientError("ValidationException", self.ddb.put_item,
                                       TableName=self.table,
                                       Item={"pk": {"S": "n"}, "sk": {"N": "1"},
                                             "v": {"N": number}})

    def test_empty_and_duplicate_sets(self):
        for label, value in [("empty set", {"SS": []}), ("duplicate members", {"SS": ["a", "a"]}),
                             ("duplicate numbers", {"NS": ["1", "1"]})]:
            with self.subTest(label):
                self.assertClientError("ValidationException", self.ddb.put_item,
                                       TableName=self.table,
                                       Item={"pk": {"S": "s"}, "sk": {"N": "1"}, "v": value})


class NestingLimitTest(tw.ConformanceTestCase):
    """Documents nest at most 32 levels deep, counting the item itself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("nesting")

    @staticmethod
    def nested(levels):
        value = {"S": "leaf"}
        for _ in range(levels):
            value = {"M": {"a": value}}
        return value

    def test_31_levels_are_accepted(self):
        item = {"pk": {"S": "ok"}, "doc": self.nested(30)}
        self.ddb.put_item(TableName=self.table, Item=item)
        self.assertEqual(self.ddb.get_item(TableName=self.table, Key={"pk": {"S": "ok"}},
                                           ConsistentRead=True)["Item"], item)

    def test_deeper_documents_are_rejected(self):
        self.assertClientError("ValidationException", self.ddb.put_item, TableName=self.table,
                               Item={"pk": {"S": "deep"}, "doc": self.nested(50)})


class ItemSizeTest(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("size")

    def item(self, pk, total_size):
        overhead = len("pk") + len(pk) + len("blob")
        return {"pk": {"S": pk}, "blob": {"S": "b" * (total_size - overhead)}}

    def test_item_just_under_400_kb_is_accepted(self):
        self.ddb.put_item(TableName=self.table, Item=self.item("fits", 400 * 1024 - 64))

    def test_item_over_400_kb_is_rejected(self):
        self.assertClientError("ValidationException", self.ddb.put_item, TableName=self.table,
                               Item=self.item("big", 400 * 1024 + 64),
                               message="Item size has exceeded the maximum allowed size")
        self.assertNotIn("Item", self.ddb.get_item(TableName=self.table, Key={"pk": {"S": "big"}},
                                                   ConsistentRead=True))

    def test_update_that_grows_item_over_400_kb_is_rejected(self):
        self.ddb.put_item(TableName=self.table, Item=self.item("grow", 300 * 1024))
        self.assertClientError("ValidationException", self.ddb.update_item, TableName=self.table,
                               Key={"pk": {"S": "grow"}}, UpdateExpression="SET more = :m",
                               ExpressionAttributeValues={":m": {"S": "m" * (200 * 1024)}})
        item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": "grow"}},
                                 ConsistentRead=True)["Item"]
        self.assertNotIn("more", item)


class UnknownTableTest(tw.ConformanceTestCase):

    def test_every_operation_reports_resource_not_found(self):
        missing = tw.unique_name("missing")
        key = {"pk": {"S": "a"}}
        calls = {
            "DescribeTable": lambda: self.ddb.describe_table(TableName=missing),
            "DeleteTable": lambda: self.ddb.delete_table(TableName=missing),
            "GetItem": lambda: self.ddb.get_item(TableName=missing, Key=key),
            "PutItem": lambda: self.ddb.put_item(TableName=missing, Item=key),
            "UpdateItem": lambda: self.ddb.update_item(TableName=missing, Key=key,
                                                       UpdateExpression="REMOVE a"),
            "DeleteItem": lambda: self.ddb.delete_item(TableName=missing, Key=key),
            "Scan": lambda: self.ddb.scan(TableName=missing),
        }
        for operation, call in calls.items():
            with self.subTest(operation):
                self.assertClientError("ResourceNotFoundException", call,
                                       message="Requested resource not found")


class ConnectionAbuseTest(tw.ConformanceTestCase):
    """Oversized bodies and slow or half-closed connections must not stop the server
    from serving other clients."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_class_table("abuse")

    def assert_serving(self, requests=10):
        started = time.monotonic()
        for i in range(requests):
            self.ddb.put_item(TableName=self.table, Item={"pk": {"S": "alive-%d" % i}})
            self.ddb.get_item(TableName=self.table, Key={"pk": {"S": "alive-%d" % i}})
        self.assertLess(time.monotonic() - started, 10, "other clients were slowed down")

    def test_body_over_size_limit_is_rejected(self):
        # DynamoDB rejects requests over 16 MB; the answer must be an HTTP error the client
        # can read (400 with a DynamoDB error, or 413), not a dropped connection.
        blob = "x" * (17 * 1024 * 1024)
        body = json.dumps({"TableName": self.table,
                           "Item": {"pk": {"S": "huge"}, "blob": {"S": blob}}}).encode()
        headers = tw.signed_headers("PutItem", body)
        host, port = tw.endpoint_address()
        response = {}

        with tw.open_socket(timeout=30) as conn:
            head = "POST / HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n" % (
                host, port, len(body))
            head += "".join("%s: %s\r\n" % kv for kv in headers.items()
                            if kv[0].lower() not in ("host", "content-length"))
            conn.sendall(head.encode() + b"\r\n")

            def send_body():
                try:
                    conn.sendall(body)
                except OSError as e:  # the server may answer and close before reading it all
                    response["send_error"] = e

            sender = threading.Thread(target=send_body)
            sender.start()
            received = b""
            try:
                while b"\r\n\r\n" not in received:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            except OSError as e:
                response["recv_error"] = e
            sender.join(30)
        status_line = received.split(b"\r\n", 1)[0]
        self.assertRegex(status_line, rb"^HTTP/1\.[01] (400|413) ",
                         "no readable HTTP error for a 17 MB body: %r %r" % (received[:200],
                                                                            response))
        self.assert_serving()

    def test_slow_and_half_closed_connections(self):
        abusers = []
        try:
            for _ in range(8):  # headers started, never finished
                s = tw.open_socket()
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.")
                abusers.append(s)
            for _ in range(4):  # body announced, a few bytes sent
                s = tw.open_socket()
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          b"application/x-amz-json-1.0\r\nContent-Length: 100000\r\n\r\n{\"Ta")
                abusers.append(s)
            half_closed = []
            for _ in range(4):  # half a request, then the write side is shut
                s = tw.open_socket()
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
                s.shutdown(socket.SHUT_WR)
                half_closed.append(s)
                abusers.append(s)

            self.assert_serving(requests=20)

            # A peer that can send nothing more cannot complete its request: the server
            # answers (an error) and/or closes; it must not hold the connection forever.
            for s in half_closed:
                s.settimeout(15)
                try:
                    while s.recv(65536):
                        pass
                except socket.timeout:
                    self.fail("server kept a half-closed, incomplete connection open")
                except ConnectionResetError:
                    pass
            self.assert_serving()
        finally:
            for s in abusers:
                s.close()
        self.assert_serving()


class ServerEndpointsTest(tw.ConformanceTestCase):
    """tidewaterd's own endpoints; skipped against other servers."""

    def setUp(self):
        if tw.managed_server() is None:
            self.skipTest("tidewaterd-specific")

    def test_healthz(self):
        status, _, _ = tw.http_get(tw.endpoint(), "/healthz")
        self.assertEqual(status, 200)

    def test_metrics_in_prometheus_text_format(self):
        self.ddb.list_tables()
        status, headers, body = tw.http_get(tw.endpoint(), "/metrics", signed=True)
        self.assertEqual(status, 200)
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        self.assertTrue(content_type.startswith("text/plain"), content_type)
        text = body.decode()
        self.assertIn("# TYPE ", text)


if __name__ == "__main__":
    unittest.main()
