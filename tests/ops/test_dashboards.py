"""The Grafana dashboards and Prometheus alert rules in deploy/, checked against a real
Prometheus (Debian's `prometheus`, on loopback) scraping real processes: two tidewaterd
regions (one publishing to a mock Kafka cluster process), a replicator between them, a
`tidewater sink` and a `tidewater trigger`, while a writer keeps writing.

  * `promtool check rules` passes on the rules file;
  * every dashboard query returns series through Prometheus's HTTP API (no panel refers to
    a metric that does not exist);
  * every alert expression evaluates, and every metric it names is exported by a process;
  * stopping the replicator (SIGKILL) while writes go on makes TidewaterReplicatorDown fire;
  * a key written into one replica only, found by `tidewater verify --metrics-file` (through
    node_exporter's textfile collector, Debian's `prometheus-node-exporter`), makes
    TidewaterReplicaDivergence fire.

Binaries come from the environment (set by CTest): TIDEWATERD, TIDEWATER, REPLICATOR,
TEST_BROKER (tidewater-test-broker); PROJECT_DIR is the source tree.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

import boto3
import yaml

PROJECT = os.environ.get("PROJECT_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(PROJECT, "deploy", "prometheus", "tidewater-alerts.yml")
DASHBOARDS = sorted(glob.glob(os.path.join(PROJECT, "deploy", "grafana", "*.json")))
DEADLINE_SECONDS = 90


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout=DEADLINE_SECONDS, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    return condition()


class Process:
    """A child process with its output in a file (read by wait_for_log)."""

    def __init__(self, name, args, directory, stdin=None):
        self.log_path = os.path.join(directory, name + ".log")
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT,
                                        stdin=stdin)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_for_log(self, pattern, timeout=30):
        found = wait_for(lambda: re.search(pattern, self.log()), timeout, 0.05)
        if not found:
            raise AssertionError(f"{pattern!r} not in {self.log_path}:\n{self.log()[-3000:]}")
        return found

    def stop(self, sig=signal.SIGTERM):
        if self.process.stdin:
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


def expressions_of(dashboard):
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield panel["title"], target["expr"]


# Metric names in a PromQL expression: identifiers that are not functions, keywords or
# label names (label names are inside {...} or by/without (...)).
PROMQL_WORDS = {"sum", "max", "min", "avg", "count", "rate", "increase", "histogram_quantile",
                "by", "without", "and", "or", "unless", "on", "ignoring", "bool", "offset",
                "time"}


def metric_names(expression):
    text = re.sub(r"\{[^}]*\}", "", expression)
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r'"[^"]*"', "", text)
    names = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", text)) - PROMQL_WORDS
    return {name for name in names if not re.fullmatch(r"[0-9.e]+", name)}


class DashboardsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tw-ops-")
        cls.processes = {}
        try:
            cls.start_everything()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start(cls, name, args, stdin=None):
        cls.processes[name] = Process(name, args, cls.dir, stdin)
        return cls.processes[name]

    @classmethod
    def start_tidewaterd(cls, name, region, extra=()):
        process = cls.start(name, [os.environ["TIDEWATERD"], "--data-dir",
                                   os.path.join(cls.dir, name), "--region", region,
                                   "--listen", "127.0.0.1:0", *extra])
        port = process.wait_for_log(r"event=listening .* port=([0-9]+)").group(1)
        return f"127.0.0.1:{port}"

    @classmethod
    def client(cls, address, region):
        return boto3.client("dynamodb", endpoint_url=f"http://{address}", region_name=region,
                            aws_access_key_id="ops", aws_secret_access_key="ops")

    @classmethod
    def start_everything(cls):
        kafka = cls.start("kafka", [os.environ["TEST_BROKER"], "--exit-on-stdin-eof",
                                    "--topic", "tidewater.orders:4"], stdin=subprocess.PIPE)
        bootstraps = kafka.wait_for_log(r"bootstrap\.servers=(\S+)").group(1)
        cls.east = cls.start_tidewaterd("east", "us-east-1", ["--kafka-brokers", bootstraps])
        cls.west = cls.start_tidewaterd("west", "us-west-2")
        for address, region in ((cls.east, "us-east-1"), (cls.west, "us-west-2")):
            cls.client(address, region).create_table(
                TableName="orders",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True,
                                     "StreamViewType": "NEW_AND_OLD_IMAGES"})
        # Only in the source region: replicating it fails (and is retried), so that the
        # replication error counter has series.
        cls.client(cls.east, "us-east-1").create_table(
            TableName="unmatched",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        cls.client(cls.east, "us-east-1").put_item(TableName="unmatched",
                                                   Item={"pk": {"S": "x"}})

        ports = {job: free_port() for job in ("replicator", "sink", "trigger", "node", "prometheus")}
        # node_exporter reads what `tidewater verify --metrics-file` writes; a first verify,
        # of the two empty tables, finds them equal.
        cls.textfile_dir = os.path.join(cls.dir, "textfile")
        os.makedirs(cls.textfile_dir)
        cls.start("node", ["/usr/bin/prometheus-node-exporter", "--collector.disable-defaults",
                           "--collector.textfile",
                           f"--collector.textfile.directory={cls.textfile_dir}",
                           f"--web.listen-address=127.0.0.1:{ports['node']}"])
        first = cls.verify()
        if first.returncode != 0:
            raise AssertionError("verify of two empty tables:\n" + first.stdout + first.stderr)
        cls.start("replicator", [os.environ["REPLICATOR"], "--source", f"http://{cls.east}",
                                 "--target", f"http://{cls.west}", "--table", "orders",
                                 "--table", "unmatched",
                                 "--metrics-listen", f"127.0.0.1:{ports['replicator']}"])
        sink_config = os.path.join(cls.dir, "sink.yaml")
        with open(sink_config, "w") as f:
            yaml.safe_dump({"source": {"endpoint": f"http://{cls.east}"}, "tables": ["orders"],
                            "sinks": [{"type": "files", "name": "lake",
                                       "dir": os.path.join(cls.dir, "lake"),
                                       "rotate_seconds": 1}],
                            "metrics": {"listen": f"127.0.0.1:{ports['sink']}"}}, f)
        cls.start("sink", [os.environ["TIDEWATER"], "sink", "--config", sink_config])
        trigger_config = os.path.join(cls.dir, "trigger.yaml")
        handler = os.path.join(PROJECT, "examples", "python-trigger", "handler.py")
        with open(trigger_config, "w") as f:
            yaml.safe_dump({"source": {"endpoint": f"http://{cls.east}"},
                            "application": "ops",
                            "metrics": {"listen": f"127.0.0.1:{ports['trigger']}"},
                            "triggers": [{
                                "name": "audit", "table": "orders",
                                "handler": {"type": "exec",
                                            "command": ["/usr/bin/python3", handler,
                                                        os.path.join(cls.dir, "audit.jsonl")]},
                                "StartingPosition": "TRIM_HORIZON",
                                # A poison record (below) is given up on at once: counted
                                # as discarded.
                                "MaximumRetryAttempts": 0,
                                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                                "FilterCriteria": {"Filters": [
                                    {"Pattern": '{"eventName": ["INSERT", "MODIFY"]}'}]}}]}, f)
        cls.start("trigger", [os.environ["TIDEWATER"], "trigger", "--config", trigger_config])

        prometheus_config = os.path.join(cls.dir, "prometheus.yml")
        jobs = {"tidewaterd": [cls.east, cls.west],
                "tidewater-replicator": [f"127.0.0.1:{ports['replicator']}"],
                "tidewater-sink": [f"127.0.0.1:{ports['sink']}"],
                "tidewater-trigger": [f"127.0.0.1:{ports['trigger']}"],
                "node": [f"127.0.0.1:{ports['node']}"]}
        with open(prometheus_config, "w") as f:
            yaml.safe_dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                            "rule_files": [RULES],
                            "scrape_configs": [{"job_name": job,
                                                "static_configs": [{"targets": targets}]}
                                               for job, targets in jobs.items()]}, f)
        cls.prometheus = f"127.0.0.1:{ports['prometheus']}"
        cls.start("prometheus", ["/usr/bin/prometheus", f"--config.file={prometheus_config}",
                                 f"--storage.tsdb.path={os.path.join(cls.dir, 'tsdb')}",
                                 f"--web.listen-address={cls.prometheus}"])
        if not wait_for(cls.prometheus_ready, 30):
            raise AssertionError("prometheus did not start:\n" + cls.processes["prometheus"].log())

        # Writes go on until the end: puts, updates, deletes, and one error answer.
        cls.writing = True
        east = cls.client(cls.east, "us-east-1")
        try:
            east.get_item(TableName="missing", Key={"pk": {"S": "x"}})
        except east.exceptions.ResourceNotFoundException:
            pass
        east.put_item(TableName="orders", Item={"pk": {"S": "poison"}, "fail": {"BOOL": True}})

        def write():
            client = cls.client(cls.east, "us-east-1")
            n = 0
            while cls.writing:
                key = {"S": f"k{n % 20}"}
                client.put_item(TableName="orders", Item={"pk": key, "n": {"N": str(n)}})
                if n % 7 == 6:
                    client.delete_item(TableName="orders", Key={"pk": key})
                n += 1
                time.sleep(0.02)

        cls.writer = threading.Thread(target=write, daemon=True)
        cls.writer.start()

    @classmethod
    def tearDownClass(cls):
        cls.writing = False
        if getattr(cls, "writer", None):
            cls.writer.join(timeout=10)
        for process in reversed(list(cls.processes.values())):
            process.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def verify(cls):
        return subprocess.run(
            [os.environ["TIDEWATER"], "verify", "--a", f"http://{cls.east}", "--b",
             f"http://{cls.west}", "--table", "orders", "--metrics-file",
             os.path.join(cls.textfile_dir, "tidewater_verify_orders.prom")],
            capture_output=True, text=True, timeout=60)

    @classmethod
    def prometheus_ready(cls):
        try:
            with urllib.request.urlopen(f"http://{cls.prometheus}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, path, **params):
        url = f"http://{self.prometheus}/api/v1/{path}?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as response:
            answer = json.load(response)
        self.assertEqual(answer["status"], "success", answer)
        return answer["data"]

    def query(self, expression):
        return self.api("query", query=expression)["result"]

    def test_1_rules_pass_promtool(self):
        checked = subprocess.run(["/usr/bin/promtool", "check", "rules", RULES],
                                 capture_output=True, text=True)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)

    def test_2_every_dashboard_query_returns_series(self):
        self.assertGreaterEqual(len(DASHBOARDS), 5)
        pending = {}
        for path in DASHBOARDS:
            with open(path) as f:
                dashboard = json.load(f)
            for title, expression in expressions_of(dashboard):
                pending[(os.path.basename(path), title, expression)] = expression

        def all_have_series():
            for key, expression in list(pending.items()):
                if self.query(expression):
                    del pending[key]
            return not pending

        wait_for(all_have_series, interval=1)
        self.assertEqual(list(pending), [], "dashboard queries without series")

    def test_2_every_alert_expression_evaluates_on_exported_metrics(self):
        with open(RULES) as f:
            rules = [rule for group in yaml.safe_load(f)["groups"] for rule in group["rules"]]
        self.assertGreaterEqual(len(rules), 10)
        missing = {name for rule in rules for name in metric_names(rule["expr"])} - {"up"}

        # Exported: a scraped process declares it (its HELP and TYPE are in Prometheus's
        # metadata). Error counters have no series until the first error; that is fine.
        def all_exported():
            for name in list(missing):
                if self.api("metadata", metric=name):
                    missing.discard(name)
            return not missing

        wait_for(all_exported, interval=1)
        self.assertEqual(missing, set(), "alert rules name metrics no process exports")
        for rule in rules:
            self.query(rule["expr"])  # evaluates (status success), firing or not

    def test_3_stopping_the_replicator_fires_its_alert(self):
        def firing():
            alerts = self.api("alerts")["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "TidewaterReplicatorDown"
                    and a["state"] == "firing"]

        self.assertTrue(wait_for(lambda: self.query('up{job="tidewater-replicator"} == 1')))
        self.assertEqual(firing(), [])
        self.processes["replicator"].stop(signal.SIGKILL)
        self.assertTrue(wait_for(firing), self.api("alerts"))

    def test_4_a_diverged_replica_fires_its_alert(self):
        def firing():
            alerts = self.api("alerts")["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "TidewaterReplicaDivergence"
                    and a["state"] == "firing"]

        # The first verify (two empty tables) exported 0 differing keys: nothing fires.
        self.assertTrue(wait_for(lambda: self.query("tidewater_verify_differing_keys == 0")))
        self.assertEqual(firing(), [])
        self.client(self.west, "us-west-2").put_item(TableName="orders",
                                                      Item={"pk": {"S": "only-in-west"}})
        run = self.verify()
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn('only in b: {"pk":{"S":"only-in-west"}}', run.stdout)
        self.assertTrue(wait_for(firing), self.api("alerts"))


if __name__ == "__main__":
    unittest.main()
