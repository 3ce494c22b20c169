"""Application Auto Scaling for DynamoDB tables through boto3: scalable targets, target
tracking policies, their errors, and the capacity a registration brings into range.

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
