"""Encryption at rest (--encryption-key-file, --encryption-key-command): a marker string
written in items is in no file under the data directory (RocksDB's tables and write-ahead
log, backups) while the items read back; the server restarts with its keyring and refuses
to start without it; a rotated keyring [new, old] still reads the old data and writes under
the new key. SSESpecification / SSEDescription as DynamoDB shows them. A control run without
encryption finds the marker, so that the grep can fail.

Runs tidewaterds of its own (TIDEWATERD names the binary), on loopback, without
authentication."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import boto3
from botocore.exceptions import ClientError

import tidewater_fixture as tw

MARKER = "Tidewater-Plaintext-Marker-5b8e0c"
KEY_A = "A", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
KEY_B = "B", "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"


def files_containing(directory, text):
    """Every regular file under `directory` whose bytes contain `text`."""
    needle = text.encode()
    found = []
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                if needle in f.read():
                    found.append(os.path.relpath(path, directory))
    return found


def all_files(directory):
    return [os.path.relpath(os.path.join(root, name), directory)
            for root, _, names in os.walk(directory) for name in names]


@unittest.skipUnless(os.environ.get("TIDEWATERD"), "set TIDEWATERD (the tidewaterd binary)")
class EncryptionAtRestTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="tw-encryption-")
        self.data_dir = os.path.join(self.workdir, "data")
        self.process = None
        self.client = None
        self.log_path = os.path.join(self.workdir, "tidewaterd.log")

    def tearDown(self):
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def keyring_file(self, name, *keys, mode=0o600):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write("# test keyring\n" + "".join("%s %s\n" % key for key in keys))
        os.chmod(path, mode)
        return path

    def command(self, *extra):
        self.port = tw._free_loopback_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        return [os.environ["TIDEWATERD"], "--data-dir", self.data_dir,
                "--listen", "127.0.0.1:%d" % self.port, "--region", tw.REGION,
                "--auth", "off", *extra]

    def log_text(self):
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def start(self, *extra):
        """Starts tidewaterd and waits until it listens; answers a DynamoDB client."""
        with open(self.log_path, "a") as log:
            log.write("\n==== start %s ====\n" % " ".join(extra))
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command(*extra), stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise AssertionError("tidewaterd exited: %s" % self.log_text()[-3000:])
            try:
                status, _, _ = tw.http_get(self.endpoint, "/healthz", timeout=1)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("tidewaterd did not start: %s" % self.log_text()[-3000:])
            time.sleep(0.05)
        self.client = boto3.client("dynamodb", endpoint_url=self.endpoint,
                                   config=tw.client_config())
        return self.client

    def start_fails(self, *extra):
        """Runs tidewaterd expecting it to refuse to start; answers its output."""
        result = subprocess.run(self.command(*extra), capture_output=True, text=True,
                                timeout=60)
        self.assertNotEqual(result.returncode, 0, "tidewaterd started: " + result.stdout)
        return result.stdout + result.stderr

    def stop(self):
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def create_table(self, ddb, name, **extra):
        answer = ddb.create_table(
            TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST", **extra)
        return answer["TableDescription"]

    def write_marked_items(self, ddb, table, count=50, prefix="item"):
        for i in range(count):
            ddb.put_item(TableName=table, Item={
                "pk": {"S": "%s-%d" % (prefix, i)},
                "secret": {"S": "%s number %d of %s" % (MARKER, i, prefix)}})

    def assert_items_read_back(self, ddb, table, count=50, prefix="item"):
        for i in (0, count // 2, count - 1):
            item = ddb.get_item(TableName=table, Key={"pk": {"S": "%s-%d" % (prefix, i)}},
                                ConsistentRead=True)["Item"]
            self.assertEqual(item["secret"]["S"], "%s number %d of %s" % (MARKER, i, prefix))

    def wait_active(self, ddb, table):
        deadline = time.monotonic() + 60
        while ddb.describe_table(TableName=table)["Table"]["TableStatus"] != "ACTIVE":
            self.assertLess(time.monotonic(), deadline, "table %s never became ACTIVE" % table)
            time.sleep(0.1)

    def test_encrypted_data_directory_holds_no_plaintext_and_needs_its_keyring(self):
        keys_a = self.keyring_file("keys-a", KEY_A)
        ddb = self.start("--encryption-key-file", keys_a)
        created = self.create_table(ddb, "secrets",
                                    SSESpecification={"Enabled": True, "SSEType": "KMS"})
        self.assertEqual(created["SSEDescription"], {
            "Status": "ENABLED", "SSEType": "KMS",
            "KMSMasterKeyArn": "arn:aws:kms:%s:000000000000:key/A" % tw.REGION})
        plain = self.create_table(ddb, "default_encryption")  # DynamoDB's AWS owned key
        self.assertNotIn("SSEDescription", plain)
        self.write_marked_items(ddb, "secrets")
        self.write_marked_items(ddb, "default_encryption", prefix="other")
        backup_arn = ddb.create_backup(TableName="secrets", BackupName="before-rotation")[
            "BackupDetails"]["BackupArn"]
        self.stop()  # the restart below replays the write-ahead log into table files

        ddb = self.start("--encryption-key-file", keys_a)
        self.assert_items_read_back(ddb, "secrets")
        self.stop()
        names = all_files(self.data_dir)
        self.assertTrue(any(name.endswith(".sst") for name in names), names)
        self.assertTrue(any(name.endswith(".log") and "/" not in name for name in names), names)
        self.assertTrue(any(name.startswith("backups/") and name.endswith("/items")
                            for name in names), names)
        self.assertEqual(files_containing(self.data_dir, MARKER), [])
        with open(os.path.join(self.data_dir, "ENCRYPTION")) as marker:
            self.assertIn("key-id A\n", marker.read())

        # Without the keyring: refused, naming the way out.
        output = self.start_fails()
        self.assertIn("is encrypted at rest (master key ids: A)", output)
        self.assertIn("--encryption-key-file", output)
        # With a keyring that lacks key A: the files cannot be read.
        output = self.start_fails("--encryption-key-file", self.keyring_file("keys-b", KEY_B))
        self.assertIn("master key 'A', which is not in the keyring", output)
        # A key file others may read is refused.
        output = self.start_fails("--encryption-key-file",
                                  self.keyring_file("keys-open", KEY_A, mode=0o644))
        self.assertIn("chmod 600", output)

        # Rotation: B is current, A still reads the old files. The keyring comes from a command.
        rotated = self.keyring_file("keys-ba", KEY_B, KEY_A)
        ddb = self.start("--encryption-key-command", "cat " + rotated)
        self.assertIn("current_key=B keyring=B,A", self.log_text())
        self.assert_items_read_back(ddb, "secrets")
        self.assert_items_read_back(ddb, "default_encryption", prefix="other")
        described = ddb.describe_table(TableName="secrets")["Table"]
        self.assertTrue(described["SSEDescription"]["KMSMasterKeyArn"].endswith(":key/A"))
        updated = ddb.update_table(TableName="secrets", SSESpecification={
            "Enabled": True, "SSEType": "KMS",
            "KMSMasterKeyId": "arn:aws:kms:%s:000000000000:key/B" % tw.REGION})
        self.assertTrue(
            updated["TableDescription"]["SSEDescription"]["KMSMasterKeyArn"].endswith(":key/B"))
        self.write_marked_items(ddb, "secrets", prefix="rotated")
        self.assert_items_read_back(ddb, "secrets", prefix="rotated")
        # The backup written under key A restores under the rotated keyring.
        restored = ddb.restore_table_from_backup(TargetTableName="restored", BackupArn=backup_arn)
        self.wait_active(ddb, "restored")
        self.assert_items_read_back(ddb, "restored")
        # A restore keeps the source's setting unless SSESpecificationOverride says otherwise.
        self.assertTrue(restored["TableDescription"]["SSEDescription"][
            "KMSMasterKeyArn"].endswith(":key/A"))
        owned = ddb.restore_table_from_backup(TargetTableName="restored_owned_key",
                                              BackupArn=backup_arn,
                                              SSESpecificationOverride={"Enabled": False})
        self.assertNotIn("SSEDescription", owned["TableDescription"])
        self.wait_active(ddb, "restored_owned_key")
        self.assertNotIn("SSEDescription",
                         ddb.describe_table(TableName="restored_owned_key")["Table"])
        with self.assertRaises(ClientError) as refused:
            ddb.restore_table_from_backup(
                TargetTableName="restored_unknown_key", BackupArn=backup_arn,
                SSESpecificationOverride={"Enabled": True, "SSEType": "KMS",
                                          "KMSMasterKeyId": "no-such-key"})
        self.assertIn("is not a master key of this tidewaterd",
                      refused.exception.response["Error"]["Message"])
        ddb.create_backup(TableName="secrets", BackupName="after-rotation")
        self.stop()

        self.assertEqual(files_containing(self.data_dir, MARKER), [])
        with open(os.path.join(self.data_dir, "ENCRYPTION")) as marker:
            self.assertIn("key-id A\nkey-id B\n", marker.read())
        ddb = self.start("--encryption-key-command", "cat " + rotated)
        self.assertEqual(ddb.describe_table(TableName="secrets")["Table"]["SSEDescription"][
            "KMSMasterKeyArn"], "arn:aws:kms:%s:000000000000:key/B" % tw.REGION)
        self.assert_items_read_back(ddb, "secrets", prefix="rotated")
        self.assert_items_read_back(ddb, "restored")

    def test_without_encryption_the_marker_is_on_disk_and_kms_is_refused(self):
        ddb = self.start()
        # The control: the same writes, unencrypted, leave the marker in the files.
        self.create_table(ddb, "plain")
        self.write_marked_items(ddb, "plain")
        ddb.create_backup(TableName="plain", BackupName="plain-backup")
        with self.assertRaises(ClientError) as refused:
            self.create_table(ddb, "wants_kms", SSESpecification={"Enabled": True})
        self.assertEqual(refused.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("needs a master key", refused.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as refused:
            ddb.update_table(TableName="plain", SSESpecification={"Enabled": True})
        self.assertIn("needs a master key", refused.exception.response["Error"]["Message"])
        # Enabled false: DynamoDB's AWS owned key, no SSEDescription.
        owned = self.create_table(ddb, "owned", SSESpecification={"Enabled": False})
        self.assertNotIn("SSEDescription", owned)
        self.stop()
        found = files_containing(self.data_dir, MARKER)
        self.assertTrue(any(name.startswith("backups/") for name in found), found)
        self.assertTrue(any("/" not in name for name in found), found)  # RocksDB's files

        # An unencrypted data directory is not opened with a keyring.
        output = self.start_fails("--encryption-key-file", self.keyring_file("keys", KEY_A))
        self.assertIn("holds unencrypted data", output)
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "ENCRYPTION")))

    def test_sse_specification_shapes(self):
        ddb = self.start("--encryption-key-file", self.keyring_file("keys", KEY_B, KEY_A))

        def refused(message, **spec):
            with self.assertRaises(ClientError) as caught:
                self.create_table(ddb, tw.unique_name("sse"), SSESpecification=spec)
            self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")
            self.assertIn(message, caught.exception.response["Error"]["Message"])

        refused("The only valid SSEType is KMS", Enabled=True, SSEType="AES256")
        refused("SSEType KMS is required if KMSMasterKeyId is specified", Enabled=True,
                KMSMasterKeyId="A")
        refused("KMSMasterKeyId C is not a master key of this tidewaterd (its keyring has: B, A)",
                Enabled=True, SSEType="KMS", KMSMasterKeyId="C")
        refused("Value 'DES' at 'sSESpecification.sSEType' failed to satisfy constraint",
                Enabled=True, SSEType="DES")
        default = self.create_table(ddb, "default_key", SSESpecification={"Enabled": True})
        self.assertTrue(default["SSEDescription"]["KMSMasterKeyArn"].endswith(":key/B"))
        aliased = self.create_table(ddb, "aliased", SSESpecification={
            "Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/aws/dynamodb"})
        self.assertTrue(aliased["SSEDescription"]["KMSMasterKeyArn"].endswith(":key/B"))
        named = self.create_table(ddb, "named", SSESpecification={
            "Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "A"})
        self.assertTrue(named["SSEDescription"]["KMSMasterKeyArn"].endswith(":key/A"))
        # Back to the AWS owned key.
        updated = ddb.update_table(TableName="named", SSESpecification={"Enabled": False})
        self.assertNotIn("SSEDescription", updated["TableDescription"])
        self.assertNotIn("SSEDescription", ddb.describe_table(TableName="named")["Table"])


if __name__ == "__main__":
    unittest.main()
