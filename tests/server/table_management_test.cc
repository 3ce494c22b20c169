// Table management over HTTP: tags (limits, errors, paging, persistence over a restart),
// deletion protection, DescribeLimits and DescribeEndpoints, and UpdateTable's billing mode
// and throughput changes with DynamoDB's limits, days moved by a ManualClock.
#include "test_server.h"

namespace tidewater::server::testing {
namespace {

constexpr int64_t kHour = 3600LL * 1'000'000;
constexpr int64_t kDay = 24 * kHour;
// 2023-11-14T00:00:00Z: a UTC midnight, so that tests know which day they are in.
constexpr int64_t kMidnight = 1'699'920'000LL * 1'000'000;

std::string Str(const rapidjson::Value& value) { return value.GetString(); }

class TableManagementTest : public ServerFixture {
 protected:
  void SetUp() override {
    clock_.SetMicros(kMidnight + kHour);
    ServerFixture::SetUp();
  }

  // Stops the server and the engine and opens both again on the same data directory.
  void Restart() {
    TearDown();
    ServerFixture::SetUp();
  }

  std::string Arn(const std::string& table) {
    return "arn:aws:dynamodb:us-test-1:000000000000:table/" + table;
  }

  void CreateOnDemand(const std::string& name, const std::string& extra = "") {
    Ok("CreateTable", R"({"TableName":")" + name + R"(",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
        "BillingMode":"PAY_PER_REQUEST")" +
                          extra + "}");
  }

  void CreateProvisioned(const std::string& name, int read, int write) {
    Ok("CreateTable", R"({"TableName":")" + name + R"(",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
        "ProvisionedThroughput":{"ReadCapacityUnits":)" +
                          std::to_string(read) + R"(,"WriteCapacityUnits":)" +
                          std::to_string(write) + "}}");
  }

  std::string Throughput(int read, int write) {
    return R"("ProvisionedThroughput":{"ReadCapacityUnits":)" + std::to_string(read) +
           R"(,"WriteCapacityUnits":)" + std::to_string(write) + "}";
  }

  rapidjson::Document Describe(const std::string& table) {
    return Ok("DescribeTable", R"({"TableName":")" + table + "\"}");
  }

  // Every tag of the table, following NextToken; `pages` counts the calls.
  std::map<std::string, std::string> AllTags(const std::string& table, int* pages = nullptr) {
    std::map<std::string, std::string> tags;
    std::string token;
    int calls = 0;
    do {
      std::string body = R"({"ResourceArn":")" + Arn(table) + "\"";
      if (!token.empty()) body += R"(,"NextToken":")" + token + "\"";
      rapidjson::Document page = Ok("ListTagsOfResource", body + "}");
      ++calls;
      for (const auto& tag : page["Tags"].GetArray()) tags[Str(tag["Key"])] = Str(tag["Value"]);
      token = page.HasMember("NextToken") ? Str(page["NextToken"]) : "";
    } while (!token.empty() && calls < 100);
    if (pages != nullptr) *pages = calls;
    return tags;
  }

  std::string TagList(int first, int count) {
    std::string list = "[";
    for (int i = first; i < first + count; ++i) {
      if (i > first) list += ",";
      list += R"({"Key":"k)" + std::to_string(i) + R"(","Value":"v)" + std::to_string(i) + "\"}";
    }
    return list + "]";
  }
};

