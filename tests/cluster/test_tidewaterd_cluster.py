"""tidewaterd in cluster mode (docs/CLUSTER.md) as real processes: tidewater-test-broker (a
Kafka-protocol cluster on loopback, librdkafka's mock) and tidewaterd nodes, driven by boto3
with retries off, so that every acknowledged write is known.

* A node killed with SIGKILL at random moments, and at the failure point between Kafka's
  acknowledgement and the local write, keeps every acknowledged write once: in the table,
  and in the stream with gap-free sequence numbers and each item's changes in order. A node
  started on an empty data directory rebuilds the same table and stream from the logs.
* Broker faults (leaders moved, produce requests failing, a broker down) make writes fail
  with a retriable error within the append timeout, never hang, and lose nothing.
* A node paused (SIGSTOP) while another takes its shards over acknowledges nothing after it
  resumes, and none of its late writes reaches the new owner (zombie fencing).
* Bad starts exit with a clear message: brokers unreachable, a data directory of another
  node or written outside cluster mode, missing flags. What cluster mode does not do yet
  (restores, imports, shard splits) is refused with a ValidationException.

Environment: TIDEWATERD and TEST_BROKER, the two binaries (tests/CMakeLists.txt).
"""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

os.environ.setdefault("AWS_ACCESS_KEY_ID", "cluster-test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "cluster-test-secret")
REGION = "us-east-1"
CLUSTER = "itest"
SHARDS = 4  # CreateTable's default shard count
SESSION_TIMEOUT_MS = 3000  # of the owners' group: a silent node loses its shards after this


def shard_topic(table_id):
    return "tidewater.%s.t.%d.g0" % (CLUSTER, table_id)


NODES_TOPIC = "tidewater.%s.nodes" % CLUSTER  # where nodes announce their take-overs
CATALOG_TOPIC = "tidewater.%s.catalog" % CLUSTER  # CreateTable and DeleteTable, in order


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """tidewater-test-broker with the nodes and catalog topics and the shard topics of tables
    1..tables created up front."""

    def __init__(self, workdir, tables, cluster_topics=(NODES_TOPIC, CATALOG_TOPIC)):
        args = [os.environ["TEST_BROKER"], "--exit-on-stdin-eof"]
        for topic in cluster_topics:
            args += ["--topic", topic + ":1"]
        for table_id in range(1, tables + 1):
            args += ["--topic", "%s:%d" % (shard_topic(table_id), SHARDS)]
        self.log_path = os.path.join(workdir, "broker.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(args, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.process.stdout.readline()
        match = re.match(r"bootstrap\.servers=(\S+)", line)
        if not match:
            raise RuntimeError("tidewater-test-broker did not start: %r" % line)
        self.bootstraps = match.group(1)

    def command(self, line):
        """One control command (tidewater-test-broker --help); its reply must be "ok"."""
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline().strip()
        if reply != "ok":
            raise AssertionError("broker command %r: %r" % (line, reply))

    def stop(self):
        self.process.stdin.close()
        self.process.stdout.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Node:
    """One tidewaterd process in cluster mode on a fixed port and data directory."""

    def __init__(self, workdir, node_id, brokers, data_dir=None, ownership="every-shard"):
        self.node_id = node_id
        self.ownership = ownership
        self.brokers = brokers
        self.data_dir = data_dir or os.path.join(workdir, node_id)
        self.log_path = os.path.join(workdir, node_id + ".log")
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.process = None
        config = botocore.config.Config(region_name=REGION, connect_timeout=5, read_timeout=30,
                                        retries={"total_max_attempts": 1, "mode": "standard"})
        session = boto3.session.Session()
        self.ddb = session.client("dynamodb", endpoint_url=self.endpoint, config=config)
        self.streams = session.client("dynamodbstreams", endpoint_url=self.endpoint,
                                      config=config)

    def arguments(self):
        return [os.environ["TIDEWATERD"], "--data-dir", self.data_dir,
                "--listen", "127.0.0.1:%d" % self.port, "--region", REGION,
                "--cluster-brokers", self.brokers, "--cluster-name", CLUSTER,
                "--node-id", self.node_id, "--cluster-ownership", self.ownership,
                "--cluster-session-timeout-ms", str(SESSION_TIMEOUT_MS)]

    def start(self, failure_points=None, timeout=60):
        env = dict(os.environ)
        env.pop("TIDEWATER_FAILURE_POINTS", None)
        if failure_points:
            env["TIDEWATER_FAILURE_POINTS"] = failure_points
        with open(self.log_path, "ab") as log:
            log.write(b"\n==== start ====\n")
            log.flush()
            started_at = log.tell()  # this run's lines follow
            self.process = subprocess.Popen(self.arguments(), stdout=log,
                                            stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("%s exited with %s:\n%s" %
                                     (self.node_id, self.process.returncode, self.log_tail()))
            with open(self.log_path, "rb") as log:
                log.seek(started_at)
                if re.search(rb"event=listening .* port=%d" % self.port, log.read()):
                    return
            time.sleep(0.05)
        raise AssertionError("%s did not listen within %ss:\n%s" %
                             (self.node_id, timeout, self.log_tail()))

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
        if self.process:
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)

    def signal(self, number):
        self.process.send_signal(number)

    def get(self, path):
        """(HTTP status, body) of GET `path`."""
        try:
            # 30 s: the node's worker threads (one per core) may all be busy with writes that
            # wait out their append (10 s) while Kafka has no leader; this request waits its turn.
            with urllib.request.urlopen(self.endpoint + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def shard_roles(self):
        """{shard: role} from tidewater_cluster_shard_role on /metrics."""
        _, body = self.get("/metrics")
        roles = {}
        for line in body.splitlines():
            if line.startswith("tidewater_cluster_shard_role{") and line.endswith(" 1"):
                labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
                roles[int(labels["shard"])] = labels["role"]
        return roles

    def log_tail(self, size=6000):
        with open(self.log_path, "rb") as f:
            f.seek(max(0, os.path.getsize(self.log_path) - size))
            return f.read().decode("utf-8", "replace")


def create_stream_table(node, name):
    node.ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def wait_for_table(nodes, name, exists=True, timeout=30):
    """Until DescribeTable of `name` finds it on every node (or, not `exists`, on none)."""
    deadline = time.monotonic() + timeout
    for node in nodes:
        while True:
            try:
                node.ddb.describe_table(TableName=name)
                if exists:
                    break
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
                if not exists:
                    break
            assert time.monotonic() < deadline, "%s: %s not %s" % (
                node.node_id, name, "created" if exists else "deleted")
            time.sleep(0.1)


def create_cluster_table(nodes, name):
    """CreateTable through the first node; the catalog creates it on every node."""
    create_stream_table(nodes[0], name)
    wait_for_table(nodes, name)


def scan_all(node, table):
    items = {}
    kwargs = {"TableName": table, "ConsistentRead": True}
    while True:
        page = node.ddb.scan(**kwargs)
        for item in page["Items"]:
            items[item["pk"]["S"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def stream_records(node, table):
    """Every record of the table's stream, by shard id, in shard order."""
    arn = node.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shards = node.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    records = {}
    for shard in shards:
        iterator = node.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records[shard["ShardId"]] = []
        while iterator:
            page = node.streams.get_records(ShardIterator=iterator, Limit=1000)
            records[shard["ShardId"]] += page["Records"]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def shared_by(*nodes):
    """For wait_for_owners: every shard served by exactly one of `nodes`, and each of them
    serving some."""
    def check(served):
        shards = [shard for node in nodes for shard in served[node.node_id]]
        return sorted(shards) == list(range(SHARDS)) and all(served[node.node_id] for node in nodes)
    return check


def unforwarded_client(node):
    """A DynamoDB client of `node` whose requests say they were forwarded already, so that the
    node answers them itself: served, or refused when another node serves the shard."""
    config = botocore.config.Config(region_name=REGION, connect_timeout=5, read_timeout=30,
                                    retries={"total_max_attempts": 1, "mode": "standard"})
    client = boto3.session.Session().client("dynamodb", endpoint_url=node.endpoint,
                                            config=config)

    def mark(request, **kwargs):
        request.headers["X-Tidewater-Forwarded"] = "1"
    client.meta.events.register("before-send.dynamodb.*", mark)
    return client


def error_code(error):
    if isinstance(error, ClientError):
        return error.response["Error"]["Code"]
    return type(error).__name__


class Writers:
    """Threads writing through a node until stopped: each puts fresh keys (a key is written
    at most once, acknowledged or not) and adds 1 to its own counter item. What was
    acknowledged and what was attempted is recorded, for the checks afterwards.

    Given several nodes, a write refused with nothing done (ServiceUnavailable: the shard is
    another node's; or the connection refused) goes to the next node, as a client without
    forwarding must; a write whose outcome is unknown is never sent again."""

    def __init__(self, nodes, table, count):
        self.nodes = nodes if isinstance(nodes, list) else [nodes]
        self.table = table
        self.count = count
        self.acknowledged_puts = set()
        self.attempted_puts = set()
        self.acknowledged_adds = [0] * count
        self.attempted_adds = [0] * count
        self.errors = {}
        self.slowest_seconds = 0.0  # of one request, answered or failed
        self.next_key = [0] * count
        self.lock = threading.Lock()

    def run_until(self, stop):
        threads = [threading.Thread(target=self._write, args=(w, stop)) for w in range(self.count)]
        for thread in threads:
            thread.start()
        return threads

    def _write(self, writer, stop):
        config = botocore.config.Config(region_name=REGION, connect_timeout=2, read_timeout=15,
                                        retries={"total_max_attempts": 1, "mode": "standard"})
        session = boto3.session.Session()
        clients = [session.client("dynamodb", endpoint_url=node.endpoint, config=config)
                   for node in self.nodes]
        while not stop.is_set():
            if self.next_key[writer] % 2 == 0:
                key = "w%d-%d" % (writer, self.next_key[writer])
                self.attempted_puts.add(key)
                call = lambda ddb: ddb.put_item(TableName=self.table,
                                                Item={"pk": {"S": key}, "v": {"S": "x" * 100}})
            else:
                key = None
                self.attempted_adds[writer] += 1
                call = lambda ddb: ddb.update_item(
                    TableName=self.table, Key={"pk": {"S": "counter-%d" % writer}},
                    UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
            self.next_key[writer] += 1
            started = time.monotonic()
            try:
                for attempt, ddb in enumerate(clients):
                    try:
                        call(ddb)
                        break
                    except (ClientError, EndpointConnectionError) as error:
                        refused = isinstance(error, EndpointConnectionError) or \
                            error_code(error) == "ServiceUnavailable"
                        if not refused or attempt == len(clients) - 1:
                            raise
                if key is None:
                    self.acknowledged_adds[writer] += 1
                else:
                    self.acknowledged_puts.add(key)
            except (ClientError, BotoCoreError) as error:  # refused, or the node died
                with self.lock:
                    code = error_code(error)
                    self.errors[code] = self.errors.get(code, 0) + 1
                time.sleep(0.02)
            finally:
                with self.lock:
                    self.slowest_seconds = max(self.slowest_seconds,
                                               time.monotonic() - started)


class ClusterTestCase(unittest.TestCase):
    maxDiff = 4000
    WRITES_RESUME_SECONDS = 30  # after a fault, 50 more puts are acknowledged within this

    def wait_for_writes(self, writers, count=50):
        """Until `count` more puts were acknowledged: writes are taken again."""
        acknowledged = len(writers.acknowledged_puts)
        deadline = time.monotonic() + self.WRITES_RESUME_SECONDS
        while len(writers.acknowledged_puts) < acknowledged + count:
            self.assertLess(time.monotonic(), deadline, "writes did not resume")
            time.sleep(0.1)

    def owners(self, nodes):
        """{node id: shards it serves}; a node that does not answer serves nothing."""
        served = {}
        for node in nodes:
            try:
                roles = node.shard_roles() if node.process.poll() is None else {}
            except OSError:
                roles = {}
            served[node.node_id] = {shard for shard, role in roles.items() if role == "owner"}
        return served

    def wait_for_owners(self, nodes, expect, timeout=60):
        """Until `expect(served)` holds for owners(nodes); returns the served shards."""
        deadline = time.monotonic() + timeout
        while True:
            served = self.owners(nodes)
            if expect(served):
                return served
            self.assertLess(time.monotonic(), deadline, served)
            time.sleep(0.2)

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="tw-cluster-")
        self.nodes = []
        self.broker = None

    def tearDown(self):
        for node in self.nodes:
            if node.process and node.process.poll() is None:
                try:
                    node.signal(signal.SIGCONT)
                except ProcessLookupError:
                    pass
                node.kill()
        if self.broker:
            self.broker.stop()
        result = getattr(self._outcome, "result", None)
        failed = result is not None and any(test is self for test, _ in
                                            result.errors + result.failures)
        if failed or os.environ.get("TIDEWATER_KEEP_DATA"):
            for node in self.nodes:
                print("---- %s log (%s) ----\n%s" % (node.node_id, node.log_path,
                                                    node.log_tail(8000)))
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start_broker(self, tables, **kwargs):
        self.broker = Broker(self.workdir, tables, **kwargs)
        return self.broker

    def node(self, node_id, data_dir=None, ownership="every-shard"):
        node = Node(self.workdir, node_id, self.broker.bootstraps, data_dir, ownership)
        self.nodes.append(node)
        return node

    def assert_stream_consistent(self, records, items):
        """Per shard: sequence numbers 1, 2, ... with no gap; each put key inserted once;
        each counter's images counting up by one, in order. Returns the number of records."""
        inserted = set()
        total = 0
        for shard_id, shard_records in records.items():
            sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in shard_records]
            self.assertEqual(sequences, list(range(1, len(sequences) + 1)),
                             "shard %s has gaps or repeats" % shard_id)
            counters = {}
            for record in shard_records:
                key = record["dynamodb"]["Keys"]["pk"]["S"]
                total += 1
                if key.startswith("counter-"):
                    value = int(record["dynamodb"]["NewImage"]["n"]["N"])
                    self.assertEqual(value, counters.get(key, 0) + 1,
                                     "counter %s out of order in shard %s" % (key, shard_id))
                    counters[key] = value
                else:
                    self.assertEqual(record["eventName"], "INSERT")
                    self.assertNotIn(key, inserted, "key %s inserted twice" % key)
                    inserted.add(key)
            for key, value in counters.items():
                self.assertEqual(int(items[key]["n"]["N"]), value)
        self.assertEqual(inserted, {k for k in items if not k.startswith("counter-")})
        return total


    def assert_writes_kept_and_rebuilt(self, node, writers):
        """Every acknowledged write is in the table and the stream once, nothing unattempted
        is, and a node started on an empty data directory (the node under test stopped)
        builds the same items and stream records from the logs."""
        items = scan_all(node, "events")
        self.assertTrue(writers.acknowledged_puts, "no write was acknowledged")
        self.assertLessEqual(writers.acknowledged_puts, set(items))
        puts = {k for k in items if not k.startswith("counter-")}
        self.assertLessEqual(puts, writers.attempted_puts)
        for writer in range(writers.count):
            value = int(items["counter-%d" % writer]["n"]["N"])
            self.assertGreaterEqual(value, writers.acknowledged_adds[writer])
            self.assertLessEqual(value, writers.attempted_adds[writer])
        records = stream_records(node, "events")
        total = self.assert_stream_consistent(records, items)
        print("items:", len(items), "stream records:", total,
              "acknowledged puts:", len(writers.acknowledged_puts))

        node.stop()
        rebuilt = self.node(node.node_id + "-rebuilt")
        rebuilt.start()
        create_stream_table(rebuilt, "events")
        self.assertEqual(scan_all(rebuilt, "events"), items)
        # Shard ids name the node's table creation; the shards come in the same order.
        strip = lambda shards: [[(r["eventName"], r["dynamodb"]["SequenceNumber"],
                                  r["dynamodb"].get("NewImage"), r["dynamodb"].get("OldImage"))
                                 for r in records] for records in shards.values()]
        self.assertEqual(strip(stream_records(rebuilt, "events")), strip(records))


class KillNineTest(ClusterTestCase):
    ROUNDS = 8

    def test_acknowledged_writes_survive_kill9_and_a_new_node_rebuilds_them(self):
        self.start_broker(tables=1)
        node = self.node("n1")
        node.start()
        create_stream_table(node, "events")
        writers = Writers(node, "events", count=3)
        rng = random.Random(int(os.environ.get("TIDEWATER_TEST_SEED", time.time())))
        kills = []
        for round_number in range(self.ROUNDS):
            stop = threading.Event()
            at_failure_point = round_number % 2 == 1
            if at_failure_point:
                # Between Kafka's acknowledgement and the local write.
                node.kill()
                hit = rng.randint(5, 80)
                node.start(failure_points="cluster.after_append=kill@%d" % hit)
                threads = writers.run_until(stop)
                node.process.wait(timeout=60)
                kills.append("after_append@%d" % hit)
            else:
                threads = writers.run_until(stop)
                delay = rng.uniform(0.2, 1.5)
                time.sleep(delay)
                node.kill()
                kills.append("random@%.2fs" % delay)
            stop.set()
            for thread in threads:
                thread.join()
            if at_failure_point:
                self.assertIn("event=failure_point name=cluster.after_append", node.log_tail())
            node.start()
        print("kills:", ", ".join(kills), "errors seen by writers:", writers.errors)
        self.assertEqual(node.shard_roles(), {shard: "owner" for shard in range(SHARDS)})
        self.assertEqual(node.get("/healthz")[0], 200)

        self.assert_writes_kept_and_rebuilt(node, writers)


class BrokerFaultTest(ClusterTestCase):
    # A write waits at most the shard log's append timeout (10 s) for Kafka, then fails.
    APPEND_TIMEOUT_SECONDS = 10
    OWNERSHIP = "every-shard"

    def test_writes_fail_retriably_under_broker_faults_and_lose_nothing(self):
        broker = self.start_broker(tables=1)
        node = self.node("n1", ownership=self.OWNERSHIP)
        node.start()
        create_stream_table(node, "events")
        deadline = time.monotonic() + 60  # a group member waits for its first assignment
        while node.shard_roles() != {shard: "owner" for shard in range(SHARDS)}:
            self.assertLess(time.monotonic(), deadline, node.shard_roles())
            time.sleep(0.2)
        writers = Writers(node, "events", count=3)
        stop = threading.Event()
        threads = writers.run_until(stop)
        topic = shard_topic(1)
        try:
            time.sleep(0.5)
            # Leaders move (the mock elects none by itself).
            for partition in range(SHARDS):
                broker.command("leader %s %d %d" % (topic, partition, 1 + partition % 3))
            time.sleep(0.5)
            # Produce requests fail: NOT_LEADER_OR_FOLLOWER (6), REQUEST_TIMED_OUT (7),
            # NOT_ENOUGH_REPLICAS (19), all retriable for the producer.
            for code in (6, 7, 19):
                broker.command("request-errors 0 %d 5" % code)
                time.sleep(0.3)
            # A broker goes down with the partitions it leads, which then move elsewhere.
            for partition in range(SHARDS):
                broker.command("leader %s %d 1" % (topic, partition))
            broker.command("broker-down 1")
            time.sleep(2)
            for partition in range(SHARDS):
                broker.command("leader %s %d 2" % (topic, partition))
            broker.command("broker-up 1")
            self.wait_for_writes(writers)
            # No leader for longer than an append may wait: the writes in flight fail
            # (their outcome unknown), the node stops writing and recovers its shards
            # once the partitions have leaders again.
            errors_before = sum(writers.errors.values())
            for partition in range(SHARDS):
                broker.command("leader %s %d -1" % (topic, partition))
            health = set()
            window_ends = time.monotonic() + self.APPEND_TIMEOUT_SECONDS + 2
            while time.monotonic() < window_ends:
                health.add(node.get("/healthz")[0])
                time.sleep(0.2)
            for partition in range(SHARDS):
                broker.command("leader %s %d 3" % (topic, partition))
            self.wait_for_writes(writers)
            self.assertIn(503, health, "/healthz never said the node was recovering")
            deadline = time.monotonic() + 30  # every shard recovers, not only the busiest
            while node.get("/healthz")[0] != 200:
                self.assertLess(time.monotonic(), deadline, node.get("/healthz"))
                time.sleep(0.2)
            self.assertEqual(node.shard_roles(), {shard: "owner" for shard in range(SHARDS)})
            self.assertGreater(sum(writers.errors.values()), errors_before,
                               "no write failed while the partitions had no leader")
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        print("errors seen by writers:", writers.errors,
              "slowest request: %.2fs" % writers.slowest_seconds)
        self.assertIn("event=shard_taken_over", node.log_tail(20000))
        self.assertLessEqual(set(writers.errors), {"InternalServerError", "ServiceUnavailable"})
        self.assertLess(writers.slowest_seconds, self.APPEND_TIMEOUT_SECONDS + 3)
        self.assert_writes_kept_and_rebuilt(node, writers)



class GroupMemberBrokerFaultTest(BrokerFaultTest):
    """The same faults on a node that owns its shards through the owners' group, whose
    coordinator is one of the brokers that fail."""
    OWNERSHIP = "group"


class ZombieTest(ClusterTestCase):
    def test_a_paused_owner_acknowledges_nothing_after_another_node_took_over(self):
        self.start_broker(tables=1)
        first = self.node("n1")
        first.start()
        create_stream_table(first, "events")
        for i in range(20):
            first.ddb.put_item(TableName="events", Item={"pk": {"S": "before-%d" % i}})

        first.signal(signal.SIGSTOP)
        second = self.node("n2")
        second.start()
        create_stream_table(second, "events")  # table id 1: takes every shard over
        second.ddb.put_item(TableName="events", Item={"pk": {"S": "second-1"}})
        first.signal(signal.SIGCONT)

        refused = {}
        for i in range(20):
            try:
                first.ddb.put_item(TableName="events", Item={"pk": {"S": "zombie-%d" % i}})
                self.fail("the fenced node acknowledged zombie-%d" % i)
            except ClientError as error:
                code = error_code(error)
                refused[code] = refused.get(code, 0) + 1
        print("the fenced node's answers:", refused)
        self.assertLessEqual(set(refused), {"InternalServerError", "ServiceUnavailable"})
        for i in range(2, 6):  # the new owner's appends read past the zombie's
            second.ddb.put_item(TableName="events", Item={"pk": {"S": "second-%d" % i}})

        items = scan_all(second, "events")
        expected = {"before-%d" % i for i in range(20)} | {"second-%d" % i for i in
                                                           [1, 2, 3, 4, 5]}
        self.assertEqual(set(items), expected)
        self.assert_stream_consistent(stream_records(second, "events"), items)
        # The fenced node notices, applies the logs up to the new owner's term and stays out.
        deadline = time.monotonic() + 20
        attempt = 0
        while set(first.shard_roles().values()) != {"lost"}:
            self.assertLess(time.monotonic(), deadline, first.shard_roles())
            attempt += 1  # a shard learns of its new owner at its next append
            with self.assertRaises(ClientError):
                first.ddb.put_item(TableName="events",
                                   Item={"pk": {"S": "zombie-later-%d" % attempt}})
            time.sleep(0.2)
        self.assertEqual(second.shard_roles(), {shard: "owner" for shard in range(SHARDS)})
        # The fenced node keeps refusing writes to the shards it lost.
        with self.assertRaises(ClientError) as refusal:
            first.ddb.put_item(TableName="events", Item={"pk": {"S": "zombie-late"}})
        self.assertIn(error_code(refusal.exception), {"InternalServerError", "ServiceUnavailable"})
        # Nor does it answer reads of them: its copy stopped at the take-over (second-2..5
        # are not in it), so strong and eventually consistent reads alike would be stale.
        reads = {
            "strong GetItem": lambda: first.ddb.get_item(
                TableName="events", Key={"pk": {"S": "second-5"}}, ConsistentRead=True),
            "eventual GetItem": lambda: first.ddb.get_item(
                TableName="events", Key={"pk": {"S": "second-5"}}),
            "Query": lambda: first.ddb.query(
                TableName="events", KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": "second-5"}}),
            "Scan": lambda: first.ddb.scan(TableName="events"),
            "BatchGetItem": lambda: first.ddb.batch_get_item(
                RequestItems={"events": {"Keys": [{"pk": {"S": "second-5"}}]}}),
            "TransactGetItems": lambda: first.ddb.transact_get_items(
                TransactItems=[{"Get": {"TableName": "events", "Key": {"pk": {"S": "second-5"}}}}]),
        }
        for name, read in reads.items():
            with self.assertRaises(ClientError, msg=name) as refusal:
                read()
            self.assertEqual(error_code(refusal.exception), "ServiceUnavailable", name)


class GroupOwnershipTest(ClusterTestCase):
    """Nodes with --cluster-ownership group share the shards through the owners' group."""
    # Shards move only once the group has rebalanced (a session timeout and more, on the
    # test broker).
    WRITES_RESUME_SECONDS = 60

    def test_nodes_share_the_shards_fail_over_and_hand_off(self):
        self.start_broker(tables=1)
        a, b, c = (self.node(name, ownership="group") for name in ("n1", "n2", "n3"))
        for node in (a, b, c):
            node.start()
        create_cluster_table([a, b, c], "events")

        print("shared:", self.wait_for_owners([a, b, c], shared_by(a, b, c)))
        # A node refuses a shard another serves: nothing is done, the client goes elsewhere.
        writers = Writers([a, b, c], "events", count=3)
        stop = threading.Event()
        threads = writers.run_until(stop)
        try:
            self.wait_for_writes(writers)
            # kill -9: the others take the dead node's shards once its session expires.
            a.kill()
            killed_at = time.monotonic()
            self.wait_for_owners([b, c], shared_by(b, c))
            print("failover after kill -9: %.1fs" % (time.monotonic() - killed_at))
            self.wait_for_writes(writers)
            # It comes back: the group gives it shards again, which it takes over from the
            # logs the others appended to meanwhile.
            a.start()
            print("rejoined:", self.wait_for_owners([a, b, c], shared_by(a, b, c)))
            self.wait_for_writes(writers)
            # Graceful stops hand the shards off, until one node serves them all.
            b.stop()
            self.assertIn("event=shard_handed_off", b.log_tail(20000))
            print("after n2 left:", self.wait_for_owners([a, c], shared_by(a, c)))
            self.wait_for_writes(writers)
            c.stop()
            self.wait_for_owners([a], shared_by(a))
            self.wait_for_writes(writers)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        print("errors seen by writers:", writers.errors)
        self.assertLessEqual(set(writers.errors), {"InternalServerError", "ServiceUnavailable",
                                                   "ReadTimeoutError", "ConnectionClosedError",
                                                   "EndpointConnectionError"})
        self.assertEqual(a.get("/healthz")[0], 200)
        self.assert_writes_kept_and_rebuilt(a, writers)


    def test_a_paused_member_acknowledges_nothing_once_the_group_moved_its_shards(self):
        self.start_broker(tables=1)
        a, b = (self.node(name, ownership="group") for name in ("n1", "n2"))
        for node in (a, b):
            node.start()
        create_cluster_table([a, b], "events")
        served = self.wait_for_owners(
            [a, b], lambda served: len(served["n1"]) == 2 and len(served["n2"]) == 2)
        # A paused node's requests wait (the kernel accepts their connections), so the
        # writers go to the other node first.
        writers = Writers([b, a], "events", count=2)
        stop = threading.Event()
        threads = writers.run_until(stop)
        try:
            self.wait_for_writes(writers)
            # Paused past its session: the group gives its shards to the other node.
            a.signal(signal.SIGSTOP)
            self.wait_for_owners([b], lambda served: len(served["n2"]) == SHARDS)
            self.wait_for_writes(writers)
            resumed_at = os.path.getsize(a.log_path)
            a.signal(signal.SIGCONT)
            # At once: it still believes it owns its old shards until its client learns of
            # the lost session, and its appends there land after the new owner's term.
            # Its own answers, not the new owner's through forwarding.
            paused = unforwarded_client(a)
            refused = {}
            for i in range(20):
                try:
                    paused.put_item(TableName="events", Item={"pk": {"S": "zombie-%d" % i}})
                    # Only legitimate once it rejoined and took a shard over again.
                    with open(a.log_path, "rb") as log:
                        log.seek(resumed_at)
                        self.assertIn(b"event=shard_taken_over", log.read(),
                                      "the paused member acknowledged zombie-%d (owners "
                                      "before: %s)" % (i, served))
                    writers.attempted_puts.add("zombie-%d" % i)
                    writers.acknowledged_puts.add("zombie-%d" % i)
                    break
                except ClientError as error:
                    refused[error_code(error)] = refused.get(error_code(error), 0) + 1
            print("the paused member's answers:", refused)
            self.assertTrue(refused, "the paused member was not refused once")
            # It learns of its lost session, rejoins and is given shards again.
            self.wait_for_owners([a, b], lambda served: served["n1"] and served["n2"] and
                                 len(served["n1"] | served["n2"]) == SHARDS)
            self.wait_for_writes(writers)
            b.stop()  # hands its shards to the node that was paused
            self.wait_for_owners([a], lambda served: len(served["n1"]) == SHARDS)
            self.wait_for_writes(writers)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        self.assertLessEqual(set(refused), {"InternalServerError", "ServiceUnavailable"})
        items = scan_all(a, "events")
        self.assertFalse({"zombie-%d" % i for i in range(sum(refused.values()))} & set(items),
                         "a fenced write was applied")
        self.assert_writes_kept_and_rebuilt(a, writers)


class ForwardingTest(ClusterTestCase):
    """Any node answers any item request: a node forwards what its shards' owner must do."""

    def forwarded(self, node):
        """{outcome: count} of tidewater_cluster_forwarded_requests_total on `node`."""
        _, body = node.get("/metrics")
        counts = {}
        for line in body.splitlines():
            if line.startswith("tidewater_cluster_forwarded_requests_total{"):
                outcome = re.search(r'outcome="(\w+)"', line).group(1)
                counts[outcome] = counts.get(outcome, 0) + float(line.rsplit(" ", 1)[1])
        return counts

    def wait_until_served_through(self, node, keys, timeout=30):
        """Until a put of each key through `node` is acknowledged (once each owner's
        announcement reached it)."""
        deadline = time.monotonic() + timeout
        for key in keys:
            while True:
                try:
                    node.ddb.put_item(TableName="events", Item={"pk": {"S": key}})
                    break
                except ClientError as error:
                    self.assertEqual(error_code(error), "ServiceUnavailable")
                    self.assertLess(time.monotonic(), deadline, "%s: %s" % (node.node_id, error))
                    time.sleep(0.2)

    def assert_served_through_every_node(self, nodes, tag):
        """Puts, updates, strong reads and queries through each node alone, none refused."""
        keys = ["%s-%d" % (tag, i) for i in range(40)]  # on every shard (40 keys, 4 shards)
        for node in nodes:
            self.wait_until_served_through(node, keys[:8])
        for node in nodes:
            for key in keys:
                node.ddb.put_item(TableName="events",
                                  Item={"pk": {"S": key}, "by": {"S": node.node_id}})
                node.ddb.update_item(TableName="events", Key={"pk": {"S": "count-" + key}},
                                     UpdateExpression="ADD n :one",
                                     ExpressionAttributeValues={":one": {"N": "1"}})
            for key in keys:  # strongly consistent reads, through the owner
                for reader in nodes:
                    item = reader.ddb.get_item(TableName="events", Key={"pk": {"S": key}},
                                               ConsistentRead=True)["Item"]
                    self.assertEqual(item["by"]["S"], node.node_id)
        for reader in nodes:
            for key in keys[:10]:
                page = reader.ddb.query(TableName="events", KeyConditionExpression="pk = :k",
                                        ExpressionAttributeValues={":k": {"S": "count-" + key}},
                                        ConsistentRead=True)
                self.assertEqual(page["Items"][0]["n"]["N"], str(len(nodes)))

    def test_every_node_answers_for_every_shard_across_a_failover(self):
        self.start_broker(tables=1)
        a, b, c = (self.node(name, ownership="group") for name in ("n1", "n2", "n3"))
        for node in (a, b, c):
            node.start()
        create_cluster_table([b, a, c], "events")
        print("shared:", self.wait_for_owners([a, b, c], shared_by(a, b, c)))
        self.assert_served_through_every_node([a, b, c], "first")
        for node in (a, b, c):  # each owns some shards and forwarded for the others
            self.assertGreater(self.forwarded(node).get("answered", 0), 0, node.node_id)

        # Scans through one node walk the shards of every node: whole, paged, in parallel
        # segments (two shards each, and within one shard), counted; and the AWS CLI's.
        expected = {"%s-%d" % (prefix, i) for prefix in ("first", "count-first")
                    for i in range(40)}
        for node in (a, b, c):
            page = node.ddb.scan(TableName="events", ConsistentRead=True)
            self.assertNotIn("LastEvaluatedKey", page)
            self.assertEqual(sorted(item["pk"]["S"] for item in page["Items"]), sorted(expected))
            self.assertEqual(node.ddb.scan(TableName="events", Select="COUNT")["Count"], 80)
        for kwargs in ({"Limit": 7}, {"TotalSegments": 2}, {"TotalSegments": 8, "Limit": 5}):
            seen = []
            for segment in range(kwargs.get("TotalSegments", 1)):
                request = dict(kwargs, TableName="events")
                if "TotalSegments" in kwargs:
                    request["Segment"] = segment
                while True:
                    page = b.ddb.scan(**request)
                    seen += [item["pk"]["S"] for item in page["Items"]]
                    if "LastEvaluatedKey" not in page:
                        break
                    request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            self.assertEqual(sorted(seen), sorted(expected), kwargs)  # each item once
        out = subprocess.run(
            ["/usr/bin/aws", "dynamodb", "scan", "--endpoint-url", c.endpoint, "--region",
             REGION, "--table-name", "events", "--page-size", "9", "--select", "COUNT",
             "--output", "json"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('"Count": 80', out.stdout)

        # Batches spanning every node's shards, through one node: split among the nodes
        # serving them (its own share included), the answers merged, nothing unprocessed.
        puts = [{"PutRequest": {"Item": {"pk": {"S": "batch-%d" % i}, "v": {"N": str(i)}}}}
                for i in range(25)]
        answer = b.ddb.batch_write_item(RequestItems={"events": puts},
                                        ReturnConsumedCapacity="TOTAL")
        self.assertEqual(answer["UnprocessedItems"], {})
        self.assertEqual(answer["ConsumedCapacity"][0]["CapacityUnits"], 25)
        keys = [{"pk": {"S": "batch-%d" % i}} for i in range(25)] + \
            [{"pk": {"S": "first-%d" % i}} for i in range(20)]
        answer = c.ddb.batch_get_item(RequestItems={"events": {"Keys": keys,
                                                               "ConsistentRead": True}})
        self.assertEqual(answer["UnprocessedKeys"], {})
        got = {item["pk"]["S"]: item for item in answer["Responses"]["events"]}
        self.assertEqual(set(got), {key["pk"]["S"] for key in keys})
        self.assertEqual(got["batch-7"]["v"]["N"], "7")
        answer = a.ddb.batch_write_item(RequestItems={"events": [
            {"DeleteRequest": {"Key": {"pk": {"S": "batch-%d" % i}}}} for i in range(25)]})
        self.assertEqual(answer["UnprocessedItems"], {})
        for i in range(25):
            self.assertNotIn("Item", c.ddb.get_item(TableName="events", ConsistentRead=True,
                                                     Key={"pk": {"S": "batch-%d" % i}}))

        # Clients on every node at once: a worker waiting for an owner's answer goes on
        # serving the other nodes' forwarded requests, so no two nodes wait for each other.
        acknowledged, failures = [], []

        def write(node, writer):
            for i in range(60):
                key = "busy-%s-%d-%d" % (node.node_id, writer, i)
                try:
                    node.ddb.put_item(TableName="events", Item={"pk": {"S": key}})
                    acknowledged.append(key)
                except (ClientError, BotoCoreError) as error:
                    failures.append(error_code(error))
        threads = [threading.Thread(target=write, args=(node, writer))
                   for node in (a, b, c) for writer in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(failures, [])
        self.assertEqual(len(acknowledged), 3 * 4 * 60)

        # The AWS CLI through one node, for a key of each shard.
        for i in range(8):
            out = subprocess.run(
                ["/usr/bin/aws", "dynamodb", "get-item", "--endpoint-url", b.endpoint,
                 "--region", REGION, "--table-name", "events", "--consistent-read",
                 "--key", '{"pk": {"S": "first-%d"}}' % i, "--output", "json"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn('"first-%d"' % i, out.stdout)

        # A request forwarded once is never forwarded again: exactly one node serves a key.
        unforwarded = {node.node_id: unforwarded_client(node) for node in (a, b, c)}
        for i in range(8):
            served = []
            for node in (a, b, c):
                try:
                    unforwarded[node.node_id].get_item(TableName="events",
                                                       Key={"pk": {"S": "first-%d" % i}})
                    served.append(node.node_id)
                except ClientError as error:
                    self.assertEqual(error_code(error), "ServiceUnavailable")
            self.assertEqual(len(served), 1, "first-%d served by %s" % (i, served))
            owner = served[0]
            # Batches and transactions whose items all live on one other node's shards.
            other = next(node for node in (a, b, c) if node.node_id != owner)
            other.ddb.transact_write_items(TransactItems=[{"Update": {
                "TableName": "events", "Key": {"pk": {"S": "first-%d" % i}},
                "UpdateExpression": "SET t = :t",
                "ExpressionAttributeValues": {":t": {"S": other.node_id}}}}])
            got = other.ddb.batch_get_item(RequestItems={"events": {
                "Keys": [{"pk": {"S": "first-%d" % i}}], "ConsistentRead": True}})
            self.assertEqual(got["Responses"]["events"][0]["t"]["S"], other.node_id)

        # kill -9 of a node: once the others took its shards over and announced it, each of
        # them answers for every shard again.
        a.kill()
        self.wait_for_owners([b, c], shared_by(b, c))
        self.assert_served_through_every_node([b, c], "second")
        for key in ("first-%d" % i for i in range(40)):  # what n1 served is kept
            self.assertIn("Item", c.ddb.get_item(TableName="events", Key={"pk": {"S": key}},
                                                 ConsistentRead=True))


class CatalogTest(ClusterTestCase):
    """CreateTable and DeleteTable through any node reach every node, in one order, so that
    table ids (and with them the shard-log topics) agree."""

    def wait_for_log(self, node, event, count, timeout=30):
        """Until `event` appears `count` times in the node's log."""
        deadline = time.monotonic() + timeout
        while node.log_tail(10 ** 6).count(event) < count:
            self.assertLess(time.monotonic(), deadline, "%s: no %s" % (node.node_id, event))
            time.sleep(0.1)

    def put_through_every_node(self, nodes, table, tag):
        for node in nodes:
            deadline = time.monotonic() + 60
            for i in range(8):  # keys of every shard
                while True:
                    try:
                        node.ddb.put_item(TableName=table, Item={"pk": {"S": "%s-%d" % (tag, i)}})
                        break
                    except ClientError as error:  # until the group assigned the new table
                        self.assertEqual(error_code(error), "ServiceUnavailable")
                        self.assertLess(time.monotonic(), deadline, str(error))
                        time.sleep(0.2)

    def test_tables_created_and_deleted_through_any_node_exist_on_every_node(self):
        self.start_broker(tables=3)
        a, b, c = (self.node(name, ownership="group") for name in ("n1", "n2", "n3"))
        for node in (a, b, c):
            node.start()
        create_cluster_table([b, a, c], "events")  # id 1
        create_cluster_table([c, a, b], "second")  # id 2
        with self.assertRaises(ClientError) as again:
            create_stream_table(a, "second")
        self.assertEqual(error_code(again.exception), "ResourceInUseException")
        self.put_through_every_node([a, b, c], "second", "s")
        a.ddb.delete_table(TableName="second")
        wait_for_table([a, b, c], "second", exists=False)
        self.put_through_every_node([a, b, c], "events", "e")

        # A restarted node goes on after the changes it applied (none applied twice).
        b.stop()
        applied_before = b.log_tail(10 ** 6).count("event=catalog_applied")
        b.start()
        self.wait_for_log(b, "event=catalog_read", 2)
        self.assertEqual(b.log_tail(10 ** 6).count("event=catalog_applied"), applied_before)
        # A new node replays the catalog: the same tables, with the same ids.
        d = self.node("n4", ownership="group")
        d.start()
        self.wait_for_log(d, "event=catalog_read", 1)
        self.assertEqual(d.log_tail(10 ** 6).count("event=catalog_applied"), 4)
        self.assertEqual(d.ddb.list_tables()["TableNames"], ["events"])
        create_cluster_table([d, a, b, c], "third")  # id 3 on every node
        self.put_through_every_node([a, b, c, d], "third", "t")
        self.put_through_every_node([d], "events", "e")
        for i in range(8):
            self.assertIn("Item", c.ddb.get_item(TableName="third", ConsistentRead=True,
                                                 Key={"pk": {"S": "t-%d" % i}}))


class BadStartTest(ClusterTestCase):
    def run_to_exit(self, node, extra=(), timeout=60):
        completed = subprocess.run(node.arguments() + list(extra), capture_output=True,
                                   text=True, timeout=timeout)
        self.assertNotEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        return completed.stdout + completed.stderr

    def test_unreachable_brokers(self):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        node = Node(self.workdir, "n1", "127.0.0.1:%d" % port)
        output = self.run_to_exit(node)
        self.assertIn("did not answer", output)

    def test_group_ownership_without_the_nodes_or_catalog_topic(self):
        for present, missing in ((CATALOG_TOPIC, NODES_TOPIC), (NODES_TOPIC, CATALOG_TOPIC)):
            self.start_broker(tables=1, cluster_topics=(present,))
            node = Node(self.workdir, "n1", self.broker.bootstraps, ownership="group")
            self.assertIn(missing, self.run_to_exit(node))
            self.broker.stop()
            shutil.rmtree(node.data_dir, ignore_errors=True)

    def test_data_directory_of_another_node_or_outside_cluster_mode(self):
        self.start_broker(tables=1)
        first = self.node("n1")
        first.start()
        first.stop()
        impostor = Node(self.workdir, "n9", self.broker.bootstraps, data_dir=first.data_dir)
        self.assertIn("belongs to node n1 of cluster itest", self.run_to_exit(impostor))
        embedded = subprocess.run(
            [os.environ["TIDEWATERD"], "--data-dir", first.data_dir, "--listen",
             "127.0.0.1:%d" % free_port()], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(embedded.returncode, 0)
        self.assertIn("start it with --cluster-brokers", embedded.stdout + embedded.stderr)

        embedded_dir = os.path.join(self.workdir, "embedded")
        server = subprocess.Popen([os.environ["TIDEWATERD"], "--data-dir", embedded_dir,
                                   "--listen", "127.0.0.1:%d" % free_port()],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(os.path.join(embedded_dir, "CURRENT")):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        server.terminate()
        server.wait(timeout=30)
        joining = Node(self.workdir, "n2", self.broker.bootstraps, data_dir=embedded_dir)
        self.assertIn("outside cluster mode", self.run_to_exit(joining))

    def test_missing_and_malformed_flags(self):
        self.start_broker(tables=1)
        node = Node(self.workdir, "n1", self.broker.bootstraps)
        def without(arguments, *flags):  # each flag and its value left out
            for flag in flags:
                at = arguments.index(flag)
                arguments = arguments[:at] + arguments[at + 2:]
            return arguments

        without_name = without(node.arguments(), "--cluster-name")
        completed = subprocess.run(without_name, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(completed.returncode, 0)
        self.assertIn("--cluster-name must be", completed.stdout + completed.stderr)
        bad_id = Node(self.workdir, "n 1", self.broker.bootstraps)
        self.assertIn("--node-id must be", self.run_to_exit(bad_id))
        # The config file's keys are checked as the flags are.
        config = os.path.join(self.workdir, "ownership.yaml")
        from_file = without(node.arguments(), "--cluster-ownership",
                            "--cluster-session-timeout-ms") + ["--config", config]
        for text, message in [("cluster-ownership: everything",
                               "--cluster-ownership must be group or every-shard"),
                              ("cluster-session-timeout-ms: 10",
                               "--cluster-session-timeout-ms must be from 1000")]:
            with open(config, "w") as f:
                f.write(text + "\n")
            completed = subprocess.run(from_file, capture_output=True, text=True, timeout=60)
            self.assertNotEqual(completed.returncode, 0)
            self.assertIn(message, completed.stdout + completed.stderr)


class LimitsTest(ClusterTestCase):
    def test_a_table_without_its_topic_is_not_created(self):
        self.start_broker(tables=1)
        node = self.node("n1")
        node.start()
        create_stream_table(node, "first")  # id 1: its topic exists
        with self.assertRaises(ClientError) as refusal:
            create_stream_table(node, "second")  # id 2: no topic, and the mock creates none
        self.assertEqual(error_code(refusal.exception), "InternalServerError")
        self.assertIn(shard_topic(2), str(refusal.exception))
        self.assertEqual(node.ddb.list_tables()["TableNames"], ["first"])
        node.ddb.put_item(TableName="first", Item={"pk": {"S": "a"}})

    def test_restores_and_imports_are_refused(self):
        self.start_broker(tables=1)
        node = self.node("n1")
        node.start()
        create_stream_table(node, "events")
        node.ddb.put_item(TableName="events", Item={"pk": {"S": "a"}})
        backup = node.ddb.create_backup(TableName="events", BackupName="before")
        with self.assertRaises(ClientError) as refusal:
            node.ddb.restore_table_from_backup(
                TargetTableName="restored",
                BackupArn=backup["BackupDetails"]["BackupArn"])
        self.assertEqual(error_code(refusal.exception), "ValidationException")
        self.assertIn("not available in cluster mode", str(refusal.exception))


if __name__ == "__main__":
    unittest.main()
