// Lambda event filtering (FilterCriteria) on DynamoDB stream records: each operator, AND
// across keys, OR within a leaf and across patterns, absent fields, and invalid patterns.
#include <gtest/gtest.h>

#include "tidewater/streams/filter_pattern.h"

namespace tidewater::streams {
namespace {

// An INSERT of {"pk":"order#1","status":"Active","qty":5,"tags":["a","b"]} and a REMOVE.
constexpr const char* kInsert = R"({
  "eventName": "INSERT", "eventSource": "aws:dynamodb",
  "dynamodb": {
    "Keys": {"pk": {"S": "order#1"}},
    "NewImage": {"pk": {"S": "order#1"}, "status": {"S": "Active"}, "qty": {"N": "5"},
                 "tags": {"SS": ["a", "b"]}, "flag": {"BOOL": true}, "gone": {"NULL": true}},
    "SizeBytes": 40
  }})";
constexpr const char* kRemove = R"({
  "eventName": "REMOVE",
  "dynamodb": {"Keys": {"pk": {"S": "user#9"}}, "OldImage": {"pk": {"S": "user#9"}},
               "SizeBytes": 12}})";

bool Matches(const std::string& pattern, const char* record_json) {
  auto parsed = FilterPattern::Parse(pattern);
  EXPECT_TRUE(parsed.ok()) << pattern << ": " << parsed.status().ToString();
  if (!parsed.ok()) return false;
  rapidjson::Document record;
  record.Parse(record_json);
  EXPECT_FALSE(record.HasParseError());
  return parsed->Matches(record);
}

struct Case {
  const char* name;
  std::string pattern;
  bool insert;  // matches kInsert
  bool remove;  // matches kRemove
};

std::string NewImage(const std::string& attribute, const std::string& type,
                     const std::string& matchers) {
  return R"({"dynamodb":{"NewImage":{")" + attribute + R"(":{")" + type + R"(":)" + matchers +
         "}}}}";
}