TEST_F(TableManagementTest, TagsAreAddedReplacedRemovedAndPaged) {
  CreateOnDemand("Tagged", R"(,"Tags":[{"Key":"team","Value":"data"},{"Key":"empty","Value":""}])");
  EXPECT_EQ(AllTags("Tagged"),
            (std::map<std::string, std::string>{{"empty", ""}, {"team", "data"}}));

  Ok("TagResource", R"({"ResourceArn":")" + Arn("Tagged") +
                        R"(","Tags":[{"Key":"team","Value":"ops"},{"Key":"env","Value":"prod"}]})");
  Ok("UntagResource", R"({"ResourceArn":")" + Arn("Tagged") + R"(","TagKeys":["empty","absent"]})");
  EXPECT_EQ(AllTags("Tagged"),
            (std::map<std::string, std::string>{{"env", "prod"}, {"team", "ops"}}));

  // Up to 50 tags, listed over several pages.
  Ok("TagResource", R"({"ResourceArn":")" + Arn("Tagged") + R"(","Tags":)" + TagList(0, 48) + "}");
  int pages = 0;
  std::map<std::string, std::string> all = AllTags("Tagged", &pages);
  EXPECT_EQ(all.size(), 50u);
  EXPECT_EQ(all["k47"], "v47");
  EXPECT_GT(pages, 1);

  std::string message;
  EXPECT_EQ(ErrorType("TagResource",
                      R"({"ResourceArn":")" + Arn("Tagged") +
                          R"(","Tags":[{"Key":"one-more","Value":"x"}]})",
                      &message),
            "ValidationException");
  EXPECT_EQ(message, "Number of Tags exceed the current limit for the provided ResourceArn");
  // Replacing a tag's value at the limit is fine.
  Ok("TagResource",
     R"({"ResourceArn":")" + Arn("Tagged") + R"(","Tags":[{"Key":"k1","Value":"new"}]})");
  EXPECT_EQ(AllTags("Tagged")["k1"], "new");
}

TEST_F(TableManagementTest, TagErrors) {
  CreateOnDemand("Errors");
  std::string message;
  const std::string arn = Arn("Errors");
  const auto tag = [&](const std::string& tags) {
    return ErrorType("TagResource", R"({"ResourceArn":")" + arn + R"(","Tags":)" + tags + "}",
                     &message);
  };
  EXPECT_EQ(tag("[]"), "ValidationException");
  EXPECT_EQ(message, "Atleast one Tag needs to be provided as Input.");
  EXPECT_EQ(tag(R"([{"Key":"","Value":"x"}])"), "ValidationException");
  EXPECT_EQ(message, "The Tag Key provided is invalid, Key: ");
  const std::string key128(128, 'k');
  Ok("TagResource", R"({"ResourceArn":")" + arn + R"(","Tags":[{"Key":")" + key128 +
                        R"(","Value":")" + std::string(256, 'v') + "\"}]}");
  EXPECT_EQ(tag(R"([{"Key":")" + key128 + R"(k","Value":"x"}])"), "ValidationException");
  EXPECT_EQ(message, "The Tag Key provided is invalid, Key: " + key128 + "k");
  EXPECT_EQ(tag(R"([{"Key":"a","Value":")" + std::string(257, 'v') + "\"}]"),
            "ValidationException");
  EXPECT_EQ(message.rfind("The Tag Value provided is invalid, Value: ", 0), 0u);
  EXPECT_EQ(tag(R"([{"Key":"a#b","Value":"x"}])"), "ValidationException");
  EXPECT_EQ(message, "The Tag Key provided is invalid, Key: a#b");
  EXPECT_EQ(tag(R"([{"Key":"aws:owner","Value":"x"}])"), "ValidationException");
  EXPECT_EQ(message, "Tag Key cannot be prefixed with aws:, Key: aws:owner");
  EXPECT_EQ(tag(R"([{"Key":"d","Value":"1"},{"Key":"d","Value":"2"}])"), "ValidationException");
  EXPECT_EQ(message, "Duplicate Tag Keys provided as input: Duplicate Tag Key found d");
  EXPECT_EQ(tag(TagList(0, 51)), "ValidationException");
  EXPECT_EQ(message, "Number of Tags exceed the current limit for the provided ResourceArn");
  // Allowed characters: letters, digits, white space and + - = . _ : /
  Ok("TagResource", R"({"ResourceArn":")" + arn +
                        R"(","Tags":[{"Key":"a b+c-d=e.f_g:h/i","Value":"Ünïcode 1"}]})");

  EXPECT_EQ(
      ErrorType("UntagResource", R"({"ResourceArn":")" + arn + R"(","TagKeys":[]})", &message),
      "ValidationException");
  EXPECT_EQ(message, "Atleast one Tag Key needs to be provided as Input.");

  EXPECT_EQ(ErrorType("ListTagsOfResource", R"({"ResourceArn":"not-an-arn"})", &message),
            "ValidationException");
  EXPECT_EQ(message, "Invalid TableArn: Invalid ResourceArn provided as input not-an-arn");
  for (const std::string& unknown :
       {Arn("Missing"), std::string("arn:aws:dynamodb:elsewhere-1:000000000000:table/Errors")}) {
    EXPECT_EQ(ErrorType("ListTagsOfResource", R"({"ResourceArn":")" + unknown + "\"}", &message),
              "ResourceNotFoundException");
    EXPECT_EQ(message, "Requested resource not found: ResourcArn: " + unknown + " not found");
    EXPECT_EQ(ErrorType("TagResource",
                        R"({"ResourceArn":")" + unknown + R"(","Tags":[{"Key":"a","Value":"b"}]})"),
              "ResourceNotFoundException");
    EXPECT_EQ(ErrorType("UntagResource", R"({"ResourceArn":")" + unknown + R"(","TagKeys":["a"]})"),
              "ResourceNotFoundException");
  }
  // CreateTable checks its Tags the same way, and creates nothing when they are invalid.
  EXPECT_EQ(ErrorType("CreateTable", R"({"TableName":"BadTags",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",
        "Tags":[{"Key":"aws:x","Value":"y"}]})"),
            "ValidationException");
  EXPECT_EQ(ErrorType("DescribeTable", R"({"TableName":"BadTags"})"), "ResourceNotFoundException");
}

