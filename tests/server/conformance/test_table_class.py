"""Table classes: TableClass at CreateTable and UpdateTable, shown by DescribeTable as
TableClassSummary, kept over a restart; unknown classes are refused."""

import tidewater_fixture as tw

KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"}]


class TableClassTest(tw.ConformanceTestCase):

    def create(self, prefix, **extra):
        name = tw.unique_name(prefix)
        self._tables_to_drop.append(name)
        self.ddb.create_table(TableName=name, KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTES,
                              BillingMode="PAY_PER_REQUEST", **extra)
        tw.wait_for_table_status(name)
        return name

    def summary(self, name):
        return self.ddb.describe_table(TableName=name)["Table"].get("TableClassSummary")

    def test_created_infrequent_access_then_back_to_standard(self):
        name = self.create("classia", TableClass="STANDARD_INFREQUENT_ACCESS")
        created = self.summary(name)
        self.assertEqual(created["TableClass"], "STANDARD_INFREQUENT_ACCESS")
        self.assertIn("LastUpdateDateTime", created)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"S": "x" * 2000}})
        self.ddb.update_table(TableName=name, TableClass="STANDARD")
        tw.wait_for_table_status(name)
        updated = self.summary(name)
        self.assertEqual(updated["TableClass"], "STANDARD")
        self.assertGreaterEqual(updated["LastUpdateDateTime"], created["LastUpdateDateTime"])
        item = self.ddb.get_item(TableName=name, Key={"pk": {"S": "a"}}, ConsistentRead=True)
        self.assertEqual(item["Item"]["v"]["S"], "x" * 2000)

    def test_class_kept_over_restart(self):
        name = self.create("classrestart")
        self.ddb.update_table(TableName=name, TableClass="STANDARD_INFREQUENT_ACCESS")
        tw.wait_for_table_status(name)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "kept"}})
        tw.restart_managed_server()
        self.assertEqual(self.summary(name)["TableClass"], "STANDARD_INFREQUENT_ACCESS")
        item = self.ddb.get_item(TableName=name, Key={"pk": {"S": "kept"}}, ConsistentRead=True)
        self.assertIn("Item", item)

    def test_unknown_class_is_a_validation_error(self):
        name = tw.unique_name("classbad")
        self._tables_to_drop.append(name)
        self.assertClientError("ValidationException", self.ddb.create_table, TableName=name,
                               KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTES,
                               BillingMode="PAY_PER_REQUEST", TableClass="GLACIER")
        standard = self.create("classstd")
        self.assertClientError("ValidationException", self.ddb.update_table, TableName=standard,
                               TableClass="COLD")
