// Reading import objects (ReadImportObject): DYNAMODB_JSON lines as exports write them and
// as people do, Ion text written by our own Ion writer and by hand, CSV by RFC 4180 with
// typed keys, gzip and zstd objects (compressed here with zlib and libzstd), and what is
// refused: bad records reported with their line while the rest is read, objects that fail
// as a whole, a callback's error ending the read.
#include "tidewater/connectors/table_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "decompress.h"
#include "ion_text.h"
#include "tidewater/core/json_codec.h"

namespace tidewater {
namespace {

using ::testing::HasSubstr;

constexpr char kObjectKey[] = "imports/data/part-0001";

Number Num(const std::string& text) {
  auto number = Number::Parse(text);
  EXPECT_TRUE(number.ok()) << text;
  return number.ok() ? *number : Number();
}
AttributeValue N(const std::string& text) { return AttributeValue::N(Num(text)); }
AttributeValue S(const std::string& text) { return AttributeValue::S(text); }
AttributeValue B(const std::string& bytes) { return AttributeValue::B(bytes); }

// What one read gave: its status, the items with their lines, the bad records.
struct Outcome {
  Status status;
  std::vector<std::pair<uint64_t, Item>> items;
  std::vector<ImportRowError> bad_rows;
};

Outcome Read(std::string_view data, const ImportFormatOptions& options) {
  Outcome outcome;
  outcome.status = ReadImportObject(
      kObjectKey, data, options,
      [&](Item item, uint64_t line) {
        outcome.items.emplace_back(line, std::move(item));
        return Status::Ok();
      },
      [&](const ImportRowError& error) {
        outcome.bad_rows.push_back(error);
        return Status::Ok();
      });
  return outcome;
}

ImportFormatOptions Format(ImportFormat format,
                           ImportCompression compression = ImportCompression::kNone) {
  ImportFormatOptions options;
  options.format = format;
  options.compression = compression;
  return options;
}

ImportFormatOptions Csv(char delimiter = ',', std::vector<std::string> header = {},
                        std::map<std::string, AttributeType> key_types = {}) {
  ImportFormatOptions options = Format(ImportFormat::kCsv);
  options.csv.delimiter = delimiter;
  options.csv.header = std::move(header);
  options.key_types = std::move(key_types);
  return options;
}

void ExpectItems(const Outcome& outcome, const std::vector<std::pair<uint64_t, Item>>& expected) {
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  ASSERT_EQ(outcome.items.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(outcome.items[i].first, expected[i].first) << "item " << i;
    EXPECT_TRUE(outcome.items[i].second == expected[i].second)
        << "item " << i << ":\n  got  " << json::ItemToJson(outcome.items[i].second) << "\n  want "
        << json::ItemToJson(expected[i].second);
  }
}

// The lines of the bad records, each checked to name the object.
std::vector<uint64_t> BadLines(const Outcome& outcome) {
  std::vector<uint64_t> lines;
  for (const ImportRowError& error : outcome.bad_rows) {
    EXPECT_EQ(error.object_key, kObjectKey);
    EXPECT_FALSE(error.message.empty()) << "line " << error.line;
    lines.push_back(error.line);
  }
  return lines;
}

std::string JsonLine(const Item& item) { return R"({"Item":)" + json::ItemToJson(item) + "}"; }

// A full export's Ion line, as TableExportWriter writes it.
std::string IonLine(const Item& item) {
  std::string line = "$ion_1_0 {Item:";
  const Status written = connectors::ion::AppendStruct(item, &line);
  EXPECT_TRUE(written.ok()) << written.ToString();
  return line + "}";
}

std::string GzipCompress(std::string_view text) {
  z_stream stream{};
  EXPECT_EQ(
      deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out(deflateBound(&stream, static_cast<uLong>(text.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// One zstd frame; without its content size in the header when `with_content_size` is
// false, as a streaming compressor writes it.
std::string ZstdCompress(std::string_view text, bool with_content_size = true) {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  EXPECT_FALSE(ZSTD_isError(
      ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, with_content_size ? 1 : 0)));
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const size_t size = ZSTD_compress2(context, out.data(), out.size(), text.data(), text.size());
  ZSTD_freeCCtx(context);
  EXPECT_FALSE(ZSTD_isError(size)) << ZSTD_getErrorName(size);
  out.resize(ZSTD_isError(size) ? 0 : size);
  return out;
}

// A string needing escapes in JSON and Ion: quotes, backslash, C0 controls with and
// without short escapes, NUL, DEL, a C1 control (U+0085), non-ASCII text and an emoji.
std::string TrickyString() {
  return std::string("q\"b\\n\nt\tr\r") + std::string(1, '\0') + "\x01\x1f\x7f" + "\xc2\x85" +
         "'/" + "é日本😀";
}

// Every DynamoDB type, at the top level and nested, with names Ion must quote.
Item EveryTypeItem() {
  const AttributeValue scalars = AttributeValue::L(
      {S(TrickyString()), N("-1E-130"), B(std::string("\0a\0", 3)), AttributeValue::Bool(true),
       AttributeValue::Null(), AttributeValue::SS({TrickyString(), "日本"}),
       AttributeValue::NS({Num("1E+125"), Num("-99999999999999999999999999999999999999")}),
       AttributeValue::BS({std::string("\0", 1), std::string("\xff\xfe", 2)})});
  return {{"pk", S("every-type")},
          {"s", S(TrickyString())},
          {"empty string", S("")},
          {"n", N("-98765432109876543210.123456789012345678")},
          {"b", B(std::string("\0\x01\xff\0", 4))},
          {"empty binary", B("")},
          {"bool", AttributeValue::Bool(false)},
          {"null", AttributeValue::Null()},
          {"ss", AttributeValue::SS({"a", TrickyString(), "日本"})},
          {"ns", AttributeValue::NS({Num("1.5"), Num("-10"), Num("1E+5")})},
          {"bs", AttributeValue::BS({std::string("\0", 1), std::string("\x01\x02\0", 3)})},
          {"l", scalars},
          {"empty list", AttributeValue::L({})},
          {"m", AttributeValue::M(
                    {{"deep", AttributeValue::M({{"deeper", AttributeValue::L({scalars})}})},
                     {"tricky \"name\"\n", scalars},
                     {"empty map", AttributeValue::M({})}})},
          {"$1", S("a symbol ID as a name")},
          {"a'b", S("an apostrophe in a name")},
          {"日本語", S("値")}};
}

// Numbers in every form the Ion writer has: exponents, negatives, 38 digits, the ends of
// DynamoDB's range, zero.
Item NumbersItem() {
  return {{"pk", S("numbers")},
          {"n01", N("1.5")},
          {"n02", N("10")},
          {"n03", N("1E+5")},
          {"n04", N("-10")},
          {"n05", N("12345678901234567890123456789012345678")},
          {"n06", N("-0.000001")},
          {"n07", N("1E-130")},
          {"n08", N("9.9999999999999999999999999999999999999E+125")},
          {"n09", N("0")},
          {"n10", N("1E-7")},
          {"n11", N("1.234E-6")},
          {"n12", N("-1.2e3")}};
}

// The Developer Guide's example item (S3DataImport.Format).
Item BookItem() {
  return {{"Authors", AttributeValue::SS({"Author1", "Author2"})},
          {"Dimensions", S("8.5 x 11.0 x 1.5")},
          {"ISBN", S("333-3333333333")},
          {"Id", N("103")},
          {"InPublication", AttributeValue::Bool(false)},
          {"PageCount", N("600")},
          {"Price", N("2000")},
          {"ProductCategory", S("Book")},
          {"Title", S("Book 103 Title")}};
}

// An item whose attribute "a" nests `levels` levels of M: the attribute is level 1.
Item NestedMapItem(int levels) {
  AttributeValue value = S("leaf");
  for (int i = 1; i < levels; ++i) value = AttributeValue::M({{"a", value}});
  return {{"pk", S("nested")}, {"a", value}};
}

// ---- DYNAMODB_JSON ----

TEST(TableImportTest, DynamoDbJsonReadsEveryAttributeType) {
  const std::string documented =
      R"({"Item":{"Authors":{"SS":["Author1","Author2"]},"Dimensions":{"S":"8.5 x 11.0 x 1.5"},)"
      R"("ISBN":{"S":"333-3333333333"},"Id":{"N":"103"},"InPublication":{"BOOL":false},)"
      R"("PageCount":{"N":"600"},"Price":{"N":"2000"},"ProductCategory":{"S":"Book"},)"
      R"("Title":{"S":"Book 103 Title"}}})";
  const std::string text =
      JsonLine(EveryTypeItem()) + "\n" + JsonLine(NumbersItem()) + "\n" + documented + "\n";
  ExpectItems(Read(text, Format(ImportFormat::kDynamoDbJson)),
              {{1, EveryTypeItem()}, {2, NumbersItem()}, {3, BookItem()}});
}

TEST(TableImportTest, DynamoDbJsonSkipsBlankLinesAndReportsBadLines) {
  const std::string text =
      "{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n"              // 1
      "\n"                                               // 2: blank
      "  \t \n"                                          // 3: blank
      "{\"Item\":{\"pk\":{\"S\":\"b\"}}\n"               // 4: malformed JSON
      "{\"pk\":{\"S\":\"c\"}}\n"                         // 5: no "Item"
      "{\"Item\":{\"pk\":{\"N\":\"abc\"}}}\n"            // 6: not a number
      "{\"Item\":{\"pk\":{\"S\":\"d\"}}}\r\n"            // 7: a CRLF line end
      "[1,2]\n"                                          // 8: not an object
      "{\"Item\":{\"pk\":{\"S\":\"x\",\"N\":\"1\"}}}\n"  // 9: two types
      "{\"Item\":{\"pk\":{\"S\":\"e\"}}}";               // 10: no final newline
  const Outcome outcome = Read(text, Format(ImportFormat::kDynamoDbJson));
  ExpectItems(outcome, {{1, {{"pk", S("a")}}}, {7, {{"pk", S("d")}}}, {10, {{"pk", S("e")}}}});
  EXPECT_EQ(BadLines(outcome), (std::vector<uint64_t>{4, 5, 6, 8, 9}));
  ASSERT_EQ(outcome.bad_rows.size(), 5u);
  EXPECT_THAT(outcome.bad_rows[0].message, HasSubstr("Malformed JSON"));
  EXPECT_THAT(outcome.bad_rows[1].message, HasSubstr("\"Item\""));
  EXPECT_EQ(outcome.bad_rows[2].message,
            "The parameter cannot be converted to a numeric value: abc");
  EXPECT_THAT(outcome.bad_rows[4].message, HasSubstr("more than one datatypes"));
}

TEST(TableImportTest, DynamoDbJsonLimitsNestingItemSizeAndLineLength) {
  // 32 levels are DynamoDB's limit; 33 are one too many.
  const std::string deepest = JsonLine(NestedMapItem(32));
  const std::string too_deep = JsonLine(NestedMapItem(33));
  // Far deeper than any stack: a list of lists 100000 deep, maps 100000 deep.
  std::string deep_lists = R"({"Item":{"pk":{"S":"x"},"l":)";
  std::string deep_maps = R"({"Item":{"pk":{"S":"x"},"m":)";
  for (int i = 0; i < 100000; ++i) {
    deep_lists += R"({"L":[)";
    deep_maps += R"({"M":{"a":)";
  }
  deep_lists += R"({"NULL":true})";
  deep_maps += R"({"NULL":true})";
  for (int i = 0; i < 100000; ++i) {
    deep_lists += "]}";
    deep_maps += "}}";
  }
  deep_lists += "}}";
  deep_maps += "}}";
  // Over 400 KB of item; a binary value of 300 KB whose line is over 400 KB but whose item
  // is not; a line over the 8 MiB any item's line can take.
  const Item too_large = {{"pk", S("big")}, {"s", S(std::string(400 * 1024, 'x'))}};
  const Item large_binary = {{"pk", S("binary")}, {"b", B(std::string(300 * 1024, '\x01'))}};
  const std::string too_long = JsonLine({{"pk", S(std::string(9 << 20, 'y'))}});

  const std::string text = deepest + "\n" + too_deep + "\n" + deep_lists + "\n" + deep_maps + "\n" +
                           JsonLine(too_large) + "\n" + JsonLine(large_binary) + "\n" + too_long +
                           "\n";
  const Outcome outcome = Read(text, Format(ImportFormat::kDynamoDbJson));
  ExpectItems(outcome, {{1, NestedMapItem(32)}, {6, large_binary}});
  EXPECT_EQ(BadLines(outcome), (std::vector<uint64_t>{2, 3, 4, 5, 7}));
  ASSERT_EQ(outcome.bad_rows.size(), 5u);
  EXPECT_THAT(outcome.bad_rows[0].message, HasSubstr("Nesting Levels have exceeded"));
  EXPECT_THAT(outcome.bad_rows[1].message, HasSubstr("Nesting Levels have exceeded"));
  EXPECT_THAT(outcome.bad_rows[2].message, HasSubstr("Nesting Levels have exceeded"));
  EXPECT_EQ(outcome.bad_rows[3].message, "Item size has exceeded the maximum allowed size");
  EXPECT_THAT(outcome.bad_rows[4].message, HasSubstr("bytes long"));
}

// ---- ION ----

TEST(TableImportTest, IonReadsWhatOurExportsWrite) {
  const std::string text =
      IonLine(EveryTypeItem()) + "\n" + IonLine(NumbersItem()) + "\n" + IonLine(BookItem()) + "\n";
  ExpectItems(Read(text, Format(ImportFormat::kIon)),
              {{1, EveryTypeItem()}, {2, NumbersItem()}, {3, BookItem()}});
}

TEST(TableImportTest, IonReadsTheDocumentedExample) {
  // S3DataImport.Format's example, formatted on several lines as the guide shows it.
  const std::string text = R"ION($ion_1_0 {
    Item:{
        Authors:$dynamodb_SS::["Author1","Author2"],
        Dimensions:"8.5 x 11.0 x 1.5",
        ISBN:"333-3333333333",
        Id:103.,
        InPublication:false,
        PageCount:6d2,
        Price:2d3,
        ProductCategory:"Book",
        Title:"Book 103 Title"
    }
}
)ION";
  ExpectItems(Read(text, Format(ImportFormat::kIon)), {{1, BookItem()}});
}

TEST(TableImportTest, IonReadsHandWrittenText) {
  const std::string text = R"ION(// a comment
$ion_1_0
/* a block
   comment */ {Item:{pk:"a", n:103, d:-1.5d-3, 'quoted name':"x",
  "string name":true, bin:{{ AP8= }}, nul:null.null, l:[1., "two", ],
  m:{a:{b:[]},}, s:"\u00e9\U0001F600\uD83D\uDE00\x41\
continued", ss:$dynamodb_SS::[ "b" , "a" ],
  ns:$dynamodb_NS::[1d2, 5.], 'null':null, e:"", bs:'$dynamodb_BS'::[{{AQ==}}],},}
$ion_1_0 {Item:{pk:"b"}} $ion_1_0 {Item:{pk:"c"}}
{Item:{pk:"d"}})ION";
  const std::string emoji = "\xf0\x9f\x98\x80";
  const Item first = {
      {"pk", S("a")},
      {"n", N("103")},
      {"d", N("-0.0015")},
      {"quoted name", S("x")},
      {"string name", AttributeValue::Bool(true)},
      {"bin", B(std::string("\x00\xff", 2))},
      {"nul", AttributeValue::Null()},
      {"l", AttributeValue::L({N("1"), S("two")})},
      {"m", AttributeValue::M({{"a", AttributeValue::M({{"b", AttributeValue::L({})}})}})},
      {"s", S("\xc3\xa9" + emoji + emoji + "Acontinued")},
      {"ss", AttributeValue::SS({"b", "a"})},
      {"ns", AttributeValue::NS({Num("100"), Num("5")})},
      {"null", AttributeValue::Null()},
      {"e", S("")},
      {"bs", AttributeValue::BS({std::string("\x01", 1)})}};
  ExpectItems(Read(text, Format(ImportFormat::kIon)),
              {{4, first}, {9, {{"pk", S("b")}}}, {9, {{"pk", S("c")}}}, {10, {{"pk", S("d")}}}});
}

TEST(TableImportTest, IonReportsBadRecordsAndResumesAtTheNextLine) {
  const std::string text = R"ION($ion_1_0 {Item:{pk:"ok1"}}
$ion_1_0 {Item:{pk:"unterminated}}
$ion_1_0 {Item:{pk:"a", t:2020-01-01T}}
$ion_1_0 {Item:{pk:"a", f:1.5e0}}
$ion_1_0 {Item:{pk:"a", sym:abc}}
$ion_1_0 {Item:{pk:"a", ss:$dynamodb_SS::[]}}
$ion_1_0 {Item:{pk:"a", ss:$dynamodb_SS::["x","x"]}}
$ion_1_0 {Record:{pk:"a"}}
$ion_1_0 {Item:{pk:"a", b:{{not base64!}}}}
$ion_1_0 {Item:{pk:"a", x:'''long'''}}
$ion_1_0 {Item:{pk:"a", c:{{"clob"}}}}
$ion_1_0 {Item:{pk:"a", n:1.5d999}}
$ion_1_0 {Item:{pk:"a", a:foo::[1]}}
$ion_1_0 {Item:{pk:"a", ns:$dynamodb_NS::[1., 1.0]}}
$ion_1_0 {Item:{pk:"a" z:1}}
$ion_1_0 {Item:{pk:"ok2"}}
$ion_1_0 {Item:{pk:"ok3"}} /* never closed
)ION";
  const Outcome outcome = Read(text, Format(ImportFormat::kIon));
  ExpectItems(outcome,
              {{1, {{"pk", S("ok1")}}}, {16, {{"pk", S("ok2")}}}, {17, {{"pk", S("ok3")}}}});
  EXPECT_EQ(BadLines(outcome),
            (std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17}));
  ASSERT_EQ(outcome.bad_rows.size(), 15u);
  EXPECT_THAT(outcome.bad_rows[0].message, HasSubstr("newline inside quotes"));
  EXPECT_THAT(outcome.bad_rows[1].message, HasSubstr("timestamps"));
  EXPECT_THAT(outcome.bad_rows[2].message, HasSubstr("floats"));
  EXPECT_THAT(outcome.bad_rows[3].message, HasSubstr("symbols"));
  EXPECT_EQ(outcome.bad_rows[4].message,
            "One or more parameter values were invalid: An string set  may not be empty");
  EXPECT_EQ(outcome.bad_rows[5].message,
            "One or more parameter values were invalid: Input collection [x, x] contains "
            "duplicates.");
  EXPECT_THAT(outcome.bad_rows[6].message, HasSubstr("Item"));
  EXPECT_THAT(outcome.bad_rows[7].message, HasSubstr("base64"));
  EXPECT_THAT(outcome.bad_rows[8].message, HasSubstr("long strings"));
  EXPECT_THAT(outcome.bad_rows[9].message, HasSubstr("clobs"));
  EXPECT_THAT(outcome.bad_rows[10].message, HasSubstr("Number overflow"));
  EXPECT_THAT(outcome.bad_rows[11].message, HasSubstr("annotation foo"));
  EXPECT_EQ(outcome.bad_rows[12].message, "Input collection contains duplicates");
  EXPECT_THAT(outcome.bad_rows[13].message, HasSubstr("expected ','"));
  EXPECT_THAT(outcome.bad_rows[14].message, HasSubstr("comment is not closed"));
}

TEST(TableImportTest, IonLimitsNestingAndItemSize) {
  const auto nested_lists = [](size_t depth) {
    return "{Item:{pk:\"x\",l:" + std::string(depth, '[') + std::string(depth, ']') + "}}\n";
  };
  const Item too_large = {{"pk", S("big")}, {"s", S(std::string(400 * 1024, 'x'))}};
  const std::string text = nested_lists(32) + nested_lists(33) + nested_lists(200000) +
                           IonLine(too_large) + "\n" + IonLine(NestedMapItem(32)) + "\n" +
                           IonLine(NestedMapItem(33)) + "\n";
  AttributeValue deepest = AttributeValue::L({});
  for (int i = 1; i < 32; ++i) deepest = AttributeValue::L({deepest});
  const Outcome outcome = Read(text, Format(ImportFormat::kIon));
  ExpectItems(outcome, {{1, {{"pk", S("x")}, {"l", deepest}}}, {5, NestedMapItem(32)}});
  EXPECT_EQ(BadLines(outcome), (std::vector<uint64_t>{2, 3, 4, 6}));
  ASSERT_EQ(outcome.bad_rows.size(), 4u);
  EXPECT_THAT(outcome.bad_rows[0].message, HasSubstr("Nesting Levels have exceeded"));
  EXPECT_THAT(outcome.bad_rows[1].message, HasSubstr("Nesting Levels have exceeded"));
  EXPECT_EQ(outcome.bad_rows[2].message, "Item size has exceeded the maximum allowed size");
  EXPECT_THAT(outcome.bad_rows[3].message, HasSubstr("Nesting Levels have exceeded"));
}

// ---- CSV ----

TEST(TableImportTest, CsvTakesTheHeaderFromTheFirstLine) {
  const std::string text =
      "pk,sk,name,price\n"
      "a,1,Widget,9.99\n"
      "b,2.50,\"Gadget, large\",10\n";
  const Outcome outcome =
      Read(text, Csv(',', {}, {{"pk", AttributeType::kS}, {"sk", AttributeType::kN}}));
  ExpectItems(
      outcome,
      {{2, {{"pk", S("a")}, {"sk", N("1")}, {"name", S("Widget")}, {"price", S("9.99")}}},
       {3, {{"pk", S("b")}, {"sk", N("2.5")}, {"name", S("Gadget, large")}, {"price", S("10")}}}});
}

TEST(TableImportTest, CsvWithAHeaderListReadsTheFirstLineAsData) {
  const Outcome outcome = Read("pk,v\na,1\n", Csv(',', {"id", "value"}));
  ExpectItems(outcome, {{1, {{"id", S("pk")}, {"value", S("v")}}},
                        {2, {{"id", S("a")}, {"value", S("1")}}}});
}

TEST(TableImportTest, CsvReadsEachAllowedDelimiter) {
  for (const char delimiter : {',', '\t', ':', ';', '|', ' '}) {
    SCOPED_TRACE(std::string("delimiter '") + delimiter + "'");
    const std::string d(1, delimiter);
    // The second value holds the delimiter, so it is quoted.
    const std::string text = "pk" + d + "v" + d + "w\n" + "a" + d + "\"b" + d + "c\"" + d + "x\n";
    ExpectItems(Read(text, Csv(delimiter)),
                {{2, {{"pk", S("a")}, {"v", S("b" + d + "c")}, {"w", S("x")}}}});
  }
}

TEST(TableImportTest, CsvQuotedFieldsFollowRfc4180) {
  const std::string text =
      "pk,\"text\"\r\n"           // 1: a quoted header
      "1,\"say \"\"hi\"\"\"\r\n"  // 2: doubled quotes
      "2,\"a,b\"\r\n"             // 3: a delimiter inside quotes
      "3,\"line1\r\nline2\"\r\n"  // 4-5: a newline inside quotes
      "4,\"\"\r\n"                // 6: an empty quoted field
      "5,plain\r\n"               // 7
      "6,\"\"\"123\"\"\"\r\n"     // 8: the Developer Guide's escaped quotes
      "7,last";                   // 9: no final line end
  ExpectItems(Read(text, Csv()), {{2, {{"pk", S("1")}, {"text", S("say \"hi\"")}}},
                                  {3, {{"pk", S("2")}, {"text", S("a,b")}}},
                                  {4, {{"pk", S("3")}, {"text", S("line1\r\nline2")}}},
                                  {6, {{"pk", S("4")}}},
                                  {7, {{"pk", S("5")}, {"text", S("plain")}}},
                                  {8, {{"pk", S("6")}, {"text", S("\"123\"")}}},
                                  {9, {{"pk", S("7")}, {"text", S("last")}}}});
}

TEST(TableImportTest, CsvLeavesEmptyFieldsOutAndSkipsBlankLines) {
  const std::string text = "\npk,a,b\n\nk1,,x\r\n\r\nk2,\"\",\n";
  ExpectItems(Read(text, Csv()), {{4, {{"pk", S("k1")}, {"b", S("x")}}}, {6, {{"pk", S("k2")}}}});
}

TEST(TableImportTest, CsvTypesKeyColumnsOnly) {
  const std::string text =
      "pk,sk,n,b\n"
      "10,AQI=,10,AQI=\n"    // 2: N and B keys; the same texts elsewhere are strings
      "abc,AQI=,1,x\n"       // 3: not a number
      "11,not base64,1,x\n"  // 4: not base64
      "1.5e2,,1,x\n"         // 5: an empty key field adds no key
      "99e999,AQI=,1,x\n";   // 6: out of DynamoDB's range
  const Outcome outcome =
      Read(text, Csv(',', {}, {{"pk", AttributeType::kN}, {"sk", AttributeType::kB}}));
  ExpectItems(outcome,
              {{2, {{"pk", N("10")}, {"sk", B("\x01\x02")}, {"n", S("10")}, {"b", S("AQI=")}}},
               {5, {{"pk", N("150")}, {"n", S("1")}, {"b", S("x")}}}});
  EXPECT_EQ(BadLines(outcome), (std::vector<uint64_t>{3, 4, 6}));
  ASSERT_EQ(outcome.bad_rows.size(), 3u);
  EXPECT_THAT(outcome.bad_rows[0].message,
              HasSubstr("The parameter cannot be converted to a numeric value: abc"));
  EXPECT_THAT(outcome.bad_rows[1].message, HasSubstr("base64"));
  EXPECT_THAT(outcome.bad_rows[2].message, HasSubstr("Number overflow"));
}

TEST(TableImportTest, CsvReportsBadRecordsAndReadsTheOthers) {
  const std::string text =
      "pk,v\n"
      "a,b,c\n"             // 2: more fields than the header
      "a\n"                 // 3: fewer
      "a,b\"c\n"            // 4: a quote in an unquoted field
      "\"a\"x,b\n"          // 5: text after a closing quote
      "a,\xff\xfe\n"        // 6: not UTF-8
      "c,d\n"               // 7
      "e,\"never closed\n"  // 8: runs to the end of the object
      "f,g\n";
  const Outcome outcome = Read(text, Csv());
  ExpectItems(outcome, {{7, {{"pk", S("c")}, {"v", S("d")}}}});
  EXPECT_EQ(BadLines(outcome), (std::vector<uint64_t>{2, 3, 4, 5, 6, 8}));
  ASSERT_EQ(outcome.bad_rows.size(), 6u);
  EXPECT_THAT(outcome.bad_rows[0].message, HasSubstr("3 fields and the header 2"));
  EXPECT_THAT(outcome.bad_rows[1].message, HasSubstr("1 fields and the header 2"));
  EXPECT_THAT(outcome.bad_rows[2].message, HasSubstr("double quote"));
  EXPECT_THAT(outcome.bad_rows[3].message, HasSubstr("closing quote"));
  EXPECT_THAT(outcome.bad_rows[4].message, HasSubstr("UTF-8"));
  EXPECT_THAT(outcome.bad_rows[5].message, HasSubstr("not closed"));
}

TEST(TableImportTest, CsvRefusesBadOptionsAndHeaders) {
  const auto expect_failure = [](const Outcome& outcome, const std::string& words) {
    EXPECT_EQ(outcome.status.code(), ErrorCode::kValidation) << outcome.status.ToString();
    EXPECT_THAT(outcome.status.message(), HasSubstr(kObjectKey));
    EXPECT_THAT(outcome.status.message(), HasSubstr(words));
    EXPECT_TRUE(outcome.items.empty());
  };
  expect_failure(Read("pk\na\n", Csv('x')), "delimiter");
  expect_failure(Read("pk,pk\na,b\n", Csv()), "twice");
  expect_failure(Read("pk,,v\na,b,c\n", Csv()), "empty column name");
  expect_failure(Read("pk,\"v\n", Csv()), "header");
  expect_failure(Read("a,b\n", Csv(',', {"pk", "pk"})), "twice");
  expect_failure(Read("a\n", Csv(',', {}, {{"pk", AttributeType::kBool}})), "not S, N or B");
}

// ---- Compression ----

TEST(TableImportTest, GzipObjectsAreDecompressedMemberAfterMember) {
  const std::string first = JsonLine({{"pk", S("a")}}) + "\n" + JsonLine(EveryTypeItem()) + "\n";
  const std::string second = JsonLine({{"pk", S("b")}}) + "\n";
  // Two members one after the other, as `cat a.gz b.gz` writes them.
  const std::string compressed = GzipCompress(first) + GzipCompress(second);
  ExpectItems(Read(compressed, Format(ImportFormat::kDynamoDbJson, ImportCompression::kGzip)),
              {{1, {{"pk", S("a")}}}, {2, EveryTypeItem()}, {3, {{"pk", S("b")}}}});
}

TEST(TableImportTest, ZstdObjectsAreDecompressedFrameAfterFrame) {
  // Much output from little input: the output buffer grows many times.
  std::string many_lines;
  for (int i = 0; i < 20000; ++i) many_lines += JsonLine({{"pk", S("row")}}) + "\n";
  const std::string last = IonLine(EveryTypeItem()) + "\n";
  const std::string unknown_size = ZstdCompress(last, /*with_content_size=*/false);
  ASSERT_EQ(ZSTD_getFrameContentSize(unknown_size.data(), unknown_size.size()),
            ZSTD_CONTENTSIZE_UNKNOWN);
  const std::string compressed =
      ZstdCompress(JsonLine({{"pk", S("first")}}) + "\n") + ZstdCompress(many_lines) + unknown_size;
  Result<std::string> text = Unzstd(compressed);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, JsonLine({{"pk", S("first")}}) + "\n" + many_lines + last);

  const Outcome outcome = Read(ZstdCompress(IonLine(BookItem()) + "\n") + unknown_size,
                               Format(ImportFormat::kIon, ImportCompression::kZstd));
  ExpectItems(outcome, {{1, BookItem()}, {2, EveryTypeItem()}});
}

TEST(TableImportTest, CorruptOrTruncatedCompressedObjectsFail) {
  const std::string text = JsonLine(EveryTypeItem()) + "\n";
  const std::string gzip = GzipCompress(text);
  const std::string zstd = ZstdCompress(text);
  std::string corrupt_gzip = gzip;
  corrupt_gzip[corrupt_gzip.size() / 2] ^= 0x55;  // the CRC-32 catches any change
  std::string corrupt_zstd = zstd;
  corrupt_zstd[0] ^= 0x01;  // no longer the frame's magic number
  const struct {
    const char* name;
    std::string data;
    ImportCompression compression;
  } cases[] = {
      {"corrupt gzip", corrupt_gzip, ImportCompression::kGzip},
      {"truncated gzip", gzip.substr(0, gzip.size() - 6), ImportCompression::kGzip},
      {"gzip with bytes after the member", gzip + "garbage", ImportCompression::kGzip},
      {"text read as gzip", text, ImportCompression::kGzip},
      {"corrupt zstd", corrupt_zstd, ImportCompression::kZstd},
      {"truncated zstd", zstd.substr(0, zstd.size() - 4), ImportCompression::kZstd},
      {"zstd cut in its header", zstd.substr(0, 3), ImportCompression::kZstd},
      {"text read as zstd", text, ImportCompression::kZstd},
  };
  for (const auto& test_case : cases) {
    SCOPED_TRACE(test_case.name);
    const Outcome outcome =
        Read(test_case.data, Format(ImportFormat::kDynamoDbJson, test_case.compression));
    EXPECT_EQ(outcome.status.code(), ErrorCode::kValidation) << outcome.status.ToString();
    EXPECT_THAT(outcome.status.message(), HasSubstr(kObjectKey));
    EXPECT_TRUE(outcome.items.empty());
    EXPECT_TRUE(outcome.bad_rows.empty());
  }
  EXPECT_THAT(Read(gzip.substr(0, gzip.size() - 6),
                   Format(ImportFormat::kDynamoDbJson, ImportCompression::kGzip))
                  .status.message(),
              HasSubstr("truncated"));
  EXPECT_THAT(Read(zstd.substr(0, zstd.size() - 4),
                   Format(ImportFormat::kDynamoDbJson, ImportCompression::kZstd))
                  .status.message(),
              HasSubstr("truncated"));
}

TEST(TableImportTest, CompressedObjectsReadAsUncompressedFail) {
  const std::string text = JsonLine({{"pk", S("a")}}) + "\n";
  const Outcome gzip = Read(GzipCompress(text), Format(ImportFormat::kDynamoDbJson));
  EXPECT_EQ(gzip.status.code(), ErrorCode::kValidation);
  EXPECT_THAT(gzip.status.message(), HasSubstr("InputCompressionType GZIP"));
  const Outcome zstd = Read(ZstdCompress(text), Format(ImportFormat::kCsv));
  EXPECT_EQ(zstd.status.code(), ErrorCode::kValidation);
  EXPECT_THAT(zstd.status.message(), HasSubstr("InputCompressionType ZSTD"));
  const Outcome utf16 = Read(std::string("\xff\xfep\0k\0", 6), Format(ImportFormat::kIon));
  EXPECT_EQ(utf16.status.code(), ErrorCode::kValidation);
  EXPECT_THAT(utf16.status.message(), HasSubstr("not UTF-8"));
}

TEST(TableImportTest, DecompressionStopsAtTheLimit) {
  const std::string text(100000, 'z');
  const std::string gzip = GzipCompress(text);
  const std::string zstd = ZstdCompress(text, /*with_content_size=*/false);
  ASSERT_TRUE(Gunzip(gzip, text.size()).ok());
  ASSERT_TRUE(Unzstd(zstd, text.size()).ok());
  const Result<std::string> gunzipped = Gunzip(gzip, text.size() - 1);
  EXPECT_EQ(gunzipped.status().code(), ErrorCode::kValidation);
  EXPECT_THAT(gunzipped.status().message(), HasSubstr("more than 99999 bytes"));
  const Result<std::string> unzstded = Unzstd(zstd, text.size() - 1);
  EXPECT_EQ(unzstded.status().code(), ErrorCode::kValidation);
  EXPECT_THAT(unzstded.status().message(), HasSubstr("more than 99999 bytes"));
}

TEST(TableImportTest, AnEmptyObjectHoldsNoRecords) {
  for (const ImportCompression compression :
       {ImportCompression::kNone, ImportCompression::kGzip, ImportCompression::kZstd}) {
    for (const ImportFormat format :
         {ImportFormat::kDynamoDbJson, ImportFormat::kIon, ImportFormat::kCsv}) {
      const Outcome outcome = Read("", Format(format, compression));
      EXPECT_TRUE(outcome.status.ok()) << outcome.status.ToString();
      EXPECT_TRUE(outcome.items.empty());
      EXPECT_TRUE(outcome.bad_rows.empty());
    }
  }
  // An empty gzip member, as exports write for an empty partition.
  ExpectItems(Read(GzipCompress(""), Format(ImportFormat::kIon, ImportCompression::kGzip)), {});
}

TEST(TableImportTest, AUtf8ByteOrderMarkIsSkipped) {
  ExpectItems(Read("\xEF\xBB\xBFpk,v\na,b\n", Csv()), {{2, {{"pk", S("a")}, {"v", S("b")}}}});
  ExpectItems(
      Read("\xEF\xBB\xBF" + JsonLine({{"pk", S("a")}}), Format(ImportFormat::kDynamoDbJson)),
      {{1, {{"pk", S("a")}}}});
}

// ---- Callbacks ----

TEST(TableImportTest, AnItemCallbackErrorStopsTheRead) {
  const std::string text = JsonLine({{"pk", S("a")}}) + "\n" + JsonLine({{"pk", S("b")}}) + "\n" +
                           JsonLine({{"pk", S("c")}}) + "\n";
  const Status stop = Status::IOError("the table cannot take more");
  int calls = 0;
  const Status status = ReadImportObject(
      kObjectKey, text, Format(ImportFormat::kDynamoDbJson),
      [&](Item, uint64_t) { return ++calls == 2 ? stop : Status::Ok(); },
      [](const ImportRowError&) { return Status::Ok(); });
  EXPECT_EQ(status, stop);  // as the callback returned it, not wrapped
  EXPECT_EQ(calls, 2);
}

TEST(TableImportTest, ABadRowCallbackErrorStopsTheRead) {
  const std::string text = "a,b\n1,2,3\n4,5,6\n7,8\n";
  const Status stop = Status::Internal("too many errors");
  int items = 0;
  int bad_rows = 0;
  const Status status = ReadImportObject(
      kObjectKey, text, Csv(),
      [&](Item, uint64_t) {
        ++items;
        return Status::Ok();
      },
      [&](const ImportRowError&) {
        ++bad_rows;
        return stop;
      });
  EXPECT_EQ(status, stop);
  EXPECT_EQ(bad_rows, 1);
  EXPECT_EQ(items, 0);
}

}  // namespace
}  // namespace tidewater