TEST_F(TableManagementTest, TagsPersistAcrossRestartAndGoWithTheTable) {
  CreateOnDemand("Kept", R"(,"Tags":[{"Key":"owner","Value":"me"}])");
  Ok("TagResource",
     R"({"ResourceArn":")" + Arn("Kept") + R"(","Tags":[{"Key":"tier","Value":"gold"}]})");
  Restart();
  EXPECT_EQ(AllTags("Kept"),
            (std::map<std::string, std::string>{{"owner", "me"}, {"tier", "gold"}}));
  Ok("DeleteTable", R"({"TableName":"Kept"})");
  EXPECT_EQ(ErrorType("ListTagsOfResource", R"({"ResourceArn":")" + Arn("Kept") + "\"}"),
            "ResourceNotFoundException");
  CreateOnDemand("Kept");
  EXPECT_TRUE(AllTags("Kept").empty());
}

TEST_F(TableManagementTest, DeletionProtection) {
  CreateOnDemand("Guarded", R"(,"DeletionProtectionEnabled":true)");
  EXPECT_TRUE(Describe("Guarded")["Table"]["DeletionProtectionEnabled"].GetBool());
  std::string message;
  EXPECT_EQ(ErrorType("DeleteTable", R"({"TableName":"Guarded"})", &message),
            "ValidationException");
  EXPECT_EQ(message,
            "Resource cannot be deleted as it is currently protected against deletion. Disable "
            "deletion protection first.");
  Restart();
  EXPECT_TRUE(Describe("Guarded")["Table"]["DeletionProtectionEnabled"].GetBool());
  EXPECT_EQ(ErrorType("DeleteTable", R"({"TableName":"Guarded"})"), "ValidationException");

  rapidjson::Document updated =
      Ok("UpdateTable", R"({"TableName":"Guarded","DeletionProtectionEnabled":false})");
  EXPECT_FALSE(updated["TableDescription"]["DeletionProtectionEnabled"].GetBool());
  Ok("DeleteTable", R"({"TableName":"Guarded"})");

  CreateOnDemand("Later");
  EXPECT_FALSE(Describe("Later")["Table"]["DeletionProtectionEnabled"].GetBool());
  Ok("UpdateTable", R"({"TableName":"Later","DeletionProtectionEnabled":true})");
  EXPECT_EQ(ErrorType("DeleteTable", R"({"TableName":"Later"})"), "ValidationException");
}

