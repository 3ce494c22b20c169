"""Application Auto Scaling for DynamoDB tables and their global secondary indexes through
boto3: scalable targets, target tracking policies, their errors, and the capacity a
registration brings into range.

Against tidewaterd the Application Auto Scaling API is served on the DynamoDB endpoint;
against AWS set TIDEWATER_AUTOSCALING_ENDPOINT, or leave it unset with TIDEWATER_ENDPOINT
to use the region's own endpoint. The scaling itself (which takes minutes on AWS) is tested
by the C++ suites server_autoscaling_scaler_test and server_autoscaling_cli_test."""

import os
import time

import boto3

import tidewater_fixture as tw

WRITE = "dynamodb:table:WriteCapacityUnits"
READ = "dynamodb:table:ReadCapacityUnits"
INDEX_WRITE = "dynamodb:index:WriteCapacityUnits"
INDEX_READ = "dynamodb:index:ReadCapacityUnits"
UNSUPPORTED = "Unsupported service namespace, resource type or scalable dimension"


def autoscaling():
    url = os.environ.get("TIDEWATER_AUTOSCALING_ENDPOINT")
    if not url and not os.environ.get("TIDEWATER_ENDPOINT"):
        url = tw.endpoint()
    return boto3.session.Session().client("application-autoscaling", endpoint_url=url or None,
                                          config=tw.client_config())


def tracking(metric, target=50.0, **extra):
    configuration = {"TargetValue": target,
                     "PredefinedMetricSpecification": {"PredefinedMetricType": metric}}
    configuration.update(extra)
    return configuration


