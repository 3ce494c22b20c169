// Update expressions: SET, REMOVE, ADD and DELETE against DynamoDB's documented semantics.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/expression_test_util.h"
#include "tidewater/core/expression.h"
#include "tidewater/core/expression_legacy.h"

namespace tidewater {
namespace {

using namespace testing_values;  // NOLINT

const ExpressionAttributeValues& Values() {
  static const ExpressionAttributeValues values = {
      {":one", N("1")},
      {":two", N("2")},
      {":half", N("0.5")},
      {":x", S("x")},
      {":y", S("y")},
      {":list", L({S("c"), S("d")})},
      {":empty_list", L({})},
      {":map", M({{"k", S("v")}})},
      {":ss", SS({"b", "c"})},
      {":ss_a", SS({"a"})},
      {":ns", NS({"2", "3"})},
      {":bs", BS({"\x01"})},
      {":max", N("99999999999999999999999999999999999999E+88")},
      {":tiny", N("1E-130")},
      {":digits", N("0.00000000000000000000000000000000000001")},
  };
  return values;
}

const Item& Key() {
  static const Item key = {{"pk", S("p")}, {"sk", N("1")}};
  return key;
}

Item Old() {
  Item item = Key();
  item["n"] = N("10");
  item["s"] = S("text");
  item["l"] = L({S("a"), S("b"), S("c"), S("d")});
  item["m"] = M({{"a", N("1")}, {"kid", M({{"z", S("zz")}})}});
  item["ss"] = SS({"a", "b"});
  item["ns"] = NS({"1", "2"});
  item["bs"] = BS({"\x01", "\x02"});
  return item;
}

Result<Item> Apply(const std::string& text, const std::optional<Item>& old,
                   const ExpressionAttributeNames& names = {}) {
  TW_ASSIGN_OR_RETURN(UpdateExpression update,
                      UpdateExpression::Compile(text, names, Values(), HashRangeSchema()));
  return update.Apply(old ? &*old : nullptr, Key());
}

struct Case {
  std::string expression;
  Item expected;  // the whole new item
};

Item With(Item item, const std::string& name, AttributeValue value) {
  item[name] = std::move(value);
  return item;
}

Item Without(Item item, const std::string& name) {
  item.erase(name);
  return item;
}

TEST(UpdateTest, SetForms) {
  const std::vector<Case> cases = {
      {"SET s = :x", With(Old(), "s", S("x"))},
      {"SET new_attr = :x", With(Old(), "new_attr", S("x"))},
      {"SET n = n + :one", With(Old(), "n", N("11"))},
      {"SET n = n - :half", With(Old(), "n", N("9.5"))},
      {"SET n = :two + n", With(Old(), "n", N("12"))},
      {"SET n = :one - :two", With(Old(), "n", N("-1"))},
      {"SET c = n", With(Old(), "c", N("10"))},
      {"SET n = s, s = n", With(With(Old(), "n", S("text")), "s", N("10"))},  // old values
      {"SET l = list_append(l, :list)",
       With(Old(), "l", L({S("a"), S("b"), S("c"), S("d"), S("c"), S("d")}))},
      {"SET l = list_append(:list, l)",
       With(Old(), "l", L({S("c"), S("d"), S("a"), S("b"), S("c"), S("d")}))},
      {"SET l = list_append(:empty_list, :list)", With(Old(), "l", L({S("c"), S("d")}))},
      {"SET n = if_not_exists(n, :one)", Old()},
      {"SET c = if_not_exists(c, :one)", With(Old(), "c", N("1"))},
      {"SET c = if_not_exists(c, :one) + :two", With(Old(), "c", N("3"))},
      {"SET m.a = :x", With(Old(), "m", M({{"a", S("x")}, {"kid", M({{"z", S("zz")}})}}))},
      {"SET m.kid.w = :x",
       With(Old(), "m", M({{"a", N("1")}, {"kid", M({{"z", S("zz")}, {"w", S("x")}})}}))},
      {"SET l[1] = :x", With(Old(), "l", L({S("a"), S("x"), S("c"), S("d")}))},
      {"SET l[10] = :x", With(Old(), "l", L({S("a"), S("b"), S("c"), S("d"), S("x")}))},
      {"SET m.newmap = :map",
       With(Old(), "m",
            M({{"a", N("1")}, {"kid", M({{"z", S("zz")}})}, {"newmap", M({{"k", S("v")}})}}))},
      {"SET ss = :ss", With(Old(), "ss", SS({"b", "c"}))},  // set types are kept
      {"set s = (:x)", With(Old(), "s", S("x"))},
  };
  for (const Case& c : cases) {
    Result<Item> item = Apply(c.expression, Old());
    ASSERT_TRUE(item.ok()) << c.expression << ": " << item.status().message();
    EXPECT_EQ(*item, c.expected) << c.expression;
  }
}

TEST(UpdateTest, RemoveForms) {
  const std::vector<Case> cases = {
      {"REMOVE s", Without(Old(), "s")},
      {"REMOVE nothing_here", Old()},
      {"REMOVE s, n", Without(Without(Old(), "s"), "n")},
      {"REMOVE m.a", With(Old(), "m", M({{"kid", M({{"z", S("zz")}})}}))},
      {"REMOVE m.nope", Old()},
      {"REMOVE l[0]", With(Old(), "l", L({S("b"), S("c"), S("d")}))},
      // Indexes name the elements before the update; later elements shift down.
      {"REMOVE l[1], l[3]", With(Old(), "l", L({S("a"), S("c")}))},
      {"REMOVE l[3], l[1]", With(Old(), "l", L({S("a"), S("c")}))},
      {"REMOVE l[0], l[1], l[2], l[3]", With(Old(), "l", L({}))},
      {"REMOVE l[9]", Old()},
      {"SET l[0] = :x REMOVE l[1]", With(Old(), "l", L({S("x"), S("c"), S("d")}))},
  };
  for (const Case& c : cases) {
    Result<Item> item = Apply(c.expression, Old());
    ASSERT_TRUE(item.ok()) << c.expression << ": " << item.status().message();
    EXPECT_EQ(*item, c.expected) << c.expression;
  }
}

TEST(UpdateTest, AddAndDelete) {
  const std::vector<Case> cases = {
      {"ADD n :one", With(Old(), "n", N("11"))},
      {"ADD cnt :two", With(Old(), "cnt", N("2"))},  // missing: starts at 0
      {"ADD ss :ss", With(Old(), "ss", SS({"a", "b", "c"}))},
      {"ADD ns :ns", With(Old(), "ns", NS({"1", "2", "3"}))},
      {"ADD newset :ss", With(Old(), "newset", SS({"b", "c"}))},
      {"ADD m.kid.hits :one",
       With(Old(), "m", M({{"a", N("1")}, {"kid", M({{"z", S("zz")}, {"hits", N("1")}})}}))},
      {"DELETE ss :ss_a", With(Old(), "ss", SS({"b"}))},
      {"DELETE ss :ss", With(Old(), "ss", SS({"a"}))},
      {"DELETE ns :ns", With(Old(), "ns", NS({"1"}))},
      {"DELETE bs :bs", With(Old(), "bs", BS({"\x02"}))},
      {"DELETE nothing_here :ss", Old()},
      // Removing the last members removes the attribute.
      {"DELETE ss :ss_a, ns :ns REMOVE s",
       Without(With(With(Old(), "ss", SS({"b"})), "ns", NS({"1"})), "s")},
  };
  for (const Case& c : cases) {
    Result<Item> item = Apply(c.expression, Old());
    ASSERT_TRUE(item.ok()) << c.expression << ": " << item.status().message();
    EXPECT_EQ(*item, c.expected) << c.expression;
  }
  Item two_members = With(Old(), "ss", SS({"b", "c"}));
  Result<Item> emptied = Apply("DELETE ss :ss", two_members);
  ASSERT_TRUE(emptied.ok());
  EXPECT_EQ(*emptied, Without(Old(), "ss"));
}

TEST(UpdateTest, NoItemStartsFromTheKey) {
  Result<Item> item = Apply("SET a = :x ADD c :one, tags :ss REMOVE gone", std::nullopt);
  ASSERT_TRUE(item.ok()) << item.status().message();
  Item expected = Key();
  expected["a"] = S("x");
  expected["c"] = N("1");
  expected["tags"] = SS({"b", "c"});
  EXPECT_EQ(*item, expected);
}

TEST(UpdateTest, NamePlaceholders) {
  Result<Item> item = Apply("SET #st = :x, #m.#kid.z = :y", Old(),
                            {{"#st", "status"}, {"#m", "m"}, {"#kid", "kid"}});
  ASSERT_TRUE(item.ok()) << item.status().message();
  Item expected = With(Old(), "status", S("x"));
  expected["m"] = M({{"a", N("1")}, {"kid", M({{"z", S("y")}})}});
  EXPECT_EQ(*item, expected);
}

TEST(UpdateTest, ApplyErrors) {
  const std::pair<std::string, std::string> cases[] = {
      {"SET a = nothing_here",
       "The provided expression refers to an attribute that does not exist in the item"},
      {"SET n = nothing_here + :one",
       "The provided expression refers to an attribute that does not exist in the item"},
      {"SET n = if_not_exists(c, nothing_here)",
       "The provided expression refers to an attribute that does not exist in the item"},
      {"SET n = s + :one", "An operand in the update expression has an incorrect data type"},
      {"SET l = list_append(l, s)",
       "An operand in the update expression has an incorrect data type"},
      {"ADD s :one", "An operand in the update expression has an incorrect data type"},
      {"ADD ss :ns", "An operand in the update expression has an incorrect data type"},
      {"DELETE ss :ns", "An operand in the update expression has an incorrect data type"},
      {"DELETE n :ns", "An operand in the update expression has an incorrect data type"},
      {"SET nothing_here.a = :x",
       "The document path provided in the update expression is invalid for update"},
      {"SET s.a = :x", "The document path provided in the update expression is invalid for update"},
      {"SET m[0] = :x",
       "The document path provided in the update expression is invalid for update"},
      {"SET l.a = :x", "The document path provided in the update expression is invalid for update"},
      {"SET l[7].a = :x",
       "The document path provided in the update expression is invalid for update"},
      {"REMOVE nothing_here.a",
       "The document path provided in the update expression is invalid for update"},
      {"ADD m.nothing_here.a :one",
       "The document path provided in the update expression is invalid for update"},
      // 38 significant digits, range 1E-130 .. 9.99E+125.
      {"SET n = :max + :max",
       "Number overflow. Attempting to store a number with magnitude larger than supported range"},
      // A result needing more than 38 digits is rejected with the overflow message, as
      // DynamoDB does (see number.cc).
      {"ADD n :digits",
       "Number overflow. Attempting to store a number with magnitude larger than supported range"},
  };
  for (const auto& [expression, message] : cases) {
    Result<Item> item = Apply(expression, Old());
    ASSERT_FALSE(item.ok()) << expression;
    EXPECT_EQ(item.status().code(), ErrorCode::kValidation) << expression;
    EXPECT_EQ(item.status().message(), message) << expression;
  }
}

TEST(UpdateTest, UpdatedAttributesAreTheTouchedPaths) {
  auto update = UpdateExpression::Compile("SET m.a = :x, l[1] = :y REMOVE s ADD c :one", {},
                                          Values(), HashRangeSchema());
  ASSERT_TRUE(update.ok());
  Result<Item> new_item = update->Apply(nullptr, Key());
  ASSERT_FALSE(new_item.ok());  // m does not exist without an item

  Item old = Old();
  new_item = update->Apply(&old, Key());
  ASSERT_TRUE(new_item.ok()) << new_item.status().message();
  EXPECT_EQ(update->UpdatedAttributes(*new_item),
            (Item{{"m", M({{"a", S("x")}})}, {"l", L({S("y")})}, {"c", N("1")}}));
  EXPECT_EQ(update->UpdatedAttributes(old),
            (Item{{"m", M({{"a", N("1")}})}, {"l", L({S("b")})}, {"s", S("text")}}));
}

TEST(UpdateTest, ApplyInPlaceMatchesApply) {
  for (const char* text : {"SET n = s, s = n REMOVE l[1], l[3] ADD ns :ns DELETE ss :ss_a",
                           "SET c = if_not_exists(c, :one) ADD ss :ss", "SET a = nothing_here"}) {
    auto update = UpdateExpression::Compile(text, {}, Values(), HashRangeSchema());
    ASSERT_TRUE(update.ok()) << text;
    for (bool exists : {true, false}) {
      const Item before = exists ? Old() : Key();
      Result<Item> copied = update->Apply(exists ? &before : nullptr, Key());
      Item in_place = before;
      Status status = update->ApplyInPlace(in_place, exists);
      EXPECT_EQ(status, copied.status()) << text;
      if (copied.ok()) {
        EXPECT_EQ(in_place, *copied) << text;
      }
    }
  }
}

TEST(UpdateTest, ACompiledUpdateIsReusable) {
  auto update = UpdateExpression::Compile("ADD n :one", {}, Values(), HashRangeSchema());
  ASSERT_TRUE(update.ok());
  Item item = Old();
  for (int i = 0; i < 5; ++i) {
    Result<Item> next = update->Apply(&item, Key());
    ASSERT_TRUE(next.ok());
    item = std::move(*next);
  }
  EXPECT_EQ(item.at("n"), N("15"));
}

TEST(UpdateTest, OnlySetAndAddAddAttributes) {
  const std::pair<std::string, bool> cases[] = {
      {"SET a = :x", true},
      {"ADD n :one", true},
      {"REMOVE a, m.kid", false},
      {"DELETE ss :ss_a", false},
      {"REMOVE a DELETE ss :ss_a", false},
      {"REMOVE a SET b = :x", true},
  };
  for (const auto& [text, adds] : cases) {
    auto update = UpdateExpression::Compile(text, {}, Values(), HashRangeSchema());
    ASSERT_TRUE(update.ok()) << text;
    EXPECT_EQ(update->AddsAttributes(), adds) << text;
  }
  auto legacy_delete = TranslateAttributeUpdates(
      {{"a", LegacyAttributeUpdate::Action::kDelete, std::nullopt}}, HashRangeSchema());
  ASSERT_TRUE(legacy_delete.ok());
  EXPECT_FALSE(legacy_delete->AddsAttributes());
  auto legacy_put = TranslateAttributeUpdates({{"a", LegacyAttributeUpdate::Action::kPut, S("x")}},
                                              HashRangeSchema());
  ASSERT_TRUE(legacy_put.ok());
  EXPECT_TRUE(legacy_put->AddsAttributes());
}

}  // namespace
}  // namespace tidewater