TEST_F(TableManagementTest, DescribeLimitsAndEndpoints) {
  rapidjson::Document limits = Ok("DescribeLimits", "{}");
  EXPECT_EQ(limits["AccountMaxReadCapacityUnits"].GetInt64(), 80000);
  EXPECT_EQ(limits["AccountMaxWriteCapacityUnits"].GetInt64(), 80000);
  EXPECT_EQ(limits["TableMaxReadCapacityUnits"].GetInt64(), 40000);
  EXPECT_EQ(limits["TableMaxWriteCapacityUnits"].GetInt64(), 40000);

  rapidjson::Document endpoints = Ok("DescribeEndpoints", "{}");
  ASSERT_EQ(endpoints["Endpoints"].Size(), 1u);
  EXPECT_EQ(Str(endpoints["Endpoints"][0]["Address"]), "localhost");  // the client's Host
  EXPECT_EQ(endpoints["Endpoints"][0]["CachePeriodInMinutes"].GetInt64(), 1440);
}

TEST_F(TableManagementTest, ThroughputIncreasesAndDecreasesAreRecorded) {
  CreateProvisioned("Capacity", 5, 5);
  rapidjson::Document d = Describe("Capacity");
  EXPECT_EQ(d["Table"]["ProvisionedThroughput"]["NumberOfDecreasesToday"].GetInt(), 0);
  EXPECT_FALSE(d["Table"]["ProvisionedThroughput"].HasMember("LastIncreaseDateTime"));

  std::string message;
  EXPECT_EQ(
      ErrorType("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(5, 5) + "}", &message),
      "ValidationException");
  EXPECT_EQ(message.rfind("The provisioned throughput for the table will not change.", 0), 0u);

  const double increase_seconds = static_cast<double>(clock_.NowMicros()) / 1e6;
  d = Ok("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(10, 8) + "}");
  const rapidjson::Value& raised = d["TableDescription"]["ProvisionedThroughput"];
  EXPECT_EQ(raised["ReadCapacityUnits"].GetInt(), 10);
  EXPECT_EQ(raised["WriteCapacityUnits"].GetInt(), 8);
  EXPECT_DOUBLE_EQ(raised["LastIncreaseDateTime"].GetDouble(), increase_seconds);

  // Four decreases in a UTC day at any time, then one an hour after the last.
  for (int i = 0; i < 4; ++i) {
    clock_.AdvanceSeconds(60);
    Ok("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(9 - i, 8) + "}");
  }
  d = Describe("Capacity");
  EXPECT_EQ(d["Table"]["ProvisionedThroughput"]["NumberOfDecreasesToday"].GetInt(), 4);
  EXPECT_DOUBLE_EQ(d["Table"]["ProvisionedThroughput"]["LastDecreaseDateTime"].GetDouble(),
                   static_cast<double>(clock_.NowMicros()) / 1e6);
  EXPECT_EQ(
      ErrorType("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(5, 8) + "}", &message),
      "LimitExceededException");
  EXPECT_EQ(message.rfind("Subscriber limit exceeded: Provisioned throughput decreases are limited "
                          "within a given UTC day. After the first 4 decreases, each subsequent "
                          "decrease in the same UTC day can be performed at most once every 3600 "
                          "seconds. Number of decreases today: 4. Last decrease at Tuesday, "
                          "November 14, 2023 1:04:00 AM UTC. Next decrease can be made at "
                          "Tuesday, November 14, 2023 2:04:00 AM UTC",
                          0),
            0u)
      << message;
  // Increases are not limited; a decrease of one value with an increase of the other is a
  // decrease.
  Ok("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(6, 9) + "}");
  EXPECT_EQ(ErrorType("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(7, 8) + "}"),
            "LimitExceededException");
  clock_.AdvanceMicros(kHour);
  Ok("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(5, 9) + "}");
  EXPECT_EQ(ErrorType("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(4, 9) + "}"),
            "LimitExceededException");

  // The limits and the history survive a restart.
  Restart();
  d = Describe("Capacity");
  EXPECT_EQ(d["Table"]["ProvisionedThroughput"]["NumberOfDecreasesToday"].GetInt(), 5);
  EXPECT_EQ(ErrorType("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(4, 9) + "}"),
            "LimitExceededException");

  // A new UTC day starts the count again.
  clock_.SetMicros(kMidnight + kDay);
  d = Describe("Capacity");
  EXPECT_EQ(d["Table"]["ProvisionedThroughput"]["NumberOfDecreasesToday"].GetInt(), 0);
  for (int i = 0; i < 4; ++i) {
    Ok("UpdateTable", R"({"TableName":"Capacity",)" + Throughput(4 - i, 9) + "}");
  }
  EXPECT_EQ(
      Describe("Capacity")["Table"]["ProvisionedThroughput"]["NumberOfDecreasesToday"].GetInt(), 4);
}