class AutoScalingTest(tw.ConformanceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.aas = autoscaling()

    def setUp(self):
        self.table = tw.unique_name("scaled")
        self._tables_to_drop.append(self.table)
        self.ddb.create_table(TableName=self.table,
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                              ProvisionedThroughput={"ReadCapacityUnits": 5,
                                                     "WriteCapacityUnits": 5})
        tw.wait_for_table_status(self.table)
        self.resource = "table/" + self.table

    def tearDown(self):
        for dimension in (READ, WRITE):
            try:
                self.aas.deregister_scalable_target(ServiceNamespace="dynamodb",
                                                    ResourceId=self.resource,
                                                    ScalableDimension=dimension)
            except self.aas.exceptions.ObjectNotFoundException:
                pass
        super().tearDown()

    def register(self, dimension=WRITE, **capacity):
        return self.aas.register_scalable_target(ServiceNamespace="dynamodb",
                                                 ResourceId=self.resource,
                                                 ScalableDimension=dimension, **capacity)

    def targets(self):
        return self.aas.describe_scalable_targets(
            ServiceNamespace="dynamodb", ResourceIds=[self.resource])["ScalableTargets"]

    def test_register_update_and_deregister_a_target(self):
        self.register(MinCapacity=1, MaxCapacity=10)
        [target] = self.targets()
        self.assertEqual((target["ResourceId"], target["ScalableDimension"]),
                         (self.resource, WRITE))
        self.assertEqual((target["MinCapacity"], target["MaxCapacity"]), (1, 10))
        self.assertIn("RoleARN", target)
        self.assertIn("CreationTime", target)
        # An update changes only what it names.
        self.register(MaxCapacity=20)
        [target] = self.targets()
        self.assertEqual((target["MinCapacity"], target["MaxCapacity"]), (1, 20))
        self.aas.deregister_scalable_target(ServiceNamespace="dynamodb", ResourceId=self.resource,
                                            ScalableDimension=WRITE)
        self.assertEqual(self.targets(), [])
        self.assertClientError("ObjectNotFoundException", self.aas.deregister_scalable_target,
                               ServiceNamespace="dynamodb", ResourceId=self.resource,
                               ScalableDimension=WRITE)

    def test_a_pay_per_request_table_is_not_scalable(self):
        self.ddb.update_table(TableName=self.table, BillingMode="PAY_PER_REQUEST")
        tw.wait_for_table_status(self.table)
        self.assertClientError("ValidationException", self.register, MinCapacity=1,
                               MaxCapacity=10, message="PAY_PER_REQUEST")
        self.assertEqual(self.targets(), [])

    def test_bad_targets_are_validation_errors(self):
        self.assertClientError("ValidationException", self.register, MinCapacity=10,
                               MaxCapacity=5)
        self.assertClientError("ValidationException", self.aas.register_scalable_target,
                               ServiceNamespace="dynamodb",
                               ResourceId="table/" + tw.unique_name("missing"),
                               ScalableDimension=WRITE, MinCapacity=1, MaxCapacity=5)
        self.assertEqual(self.targets(), [])

    def test_policy_lifecycle(self):
        self.assertClientError("ObjectNotFoundException", self.aas.put_scaling_policy,
                               PolicyName="writes", ServiceNamespace="dynamodb",
                               ResourceId=self.resource, ScalableDimension=WRITE,
                               PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration=tracking(
                                   "DynamoDBWriteCapacityUtilization"))
        self.register(MinCapacity=1, MaxCapacity=10)
        put = self.aas.put_scaling_policy(
            PolicyName="writes", ServiceNamespace="dynamodb", ResourceId=self.resource,
            ScalableDimension=WRITE, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=tracking(
                "DynamoDBWriteCapacityUtilization", ScaleInCooldown=60, ScaleOutCooldown=30))
        self.assertIn(":policyName/writes", put["PolicyARN"])
        self.assertEqual(len(put["Alarms"]), 2)
        [policy] = self.aas.describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=self.resource)["ScalingPolicies"]
        self.assertEqual(policy["PolicyARN"], put["PolicyARN"])
        self.assertEqual(policy["PolicyType"], "TargetTrackingScaling")
        configuration = policy["TargetTrackingScalingPolicyConfiguration"]
        self.assertEqual(configuration["TargetValue"], 50.0)
        self.assertEqual(configuration["ScaleInCooldown"], 60)
        self.assertEqual(configuration["ScaleOutCooldown"], 30)
        self.assertEqual(configuration["PredefinedMetricSpecification"]["PredefinedMetricType"],
                         "DynamoDBWriteCapacityUtilization")
        # Updating keeps the policy's ARN; without scale in only the high alarm remains.
        again = self.aas.put_scaling_policy(
            PolicyName="writes", ServiceNamespace="dynamodb", ResourceId=self.resource,
            ScalableDimension=WRITE, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=tracking(
                "DynamoDBWriteCapacityUtilization", target=70.0, DisableScaleIn=True))
        self.assertEqual(again["PolicyARN"], put["PolicyARN"])
        self.assertEqual(len(again["Alarms"]), 1)
        self.aas.delete_scaling_policy(PolicyName="writes", ServiceNamespace="dynamodb",
                                       ResourceId=self.resource, ScalableDimension=WRITE)
        self.assertClientError("ObjectNotFoundException", self.aas.delete_scaling_policy,
                               PolicyName="writes", ServiceNamespace="dynamodb",
                               ResourceId=self.resource, ScalableDimension=WRITE)
        self.assertEqual(self.aas.describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=self.resource)["ScalingPolicies"], [])

    def test_deregistering_drops_the_policies(self):
        self.register(dimension=READ, MinCapacity=1, MaxCapacity=10)
        self.aas.put_scaling_policy(
            PolicyName="reads", ServiceNamespace="dynamodb", ResourceId=self.resource,
            ScalableDimension=READ, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=tracking("DynamoDBReadCapacityUtilization"))
        self.aas.deregister_scalable_target(ServiceNamespace="dynamodb", ResourceId=self.resource,
                                            ScalableDimension=READ)
        self.assertEqual(self.aas.describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=self.resource)["ScalingPolicies"], [])

    def test_registration_brings_the_capacity_into_range(self):
        before = self.ddb.describe_table(TableName=self.table)["Table"]["ProvisionedThroughput"]
        minimum = before["WriteCapacityUnits"] + 2
        self.register(MinCapacity=minimum, MaxCapacity=minimum + 10)
        deadline = time.monotonic() + tw.STATE_TIMEOUT
        while True:
            table = self.ddb.describe_table(TableName=self.table)["Table"]
            if table["ProvisionedThroughput"]["WriteCapacityUnits"] == minimum:
                break
            self.assertLess(time.monotonic(), deadline, table)
            time.sleep(1)
        activities = self.aas.describe_scaling_activities(
            ServiceNamespace="dynamodb", ResourceId=self.resource,
            ScalableDimension=WRITE)["ScalingActivities"]
        self.assertTrue(any(a["StatusCode"] == "Successful" for a in activities), activities)