TEST(FilterPatternTest, Operators) {
  const Case cases[] = {
      {"event name exact", R"({"eventName":["INSERT"]})", true, false},
      {"event name or", R"({"eventName":["INSERT","REMOVE"]})", true, true},
      {"key exact", R"({"dynamodb":{"Keys":{"pk":{"S":["order#1"]}}}})", true, false},
      {"key prefix", R"({"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"user#"}]}}}})", false, true},
      {"key suffix", R"({"dynamodb":{"Keys":{"pk":{"S":[{"suffix":"#1"}]}}}})", true, false},
      {"prefix is case sensitive", NewImage("status", "S", R"([{"prefix":"act"}])"), false, false},
      {"prefix ignoring case",
       NewImage("status", "S", R"([{"prefix":{"equals-ignore-case":"ACT"}}])"), true, false},
      {"suffix ignoring case",
       NewImage("status", "S", R"([{"suffix":{"equals-ignore-case":"IVE"}}])"), true, false},
      {"equals ignore case", NewImage("status", "S", R"([{"equals-ignore-case":"active"}])"), true,
       false},
      {"exact is case sensitive", NewImage("status", "S", R"(["active"])"), false, false},
      {"numeric range on N text", NewImage("qty", "N", R"([{"numeric":[">",0,"<=",5]}])"), true,
       false},
      {"numeric range excludes", NewImage("qty", "N", R"([{"numeric":[">",5,"<=",9]}])"), false,
       false},
      {"numeric equal", NewImage("qty", "N", R"([{"numeric":["=",5]}])"), true, false},
      {"numeric on JSON number", R"({"dynamodb":{"SizeBytes":[{"numeric":[">=",40]}]}})", true,
       false},
      {"numeric not on text", NewImage("status", "S", R"([{"numeric":[">",0]}])"), false, false},
      {"exact number", R"({"dynamodb":{"SizeBytes":[12]}})", false, true},
      {"exists true", NewImage("status", "S", R"([{"exists":true}])"), true, false},
      {"exists false", R"({"dynamodb":{"NewImage":{"status":[{"exists":false}]}}})", false, true},
      {"exists false on present", R"({"dynamodb":{"OldImage":[{"exists":false}]}})", true, false},
      {"anything-but value", R"({"eventName":[{"anything-but":"INSERT"}]})", false, true},
      {"anything-but list", R"({"eventName":[{"anything-but":["INSERT","REMOVE"]}]})", false,
       false},
      {"anything-but absent field", NewImage("status", "S", R"([{"anything-but":"x"}])"), true,
       false},
      {"anything-but prefix",
       R"({"dynamodb":{"Keys":{"pk":{"S":[{"anything-but":{"prefix":"user#"}}]}}}})", true, false},
      {"anything-but suffix",
       R"({"dynamodb":{"Keys":{"pk":{"S":[{"anything-but":{"suffix":"#9"}}]}}}})", true, false},
      {"anything-but ignore case",
       R"({"eventName":[{"anything-but":{"equals-ignore-case":["insert"]}}]})", false, true},
      {"string set element", NewImage("tags", "SS", R"(["b"])"), true, false},
      {"boolean", NewImage("flag", "BOOL", "[true]"), true, false},
      {"boolean mismatch", NewImage("flag", "BOOL", "[false]"), false, false},
      {"null", NewImage("gone", "NULL", "[true]"), true, false},
      {"and across keys", R"({"eventName":["INSERT"],"dynamodb":{"Keys":{"pk":{"S":["user#9"]}}}})",
       false, false},
      {"nested pattern on absent object", R"({"dynamodb":{"NewImage":{"pk":{"S":["user#9"]}}}})",
       false, false},
      {"nested pattern on a scalar", R"({"eventName":{"S":["INSERT"]}})", false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Matches(c.pattern, kInsert), c.insert) << c.pattern;
    EXPECT_EQ(Matches(c.pattern, kRemove), c.remove) << c.pattern;
  }
}

TEST(FilterPatternTest, CriteriaAreAnOrOfPatterns) {
  rapidjson::Document insert;
  insert.Parse(kInsert);
  rapidjson::Document remove;
  remove.Parse(kRemove);

  auto none = FilterCriteria::Parse({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(none->Matches(insert));

  auto either = FilterCriteria::Parse(
      {R"({"eventName":["REMOVE"]})", R"({"dynamodb":{"Keys":{"pk":{"S":["order#1"]}}}})"});
  ASSERT_TRUE(either.ok());
  EXPECT_TRUE(either->Matches(insert));
  EXPECT_TRUE(either->Matches(remove));

  auto neither = FilterCriteria::Parse({R"({"eventName":["MODIFY"]})"});
  ASSERT_TRUE(neither.ok());
  EXPECT_FALSE(neither->Matches(insert));
  EXPECT_FALSE(neither->Matches(remove));
}

TEST(FilterPatternTest, InvalidPatternsAreValidationErrors) {
  const char* invalid[] = {
      "",
      "not json",
      R"(["INSERT"])",
      R"({})",
      R"({"eventName":"INSERT"})",
      R"({"eventName":[]})",
      R"({"eventName":[{"prefix":1}]})",
      R"({"eventName":[{"wildcard":"*"}]})",
      R"({"eventName":[{"prefix":"a","suffix":"b"}]})",
      R"({"n":[{"numeric":[">"]}]})",
      R"({"n":[{"numeric":["!=",1]}]})",
      R"({"n":[{"numeric":["<",5,">",1]}]})",
      R"({"n":[{"numeric":[">",9,"<",1]}]})",
      R"({"n":[{"numeric":[">","1"]}]})",
      R"({"n":[{"exists":"yes"}]})",
      R"({"n":[{"anything-but":[]}]})",
      R"({"n":[{"anything-but":{"wildcard":"x"}}]})",
      R"({"n":[{"anything-but":true}]})",
      R"({"n":[["nested"]]})",
      R"({"n":{}})",
  };
  for (const char* pattern : invalid) {
    auto parsed = FilterPattern::Parse(pattern);
    ASSERT_FALSE(parsed.ok()) << pattern;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kValidation) << pattern;
    EXPECT_TRUE(parsed.status().message().starts_with("Invalid filter pattern")) << pattern;
  }
  auto criteria = FilterCriteria::Parse({R"({"eventName":["INSERT"]})", "{"});
  EXPECT_FALSE(criteria.ok());
}

TEST(FilterPatternTest, DeepNestingIsRejectedNotRecursedWithoutBound) {
  std::string pattern;
  for (int i = 0; i < 100; ++i) pattern += R"({"a":)";
  pattern += R"(["x"])";
  for (int i = 0; i < 100; ++i) pattern += "}";
  EXPECT_FALSE(FilterPattern::Parse(pattern).ok());
}

}  // namespace
}  // namespace tidewater::streams