// A global index's throughput follows the table's rules for a change, counted per index:
// the same values are refused, four decreases a UTC day then one an hour, kept across a
// restart, and the table's own count is not touched.
TEST_F(TableManagementTest, GlobalIndexThroughputDecreasesAreLimitedPerIndex) {
  Ok("CreateTable", R"({"TableName":"Indexed",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
                              {"AttributeName":"g","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
      "BillingMode":"PROVISIONED","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5},
      "GlobalSecondaryIndexes":[{"IndexName":"byG",
        "KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},
        "ProvisionedThroughput":{"ReadCapacityUnits":10,"WriteCapacityUnits":10}}]})");
  const auto update = [this](int read, int write) {
    return R"({"TableName":"Indexed","GlobalSecondaryIndexUpdates":[{"Update":{"IndexName":"byG",)" +
           Throughput(read, write) + "}}]}";
  };
  const auto index_throughput = [&] {
    rapidjson::Document d = Describe("Indexed");
    rapidjson::Document throughput;
    throughput.CopyFrom(d["Table"]["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"],
                        throughput.GetAllocator());
    return throughput;
  };
  std::string message;
  EXPECT_EQ(ErrorType("UpdateTable", update(10, 10), &message), "ValidationException");
  EXPECT_EQ(message.rfind("The provisioned throughput for the index byG will not change.", 0), 0u)
      << message;

  const double increase_seconds = static_cast<double>(clock_.NowMicros()) / 1e6;
  Ok("UpdateTable", update(20, 10));
  EXPECT_DOUBLE_EQ(index_throughput()["LastIncreaseDateTime"].GetDouble(), increase_seconds);
  for (int i = 0; i < 4; ++i) {
    clock_.AdvanceSeconds(60);
    Ok("UpdateTable", update(19 - i, 10));
  }
  EXPECT_EQ(index_throughput()["NumberOfDecreasesToday"].GetInt(), 4);
  EXPECT_DOUBLE_EQ(index_throughput()["LastDecreaseDateTime"].GetDouble(),
                   static_cast<double>(clock_.NowMicros()) / 1e6);
  EXPECT_EQ(ErrorType("UpdateTable", update(15, 10), &message), "LimitExceededException");
  EXPECT_EQ(message.rfind("Subscriber limit exceeded: Provisioned throughput decreases are limited "
                          "within a given UTC day.",
                          0),
            0u)
      << message;
  EXPECT_EQ(index_throughput()["ReadCapacityUnits"].GetInt(), 16);
  // The table's own decreases are counted apart.
  Ok("UpdateTable", R"({"TableName":"Indexed",)" + Throughput(4, 4) + "}");
  EXPECT_EQ(
      Describe("Indexed")["Table"]["ProvisionedThroughput"]["NumberOfDecreasesToday"].GetInt(), 1);

  Restart();
  EXPECT_EQ(index_throughput()["NumberOfDecreasesToday"].GetInt(), 4);
  EXPECT_EQ(ErrorType("UpdateTable", update(15, 10)), "LimitExceededException");
  clock_.AdvanceMicros(kHour);
  Ok("UpdateTable", update(15, 10));
  EXPECT_EQ(index_throughput()["ReadCapacityUnits"].GetInt(), 15);
  EXPECT_EQ(index_throughput()["NumberOfDecreasesToday"].GetInt(), 5);
}