class IndexAutoScalingTest(tw.ConformanceTestCase):
    """Scalable targets on a global secondary index: ResourceId table/<t>/index/<i> with the
    dynamodb:index dimensions, apart from the table's own targets."""

    INDEX = "by_customer"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.aas = autoscaling()

    def setUp(self):
        self.table = tw.unique_name("scaled_gsi")
        self._tables_to_drop.append(self.table)
        throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        self.ddb.create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "customer", "AttributeType": "S"}],
            ProvisionedThroughput=throughput,
            GlobalSecondaryIndexes=[{
                "IndexName": self.INDEX,
                "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": throughput}])
        tw.wait_for_table_status(self.table)
        self.table_resource = "table/" + self.table
        self.resource = "table/%s/index/%s" % (self.table, self.INDEX)

    def tearDown(self):
        for resource, dimensions in ((self.resource, (INDEX_READ, INDEX_WRITE)),
                                     (self.table_resource, (READ, WRITE))):
            for dimension in dimensions:
                try:
                    self.aas.deregister_scalable_target(ServiceNamespace="dynamodb",
                                                        ResourceId=resource,
                                                        ScalableDimension=dimension)
                except self.aas.exceptions.ObjectNotFoundException:
                    pass
        super().tearDown()

    def register(self, resource=None, dimension=INDEX_WRITE, **capacity):
        return self.aas.register_scalable_target(ServiceNamespace="dynamodb",
                                                 ResourceId=resource or self.resource,
                                                 ScalableDimension=dimension, **capacity)

    def targets(self, resource=None):
        return self.aas.describe_scalable_targets(
            ServiceNamespace="dynamodb",
            ResourceIds=[resource or self.resource])["ScalableTargets"]

    def index_capacity(self, member):
        table = self.ddb.describe_table(TableName=self.table)["Table"]
        [index] = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == self.INDEX]
        return index["ProvisionedThroughput"][member]

    def test_register_describe_and_deregister_an_index_target(self):
        self.register(MinCapacity=1, MaxCapacity=10)
        [target] = self.targets()
        self.assertEqual((target["ServiceNamespace"], target["ResourceId"],
                          target["ScalableDimension"]), ("dynamodb", self.resource, INDEX_WRITE))
        self.assertEqual((target["MinCapacity"], target["MaxCapacity"]), (1, 10))
        # The index's target is not the table's, nor the index's read target.
        self.assertEqual(self.targets(self.table_resource), [])
        self.assertEqual(self.aas.describe_scalable_targets(
            ServiceNamespace="dynamodb", ResourceIds=[self.resource],
            ScalableDimension=INDEX_READ)["ScalableTargets"], [])
        self.register(resource=self.table_resource, dimension=WRITE, MinCapacity=1,
                      MaxCapacity=10)
        [table_target] = self.targets(self.table_resource)
        self.assertEqual(table_target["ScalableDimension"], WRITE)
        # An update changes only what it names.
        self.register(MaxCapacity=20)
        [target] = self.targets()
        self.assertEqual((target["MinCapacity"], target["MaxCapacity"]), (1, 20))
        self.aas.deregister_scalable_target(ServiceNamespace="dynamodb", ResourceId=self.resource,
                                            ScalableDimension=INDEX_WRITE)
        self.assertEqual(self.targets(), [])
        self.assertEqual(len(self.targets(self.table_resource)), 1)
        self.assertClientError("ObjectNotFoundException", self.aas.deregister_scalable_target,
                               ServiceNamespace="dynamodb", ResourceId=self.resource,
                               ScalableDimension=INDEX_WRITE)

    def test_a_resource_and_a_dimension_of_different_kinds_are_refused(self):
        self.assertClientError("ValidationException", self.register,
                               resource=self.table_resource, dimension=INDEX_WRITE,
                               MinCapacity=1, MaxCapacity=10, message=UNSUPPORTED)
        self.assertClientError("ValidationException", self.register, dimension=WRITE,
                               MinCapacity=1, MaxCapacity=10, message=UNSUPPORTED)
        self.assertClientError("ValidationException", self.register, dimension=READ,
                               MinCapacity=1, MaxCapacity=10, message=UNSUPPORTED)
        self.assertEqual(self.targets(), [])
        self.assertEqual(self.targets(self.table_resource), [])

    def test_a_missing_index_is_refused(self):
        self.assertClientError("ValidationException", self.register,
                               resource="table/%s/index/missing" % self.table,
                               MinCapacity=1, MaxCapacity=10, message="does not exist")
        self.assertClientError("ValidationException", self.register,
                               resource="table/%s/index/%s" % (tw.unique_name("missing"),
                                                               self.INDEX),
                               MinCapacity=1, MaxCapacity=10, message="does not exist")

    def test_a_policy_on_an_index_target(self):
        self.assertClientError("ObjectNotFoundException", self.aas.put_scaling_policy,
                               PolicyName="reads", ServiceNamespace="dynamodb",
                               ResourceId=self.resource, ScalableDimension=INDEX_READ,
                               PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration=tracking(
                                   "DynamoDBReadCapacityUtilization"))
        self.register(dimension=INDEX_READ, MinCapacity=1, MaxCapacity=10)
        put = self.aas.put_scaling_policy(
            PolicyName="reads", ServiceNamespace="dynamodb", ResourceId=self.resource,
            ScalableDimension=INDEX_READ, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=tracking(
                "DynamoDBReadCapacityUtilization", target=60.0))
        self.assertIn(":resource/dynamodb/%s:policyName/reads" % self.resource, put["PolicyARN"])
        self.assertEqual(len(put["Alarms"]), 2)
        for alarm in put["Alarms"]:
            self.assertTrue(alarm["AlarmName"].startswith("TargetTracking-%s-" % self.resource),
                            alarm)
        [policy] = self.aas.describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=self.resource)["ScalingPolicies"]
        self.assertEqual(policy["PolicyARN"], put["PolicyARN"])
        self.assertEqual((policy["ResourceId"], policy["ScalableDimension"]),
                         (self.resource, INDEX_READ))
        configuration = policy["TargetTrackingScalingPolicyConfiguration"]
        self.assertEqual(configuration["TargetValue"], 60.0)
        self.assertEqual(configuration["PredefinedMetricSpecification"]["PredefinedMetricType"],
                         "DynamoDBReadCapacityUtilization")
        self.assertEqual(sorted(a["AlarmName"] for a in policy["Alarms"]),
                         sorted(a["AlarmName"] for a in put["Alarms"]))
        # The table's policies are others.
        self.assertEqual(self.aas.describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=self.table_resource)["ScalingPolicies"], [])
        self.aas.delete_scaling_policy(PolicyName="reads", ServiceNamespace="dynamodb",
                                       ResourceId=self.resource, ScalableDimension=INDEX_READ)
        self.assertEqual(self.aas.describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=self.resource)["ScalingPolicies"], [])

    def test_registration_brings_the_index_capacity_into_range(self):
        minimum = self.index_capacity("WriteCapacityUnits") + 2
        self.register(MinCapacity=minimum, MaxCapacity=minimum + 10)
        deadline = time.monotonic() + tw.STATE_TIMEOUT
        while self.index_capacity("WriteCapacityUnits") != minimum:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(1)
        # The table's own write capacity is left as it was.
        table = self.ddb.describe_table(TableName=self.table)["Table"]
        self.assertEqual(table["ProvisionedThroughput"]["WriteCapacityUnits"], 5)
        activities = self.aas.describe_scaling_activities(
            ServiceNamespace="dynamodb", ResourceId=self.resource,
            ScalableDimension=INDEX_WRITE)["ScalingActivities"]
        self.assertTrue(any(a["StatusCode"] == "Successful" and a["ResourceId"] == self.resource
                            for a in activities), activities)
