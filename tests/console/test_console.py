"""The web console (/console) in a real browser: headless Debian chromium driven by
selenium, against a tidewaterd started on a free loopback port with a temporary data
directory. Tables and items are written with boto3; what the page shows is read from the
DOM.

Environment: TIDEWATERD (the server binary, set by CTest). Run by hand:
    TIDEWATERD=build/server/tidewaterd /usr/bin/python3 -m unittest discover -s tests/console -v
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
import botocore.config
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# Generous: the machine running the suite may be busy.
DEADLINE = 60


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConsoleBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="tw-console-")
        cls.port = free_loopback_port()
        cls.endpoint = "http://127.0.0.1:%d" % cls.port
        cls.log = open(os.path.join(cls.workdir, "tidewaterd.log"), "ab")
        cls.server = subprocess.Popen(
            [os.environ["TIDEWATERD"], "--data-dir", os.path.join(cls.workdir, "data"),
             "--listen", "127.0.0.1:%d" % cls.port, "--region", "us-east-1"],
            stdout=cls.log, stderr=subprocess.STDOUT, start_new_session=True)
        cls.addClassCleanup(cls.stop_server)
        cls.wait_healthy()
        cls.dynamodb = boto3.client(
            "dynamodb", endpoint_url=cls.endpoint, region_name="us-east-1",
            aws_access_key_id="console", aws_secret_access_key="console-secret",
            config=botocore.config.Config(retries={"max_attempts": 1}))
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1000"):
            options.add_argument(argument)
        cls.browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        cls.addClassCleanup(cls.browser.quit)

    @classmethod
    def wait_healthy(cls):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if cls.server.poll() is not None:
                raise RuntimeError("tidewaterd exited with status %s" % cls.server.returncode)
            try:
                with urllib.request.urlopen(cls.endpoint + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("tidewaterd did not become healthy")

    @classmethod
    def stop_server(cls):
        if cls.server.poll() is None:
            os.killpg(cls.server.pid, signal.SIGTERM)
            cls.server.wait(timeout=30)
        cls.log.close()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def create_table(self, name):
        self.dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.dynamodb.get_waiter("table_exists").wait(TableName=name)

    def put(self, table, pk, sk, note):
        self.dynamodb.put_item(TableName=table, Item={
            "pk": {"S": pk}, "sk": {"N": str(sk)}, "note": {"S": note}})

    def wait_until(self, condition, what):
        WebDriverWait(self.browser, DEADLINE, poll_frequency=0.1).until(
            lambda _: condition(), message="timed out waiting for " + what)

    def text_of(self, element_id):
        return self.browser.find_element(By.ID, element_id).text

    def open_table(self, name):
        self.browser.get(self.endpoint + "/console")
        self.wait_until(lambda: self.browser.find_elements(By.ID, "table-" + name),
                        "table %s in the list" % name)
        self.browser.find_element(By.ID, "table-" + name).click()
        self.wait_until(lambda: "Stream ARN" in self.text_of("table-details"),
                        "the table's details")

    def fill(self, element_id, text):
        field = self.browser.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(text)

    def test_finds_items_and_follows_the_live_stream(self):
        self.create_table("Orders")
        for sk in range(3):
            self.put("Orders", "customer-7", sk, "first-batch-%d" % sk)
        self.put("Orders", "customer-8", 0, "other-customer")

        self.open_table("Orders")
        details = self.text_of("table-details")
        self.assertIn("pk (S, HASH), sk (N, RANGE)", details)
        self.assertIn("enabled, NEW_AND_OLD_IMAGES", details)
        self.assertIn("arn:aws:dynamodb:us-east-1:", details)

        # Query one partition, two items a page: the next page holds the third.
        self.fill("expression-values", '{":pk": {"S": "customer-7"}}')
        self.fill("page-size", "2")
        self.browser.find_element(By.ID, "run-query").click()
        self.wait_until(lambda: "first-batch-0" in self.text_of("items"), "the first page")
        self.assertNotIn("other-customer", self.text_of("items"))
        self.assertNotIn("first-batch-2", self.text_of("items"))
        self.browser.find_element(By.ID, "next-page").click()
        self.wait_until(lambda: "first-batch-2" in self.text_of("items"), "the next page")

        # Scan with a filter.
        self.fill("filter-expression", "note = :note")
        self.fill("expression-values", '{":note": {"S": "other-customer"}}')
        self.fill("page-size", "25")
        self.browser.find_element(By.ID, "run-scan").click()
        self.wait_until(lambda: "other-customer" in self.text_of("items"), "the scan's match")
        self.assertNotIn("first-batch", self.text_of("items"))

        # The live view shows a write made after it started following.
        self.browser.find_element(By.ID, "follow").click()
        self.wait_until(lambda: self.text_of("stream-status").startswith("following Orders"),
                        "the live stream to be ready")
        self.put("Orders", "customer-9", 1, "arrived-live")
        self.wait_until(lambda: "arrived-live" in self.text_of("stream-records"),
                        "the new record in the live view")
        rows = self.browser.find_elements(By.CSS_SELECTOR, "#stream-records tbody tr")
        self.assertEqual(len(rows), 1, "only records after following started")
        self.assertIn("INSERT", rows[0].text)
        self.assertIn('"customer-9"', rows[0].text)
        # An update shows both images.
        self.put("Orders", "customer-9", 1, "changed-live")
        self.wait_until(lambda: "changed-live" in self.text_of("stream-records"),
                        "the update in the live view")
        last = self.browser.find_elements(By.CSS_SELECTOR, "#stream-records tbody tr")[-1]
        self.assertIn("MODIFY", last.text)
        self.assertIn("arrived-live", last.text)  # the old image

        # The write-rate chart gets a line once the server has taken samples (every 5 s).
        self.wait_until(lambda: self.browser.find_elements(
            By.CSS_SELECTOR, '#charts svg[data-series="writesPerSecond"] polyline'),
            "the write rate chart")
        lag_chart = self.browser.find_element(
            By.CSS_SELECTOR, '#charts svg[data-series="kafkaLagRecords"]')
        self.assertIn("no Kafka publisher", lag_chart.text)

    def test_an_invalid_key_condition_shows_the_servers_error(self):
        self.create_table("Errors")
        self.dynamodb.update_time_to_live(
            TableName="Errors",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
        self.open_table("Errors")
        self.assertIn("ENABLED on expires", self.text_of("table-details"))
        self.fill("key-condition", "sk = :v")  # not the partition key
        self.fill("expression-values", '{":v": {"N": "1"}}')
        self.browser.find_element(By.ID, "run-query").click()
        self.wait_until(lambda: self.browser.find_element(By.ID, "error").is_displayed(),
                        "the error box")
        error = self.text_of("error")
        self.assertIn("ValidationException", error)
        # The server's message, not a text of the page's own.
        answer = None
        try:
            self.dynamodb.query(TableName="Errors", KeyConditionExpression="sk = :v",
                                ExpressionAttributeValues={":v": {"N": "1"}})
        except self.dynamodb.exceptions.ClientError as e:
            answer = e.response["Error"]["Message"]
        self.assertTrue(answer)
        self.assertIn(answer, error)


class ConsoleFlagTest(unittest.TestCase):
    """--console off and the config key console: off turn the console's paths into 404s."""

    def run_server(self, extra_args, output=subprocess.DEVNULL):
        workdir = tempfile.mkdtemp(prefix="tw-console-flag-")
        self.addCleanup(shutil.rmtree, workdir, True)
        port = free_loopback_port()
        args = [os.environ["TIDEWATERD"], "--data-dir", os.path.join(workdir, "data"),
                "--listen", "127.0.0.1:%d" % port]
        for argument in extra_args:
            if argument == "CONFIG_OFF":
                config = os.path.join(workdir, "tidewaterd.yaml")
                with open(config, "w") as f:
                    f.write("console: off\n")
                args += ["--config", config]
            else:
                args.append(argument)
        server = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        return server, "http://127.0.0.1:%d" % port

    def status_of(self, server, url):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            self.assertIsNone(server.poll(), "tidewaterd exited")
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:
                    return answer.status
            except urllib.error.HTTPError as e:
                return e.code
            except OSError:
                time.sleep(0.05)
        self.fail("no answer from " + url)

    def stop(self, server):
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    def test_off_by_flag_or_config(self):
        for extra in (["--console", "off"], ["CONFIG_OFF"]):
            server, endpoint = self.run_server(extra)
            try:
                self.assertEqual(self.status_of(server, endpoint + "/healthz"), 200)
                self.assertEqual(self.status_of(server, endpoint + "/console"), 404, extra)
            finally:
                self.stop(server)
        server, endpoint = self.run_server(["--console", "on", "CONFIG_OFF"])  # the flag wins
        try:
            self.assertEqual(self.status_of(server, endpoint + "/console"), 200)
        finally:
            self.stop(server)

    def test_refuses_other_values(self):
        server, _ = self.run_server(["--console", "maybe"], output=subprocess.PIPE)
        errors, _ = server.communicate(timeout=30)
        self.assertNotEqual(server.returncode, 0)
        self.assertIn(b"console must be on or off", errors)


if __name__ == "__main__":
    unittest.main()