TEST_F(TableManagementTest, BillingModeSwitches) {
  CreateOnDemand("Modes");
  std::string message;
  EXPECT_EQ(
      ErrorType("UpdateTable", R"({"TableName":"Modes","BillingMode":"PROVISIONED"})", &message),
      "ValidationException");
  EXPECT_EQ(message,
            "One or more parameter values were invalid: ProvisionedThroughput must be specified "
            "when BillingMode is PROVISIONED");
  EXPECT_EQ(ErrorType("UpdateTable", R"({"TableName":"Modes",)" + Throughput(1, 1) + "}"),
            "ValidationException");

  // On-demand to provisioned at any time; provisioned to on-demand 4 times in 24 hours.
  std::vector<int64_t> switches;
  for (int i = 0; i < 4; ++i) {
    clock_.AdvanceSeconds(600);
    rapidjson::Document d =
        Ok("UpdateTable",
           R"({"TableName":"Modes","BillingMode":"PROVISIONED",)" + Throughput(3, 4) + "}");
    const rapidjson::Value& table = d["TableDescription"];
    EXPECT_EQ(Str(table["BillingModeSummary"]["BillingMode"]), "PROVISIONED");
    EXPECT_EQ(table["ProvisionedThroughput"]["ReadCapacityUnits"].GetInt(), 3);
    clock_.AdvanceSeconds(600);
    switches.push_back(clock_.NowMicros());
    d = Ok("UpdateTable", R"({"TableName":"Modes","BillingMode":"PAY_PER_REQUEST"})");
    EXPECT_EQ(Str(d["TableDescription"]["BillingModeSummary"]["BillingMode"]), "PAY_PER_REQUEST");
    EXPECT_DOUBLE_EQ(
        d["TableDescription"]["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"]
            .GetDouble(),
        static_cast<double>(clock_.NowMicros()) / 1e6);
    EXPECT_EQ(d["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"].GetInt(), 0);
  }
  Ok("UpdateTable",
     R"({"TableName":"Modes","BillingMode":"PROVISIONED",)" + Throughput(3, 4) + "}");
  EXPECT_EQ(ErrorType("UpdateTable", R"({"TableName":"Modes","BillingMode":"PAY_PER_REQUEST"})",
                      &message),
            "LimitExceededException");
  EXPECT_NE(message.find("Update to PayPerRequest mode are limited"), std::string::npos) << message;
  EXPECT_EQ(ErrorType("UpdateTable", R"({"TableName":"Modes","BillingMode":"PAY_PER_REQUEST",)" +
                                         Throughput(3, 4) + "}"),
            "ValidationException");

  // The window rolls: 24 hours after the first switch, one more is allowed.
  Restart();
  clock_.SetMicros(switches[0] + kDay - 1);
  EXPECT_EQ(ErrorType("UpdateTable", R"({"TableName":"Modes","BillingMode":"PAY_PER_REQUEST"})"),
            "LimitExceededException");
  clock_.SetMicros(switches[0] + kDay);
  Ok("UpdateTable", R"({"TableName":"Modes","BillingMode":"PAY_PER_REQUEST"})");
  EXPECT_EQ(ErrorType("UpdateTable", R"({"TableName":"Modes","BillingMode":"PROVISIONED",)" +
                                         Throughput(3, 4) +
                                         R"(,"StreamSpecification":{"StreamEnabled":false}})"),
            "ValidationException");
  // A refused request changed nothing.
  EXPECT_EQ(Str(Describe("Modes")["Table"]["BillingModeSummary"]["BillingMode"]),
            "PAY_PER_REQUEST");
}

}  // namespace
}  // namespace tidewater::server::testing
