// Table exports in DynamoDB's layout (S3DataExport.Output) into a local bucket, read back
// as files: DYNAMODB_JSON lines parsed back into the items, ION text against hand-written
// lines, the manifests and their checksums, data file rotation, an empty table, and
// incremental exports under both view types.
#include "tidewater/connectors/table_export.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/temp_dir.h"
#include "tidewater/connectors/object_store.h"
#include "tidewater/core/json_codec.h"

namespace tidewater {
namespace {

namespace fs = std::filesystem;

constexpr char kBucket[] = "exports";
constexpr char kExportId[] = "01604474914028-a1b2c3d4";
// 2020-11-04T07:28:34.028Z, 2020-11-04T07:33:43.897Z (the documented example's times).
constexpr int64_t kStartMicros = 1604474914028123;
constexpr int64_t kEndMicros = 1604475223897456;
// 2023-09-18T17:00:00.000Z, 2023-09-19T04:00:00.000Z.
constexpr int64_t kFromMicros = 1695056400000000;
constexpr int64_t kToMicros = 1695096000000000;

Number Num(const std::string& text) {
  auto number = Number::Parse(text);
  EXPECT_TRUE(number.ok()) << text;
  return number.ok() ? *number : Number();
}
AttributeValue N(const std::string& text) { return AttributeValue::N(Num(text)); }
AttributeValue S(const std::string& text) { return AttributeValue::S(text); }

std::string Gunzip(const std::string& compressed) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  std::array<char, 64 * 1024> buffer{};
  int code = Z_OK;
  do {
    stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
    stream.avail_out = static_cast<uInt>(buffer.size());
    code = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer.data(), buffer.size() - stream.avail_out);
  } while (code == Z_OK);
  EXPECT_EQ(code, Z_STREAM_END) << "not one whole gzip member";
  EXPECT_EQ(stream.avail_in, 0u) << "bytes after the gzip member";
  inflateEnd(&stream);
  return out;
}

std::string Md5Base64(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_md5(), nullptr), 1);
  return json::Base64Encode(std::string_view(reinterpret_cast<const char*>(digest.data()), size));
}

// The lines of a JSON Lines / Ion export text, each of which must end with '\n'.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    const size_t end = text.find('\n', begin);
    if (end == std::string::npos) {
      ADD_FAILURE() << "last line without a newline: " << text.substr(begin);
      lines.push_back(text.substr(begin));
      break;
    }
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

// The item of a full export's DYNAMODB_JSON line.
Item ParseItemLine(const std::string& line) {
  rapidjson::Document document;
  document.Parse(line.data(), line.size());
  EXPECT_FALSE(document.HasParseError()) << line;
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("Item")) {
    ADD_FAILURE() << "not an {\"Item\":...} line: " << line;
    return {};
  }
  EXPECT_EQ(document.MemberCount(), 1u) << line;
  auto item = json::ParseItem(document["Item"]);
  EXPECT_TRUE(item.ok()) << item.status().ToString() << " in " << line;
  return item.ok() ? *item : Item{};
}

void ExpectSameItems(const std::vector<Item>& actual, const std::vector<Item>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_TRUE(actual[i] == expected[i])
        << "item " << i << ":\n  got  " << json::ItemToJson(actual[i]) << "\n  want "
        << json::ItemToJson(expected[i]);
  }
}

// The documented example item (S3DataExport.Output), whose Ion form the documentation
// shows: Id:103., PageCount:6d2, Price:2d3.
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
constexpr char kBookJson[] =
    R"({"Item":{"Authors":{"SS":["Author1","Author2"]},"Dimensions":{"S":"8.5 x 11.0 x 1.5"},)"
    R"("ISBN":{"S":"333-3333333333"},"Id":{"N":"103"},"InPublication":{"BOOL":false},)"
    R"("PageCount":{"N":"600"},"Price":{"N":"2000"},"ProductCategory":{"S":"Book"},)"
    R"("Title":{"S":"Book 103 Title"}}})";
constexpr char kBookIon[] =
    R"($ion_1_0 {Item:{Authors:$dynamodb_SS::["Author1","Author2"],)"
    R"(Dimensions:"8.5 x 11.0 x 1.5",ISBN:"333-3333333333",Id:103.,InPublication:false,)"
    R"(PageCount:6d2,Price:2d3,ProductCategory:"Book",Title:"Book 103 Title"}})";

// Numbers: exponents, negatives, 38 digits, the range's ends, zero.
Item NumbersItem() {
  return {{"n01", N("1.5")},
          {"n02", N("10")},
          {"n03", N("1E+5")},
          {"n04", N("-10")},
          {"n05", N("12345678901234567890123456789012345678")},
          {"n06", N("-0.000001")},
          {"n07", N("1E-130")},
          {"n08", N("9.9999999999999999999999999999999999999E+125")},
          {"n09", N("0")},
          {"n10", N("0.15")},
          {"n11", N("1E-7")},
          {"n12", N("1.234E-6")},
          {"n13", N("-123.45")},
          {"n14", N("1000.5")},
          {"n15", N("-1.2e3")},
          {"pk", S("numbers")}};
}
constexpr char kNumbersIon[] =
    "$ion_1_0 {Item:{n01:1.5,n02:1d1,n03:1d5,n04:-1d1,"
    "n05:12345678901234567890123456789012345678.,n06:-0.000001,n07:1d-130,"
    "n08:99999999999999999999999999999999999999d88,n09:0.,n10:0.15,n11:1d-7,"
    "n12:0.000001234,n13:-123.45,n14:1000.5,n15:-12d2,pk:\"numbers\"}}";

// A string needing JSON and Ion escapes: quote, backslash, C0 controls with and without
// short escapes, NUL, DEL, a C1 control (U+0085), an apostrophe, non-ASCII text.
std::string TrickyString() {
  return std::string("q\"b\\n\nt\tr\r") + std::string(1, '\0') + "\x01" + "\x1f" + "\x7f" +
         "\xc2\x85" + "\x07\x08\x0b\x0c" + "'/" + "é日本😀";
}
constexpr char kTrickyIon[] = R"ION("q\"b\\n\nt\tr\r\0\x01\x1f\x7f\x85\a\b\v\f'/é日本😀")ION";

// Every type, field names that are not Ion identifiers, binary with zero bytes.
Item EscapesItem() {
  return {{"$1", S("x")},
          {"a'b", AttributeValue::Bool(true)},
          {"bin", AttributeValue::B(std::string("\x00\xff", 2))},
          {"bs", AttributeValue::BS({std::string(1, '\0'), "\x01\x02"})},
          {"empty", AttributeValue::B("")},
          {"list",
           AttributeValue::L({S("x"), N("1"), AttributeValue::Null(), AttributeValue::Bool(false),
                              AttributeValue::L({}), AttributeValue::M({})})},
          {"map",
           AttributeValue::M({{"k", N("-2.5")}, {"nested", AttributeValue::M({{"z", S("z")}})}})},
          {"ns", AttributeValue::NS({Num("1"), Num("2.5")})},
          {"null", AttributeValue::Null()},
          {"pk", S("escapes")},
          {"s", S(TrickyString())},
          {"ss", AttributeValue::SS({"b", "a"})},
          {"with space", S("y")},
          {"é", S("é")}};
}
std::string EscapesIon() {
  return std::string(R"ION($ion_1_0 {Item:{'$1':"x",'a\'b':true,bin:{{AP8=}},)ION") +
         R"ION(bs:$dynamodb_BS::[{{AA==}},{{AQI=}}],empty:{{}},)ION" +
         R"ION(list:["x",1.,null,false,[],{}],map:{k:-2.5,nested:{z:"z"}},)ION" +
         R"ION(ns:$dynamodb_NS::[1.,2.5],'null':null,pk:"escapes",s:)ION" + kTrickyIon +
         R"ION(,ss:$dynamodb_SS::["b","a"],'with space':"y",'é':"é"}})ION";
}

// Everything at once, nested.
Item AllTypesItem() {
  const AttributeValue all_scalars = AttributeValue::L(
      {S(TrickyString()), N("-1E-130"), AttributeValue::B(std::string("\0a\0", 3)),
       AttributeValue::Bool(true), AttributeValue::Null(),
       AttributeValue::SS({TrickyString(), "日本"}),
       AttributeValue::NS({Num("1E+125"), Num("-99999999999999999999999999999999999999")}),
       AttributeValue::BS({std::string("\0", 1), std::string("\xff\xfe", 2)})});
  return {{"pk", S("all-types")},
          {"s", S(TrickyString())},
          {"n", N("-98765432109876543210.123456789012345678")},
          {"b", AttributeValue::B(std::string("\0\x01\xff\0", 4))},
          {"ss", AttributeValue::SS({"a", TrickyString(), "日本"})},
          {"ns", AttributeValue::NS({Num("1.5"), Num("-10"), Num("1E+5")})},
          {"bs", AttributeValue::BS({std::string("\0", 1), std::string("\x01\x02\0", 3)})},
          {"l", all_scalars},
          {"m", AttributeValue::M(
                    {{"deep", AttributeValue::M({{"deeper", AttributeValue::L({all_scalars})}})},
                     {"tricky \"name\"\n", all_scalars}})},
          {"bool", AttributeValue::Bool(false)},
          {"null", AttributeValue::Null()},
          {"empty string", S("")},
          {"日本語", S("値")}};
}

// One data file as the files manifest lists it, with its uncompressed text.
struct DataFile {
  std::string key;
  uint64_t item_count = 0;
  std::string text;
};

class TableExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(BucketDir());
    ObjectStoreOptions options;
    options.local_buckets[kBucket] = BucketDir();
    auto store = MakeObjectStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = *store;
  }

  std::string BucketDir() const { return dir_.Sub("bucket"); }

  TableExportOptions Options(ExportFormat format, ExportType type = ExportType::kFullExport) {
    TableExportOptions options;
    options.export_arn =
        std::string("arn:aws:dynamodb:us-east-1:000000000000:table/Books/export/") + kExportId;
    options.export_id = kExportId;
    options.table_arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Books";
    options.table_id = "12345a12-abcd-123a-ab12-1234abc12345";
    options.bucket = kBucket;
    options.prefix = "2020-Nov";
    options.format = format;
    options.type = type;
    options.start_time_micros = kStartMicros;
    options.export_time_micros = kStartMicros;
    options.export_from_micros = kFromMicros;
    options.export_to_micros = kToMicros;
    return options;
  }

  std::unique_ptr<TableExportWriter> StartExport(const TableExportOptions& options) {
    auto writer = TableExportWriter::Start(store_, options);
    if (!writer.ok()) {
      ADD_FAILURE() << writer.status().ToString();
      return nullptr;
    }
    return std::move(*writer);
  }

  // The object's bytes, read as a file of the local bucket.
  std::string ReadObject(const std::string& key) {
    const fs::path path = fs::path(BucketDir()) / key;
    EXPECT_TRUE(fs::is_regular_file(path)) << "no object " << key;
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  // Checks the export's objects against the summary Finish gave and returns its data files
  // in the files manifest's order.
  void ReadExport(const TableExportOptions& options, const TableExportSummary& summary,
                  std::vector<DataFile>* files) {
    const bool incremental = options.type == ExportType::kIncrementalExport;
    const std::string root = options.prefix.empty() ? "" : options.prefix + "/";
    const std::string dir = root + "AWSDynamoDB/" + options.export_id + "/";
    // Full exports keep their data under the export's folder; incremental ones in the
    // shared AWSDynamoDB/data/ folder.
    const std::string data_dir = incremental ? root + "AWSDynamoDB/data/" : dir + "data/";
    const std::string extension = options.format == ExportFormat::kIon ? ".ion.gz" : ".json.gz";

    EXPECT_EQ(ReadObject(dir + "_started"), "");
    EXPECT_EQ(summary.manifest_files_key, dir + "manifest-summary.json");
    EXPECT_EQ(summary.end_time_micros, kEndMicros);

    // The checksum objects: base64 MD5 of the manifests, 24 characters.
    const std::string summary_text = ReadObject(dir + "manifest-summary.json");
    const std::string files_text = ReadObject(dir + "manifest-files.json");
    EXPECT_EQ(ReadObject(dir + "manifest-summary.md5"), Md5Base64(summary_text));
    EXPECT_EQ(ReadObject(dir + "manifest-files.md5"), Md5Base64(files_text));
    EXPECT_EQ(Md5Base64(summary_text).size(), 24u);

    rapidjson::Document manifest;
    manifest.Parse(summary_text.data(), summary_text.size());
    ASSERT_FALSE(manifest.HasParseError()) << summary_text;
    ASSERT_TRUE(manifest.IsObject()) << summary_text;
    const auto text = [&](const char* name) -> std::string {
      if (!manifest.HasMember(name) || !manifest[name].IsString()) {
        ADD_FAILURE() << "no string " << name << " in " << summary_text;
        return "";
      }
      return manifest[name].GetString();
    };
    EXPECT_EQ(text("version"), incremental ? "2023-08-01" : "2020-06-30");
    EXPECT_EQ(text("exportArn"), options.export_arn);
    EXPECT_EQ(text("startTime"), "2020-11-04T07:28:34.028Z");
    EXPECT_EQ(text("endTime"), "2020-11-04T07:33:43.897Z");
    EXPECT_EQ(text("tableArn"), options.table_arn);
    EXPECT_EQ(text("tableId"), options.table_id);
    if (incremental) {
      EXPECT_EQ(text("exportFromTime"), "2023-09-18T17:00:00.000Z");
      EXPECT_EQ(text("exportToTime"), "2023-09-19T04:00:00.000Z");
      EXPECT_EQ(text("outputView"), options.view_type == ExportViewType::kNewImage
                                        ? "NEW_IMAGE"
                                        : "NEW_AND_OLD_IMAGES");
      EXPECT_FALSE(manifest.HasMember("exportTime"));
      EXPECT_EQ(text("exportType"), "INCREMENTAL_EXPORT");
    } else {
      EXPECT_EQ(text("exportTime"), "2020-11-04T07:28:34.028Z");
      EXPECT_FALSE(manifest.HasMember("exportFromTime"));
      EXPECT_FALSE(manifest.HasMember("outputView"));
      EXPECT_EQ(text("exportType"), "FULL_EXPORT");
    }
    EXPECT_EQ(text("s3Bucket"), options.bucket);
    if (options.prefix.empty()) {
      EXPECT_TRUE(manifest.HasMember("s3Prefix") && manifest["s3Prefix"].IsNull());
    } else {
      EXPECT_EQ(text("s3Prefix"), options.prefix);
    }
    EXPECT_EQ(text("s3SseAlgorithm"), "AES256");
    EXPECT_TRUE(manifest.HasMember("s3SseKmsKeyId") && manifest["s3SseKmsKeyId"].IsNull());
    EXPECT_EQ(text("manifestFilesS3Key"), dir + "manifest-files.json");
    EXPECT_EQ(text("outputFormat"), options.format == ExportFormat::kIon ? "ION" : "DYNAMODB_JSON");
    ASSERT_TRUE(manifest.HasMember("itemCount") && manifest["itemCount"].IsUint64());
    ASSERT_TRUE(manifest.HasMember("billedSizeBytes") && manifest["billedSizeBytes"].IsUint64());
    EXPECT_EQ(manifest["itemCount"].GetUint64(), summary.item_count);
    EXPECT_EQ(manifest["billedSizeBytes"].GetUint64(), summary.billed_size_bytes);

    // The files manifest: one JSON line per data file.
    auto listed = store_->ListObjects(options.bucket, data_dir);
    ASSERT_TRUE(listed.ok()) << listed.status().ToString();
    uint64_t items = 0;
    uint64_t bytes = 0;
    for (const std::string& line : Lines(files_text)) {
      rapidjson::Document entry;
      entry.Parse(line.data(), line.size());
      ASSERT_FALSE(entry.HasParseError()) << line;
      ASSERT_TRUE(entry.IsObject()) << line;
      EXPECT_EQ(entry.MemberCount(), 4u) << line;
      ASSERT_TRUE(entry.HasMember("itemCount") && entry["itemCount"].IsUint64()) << line;
      ASSERT_TRUE(entry.HasMember("md5Checksum") && entry["md5Checksum"].IsString()) << line;
      ASSERT_TRUE(entry.HasMember("etag") && entry["etag"].IsString()) << line;
      ASSERT_TRUE(entry.HasMember("dataFileS3Key") && entry["dataFileS3Key"].IsString()) << line;
      DataFile file;
      file.key = entry["dataFileS3Key"].GetString();
      file.item_count = entry["itemCount"].GetUint64();

      // <data dir>/<26 characters of [a-z2-7]><extension>
      ASSERT_TRUE(file.key.starts_with(data_dir)) << file.key;
      const std::string name = file.key.substr(data_dir.size());
      ASSERT_EQ(name.size(), 26 + extension.size()) << file.key;
      EXPECT_EQ(name.substr(26), extension);
      for (char c : name.substr(0, 26)) {
        EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << file.key;
      }

      const std::string compressed = ReadObject(file.key);
      EXPECT_EQ(entry["md5Checksum"].GetString(), Md5Base64(compressed)) << file.key;
      bool found = false;
      for (const ObjectInfo& object : *listed) {
        if (object.key != file.key) continue;
        found = true;
        EXPECT_EQ(entry["etag"].GetString(), object.etag) << file.key;
        EXPECT_EQ(object.size, compressed.size()) << file.key;
      }
      EXPECT_TRUE(found) << file.key << " is not listed";
      EXPECT_FALSE(std::string(entry["etag"].GetString()).empty());

      file.text = Gunzip(compressed);
      EXPECT_EQ(Lines(file.text).size(), file.item_count) << file.key;
      items += file.item_count;
      bytes += file.text.size();
      files->push_back(std::move(file));
    }
    EXPECT_FALSE(files->empty()) << "no data file";
    EXPECT_EQ(items, summary.item_count);
    EXPECT_EQ(bytes, summary.billed_size_bytes);
  }

  // Writes `items` as a full export and returns its data files.
  std::vector<DataFile> ExportItems(const TableExportOptions& options,
                                    const std::vector<Item>& items) {
    std::vector<DataFile> files;
    auto writer = StartExport(options);
    if (writer == nullptr) return files;
    for (const Item& item : items) EXPECT_TRUE(writer->AddItem(item).ok());
    auto summary = writer->Finish(kEndMicros);
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    if (!summary.ok()) return files;
    EXPECT_EQ(summary->item_count, items.size());
    ReadExport(options, *summary, &files);
    return files;
  }

  ::tidewater::testing::TempDir dir_;
  std::shared_ptr<ObjectStore> store_;
};

TEST_F(TableExportTest, DynamoDbJsonRoundTripsEveryType) {
  const std::vector<Item> items = {BookItem(), NumbersItem(), EscapesItem(), AllTypesItem()};
  const auto options = Options(ExportFormat::kDynamoDbJson);
  const std::vector<DataFile> files = ExportItems(options, items);
  ASSERT_EQ(files.size(), 1u);
  const std::vector<std::string> lines = Lines(files[0].text);
  ASSERT_EQ(lines.size(), items.size());
  // The documented example, byte for byte.
  EXPECT_EQ(lines[0], kBookJson);
  std::vector<Item> parsed;
  for (const std::string& line : lines) parsed.push_back(ParseItemLine(line));
  ExpectSameItems(parsed, items);
}

TEST_F(TableExportTest, IonLinesAreDynamoDbsIonText) {
  const std::vector<Item> items = {BookItem(), NumbersItem(), EscapesItem(), AllTypesItem()};
  auto options = Options(ExportFormat::kIon);
  const std::vector<DataFile> files = ExportItems(options, items);
  ASSERT_EQ(files.size(), 1u);
  const std::vector<std::string> lines = Lines(files[0].text);
  ASSERT_EQ(lines.size(), items.size());
  EXPECT_EQ(lines[0], kBookIon);
  EXPECT_EQ(lines[1], kNumbersIon);
  EXPECT_EQ(lines[2], EscapesIon());
  // Each line: the version marker, then one struct with the item.
  EXPECT_TRUE(lines[3].starts_with("$ion_1_0 {Item:{")) << lines[3];
  EXPECT_TRUE(lines[3].ends_with("}}")) << lines[3];
  // A field name with quotes and a newline: a quoted symbol, where '"' needs no escape.
  EXPECT_NE(lines[3].find(R"(,m:{deep:{deeper:[[)"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find(R"(,'tricky "name"\n':[)"), std::string::npos) << lines[3];
}

// The Ion text loaded by Amazon's Ion library, when /usr/bin/python3 has it.
TEST_F(TableExportTest, IonLoadsWithAmazonIonWhenInstalled) {
  if (std::system("/usr/bin/python3 -c 'import amazon.ion.simpleion' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "amazon.ion is not importable by /usr/bin/python3";
  }
  const std::vector<Item> items = {BookItem(), NumbersItem(), EscapesItem(), AllTypesItem()};
  const std::vector<DataFile> files = ExportItems(Options(ExportFormat::kIon), items);
  ASSERT_EQ(files.size(), 1u);
  const std::string path = dir_.Sub("items.ion");
  std::ofstream(path, std::ios::binary) << files[0].text;
  const std::string script = dir_.Sub("load.py");
  std::ofstream(script) << R"PY(import sys
from decimal import Decimal
from amazon.ion import simpleion
items = [simpleion.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
book, numbers, escapes = items[0]["Item"], items[1]["Item"], items[2]["Item"]
assert book["PageCount"] == Decimal(600) and book["Id"] == Decimal(103), book
assert book["Authors"].ion_annotations[0].text == "$dynamodb_SS"
assert numbers["n08"] == Decimal("9.9999999999999999999999999999999999999E+125")
assert numbers["n07"] == Decimal("1E-130") and numbers["n12"] == Decimal("1.234E-6")
assert escapes["bin"] == b"\x00\xff" and escapes["$1"] == "x"
assert escapes["s"] == "q\"b\\n\nt\tr\r\x00\x01\x1f\x7f\x85\x07\x08\x0b\x0c'/\u00e9\u65e5\u672c\U0001F600"
print(len(items))
)PY";
  FILE* pipe = popen(("/usr/bin/python3 " + script + " " + path + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> chunk{};
  size_t got = 0;
  while ((got = fread(chunk.data(), 1, chunk.size(), pipe)) > 0) output.append(chunk.data(), got);
  EXPECT_EQ(pclose(pipe), 0) << output;
  EXPECT_EQ(output, std::to_string(items.size()) + "\n");
}

TEST_F(TableExportTest, DataFilesRotateBySize) {
  std::vector<Item> items;
  for (int i = 0; i < 40; ++i) {
    items.push_back({{"pk", S("item-" + std::to_string(i))}, {"n", N(std::to_string(i))}});
  }
  auto options = Options(ExportFormat::kDynamoDbJson);
  options.data_file_bytes = 200;
  const std::vector<DataFile> files = ExportItems(options, items);
  ASSERT_GT(files.size(), 3u);
  std::vector<Item> parsed;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::vector<std::string> lines = Lines(files[i].text);
    ASSERT_FALSE(lines.empty()) << "an empty data file in a non-empty export";
    // Closed once it reached the size, not before.
    const size_t before_last = files[i].text.size() - lines.back().size() - 1;
    EXPECT_LT(before_last, options.data_file_bytes) << files[i].key;
    if (i + 1 < files.size()) {
      EXPECT_GE(files[i].text.size(), options.data_file_bytes);
    }
    for (const std::string& line : lines) parsed.push_back(ParseItemLine(line));
  }
  ExpectSameItems(parsed, items);
}

// DynamoDB writes an empty data file for an empty partition: an empty table's export has
// one data file holding nothing, listed with itemCount 0.
TEST_F(TableExportTest, EmptyTableHasOneEmptyDataFile) {
  for (ExportFormat format : {ExportFormat::kDynamoDbJson, ExportFormat::kIon}) {
    auto options = Options(format);
    options.prefix = "";
    options.export_id = format == ExportFormat::kIon ? "01604474914028-ion00000" : kExportId;
    const std::vector<DataFile> files = ExportItems(options, {});
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].item_count, 0u);
    EXPECT_EQ(files[0].text, "");
    EXPECT_TRUE(files[0].key.starts_with("AWSDynamoDB/" + options.export_id + "/data/"));
  }
}

struct IncrementalCase {
  ExportViewType view;
  ExportFormat format;
  std::vector<std::string> lines;
};

std::vector<ExportedChange> Changes() {
  const auto image = [](const std::string& pk, const std::string& v) {
    return Item{{"pk", S(pk)}, {"v", N(v)}};
  };
  std::vector<ExportedChange> changes(4);
  changes[0].keys = {{"pk", S("new")}};  // inserted in the window
  changes[0].new_image = image("new", "1");
  changes[0].write_time_micros = kFromMicros + 1;
  changes[1].keys = {{"pk", S("mod")}};  // modified
  changes[1].old_image = image("mod", "1");
  changes[1].new_image = image("mod", "2");
  changes[1].write_time_micros = kFromMicros + 2;
  changes[2].keys = {{"pk", S("del")}};  // deleted
  changes[2].old_image = image("del", "3");
  changes[2].write_time_micros = kFromMicros + 3;
  changes[3].keys = {{"pk", S("tmp")}};  // inserted and deleted: not exported
  changes[3].write_time_micros = kFromMicros + 4;
  return changes;
}

TEST_F(TableExportTest, IncrementalExportsFollowTheViewType) {
  const std::string meta = R"({"Metadata":{"WriteTimestampMicros":{"N":"169505640000000)";
  const std::vector<IncrementalCase> cases = {
      {ExportViewType::kNewAndOldImages,
       ExportFormat::kDynamoDbJson,
       {meta + R"(1"}},"Keys":{"pk":{"S":"new"}},"NewImage":{"pk":{"S":"new"},"v":{"N":"1"}}})",
        meta + R"(2"}},"Keys":{"pk":{"S":"mod"}},"NewImage":{"pk":{"S":"mod"},"v":{"N":"2"}},)"
               R"("OldImage":{"pk":{"S":"mod"},"v":{"N":"1"}}})",
        meta + R"(3"}},"Keys":{"pk":{"S":"del"}},"OldImage":{"pk":{"S":"del"},"v":{"N":"3"}}})"}},
      {ExportViewType::kNewImage,
       ExportFormat::kDynamoDbJson,
       {meta + R"(1"}},"Keys":{"pk":{"S":"new"}},"NewImage":{"pk":{"S":"new"},"v":{"N":"1"}}})",
        meta + R"(2"}},"Keys":{"pk":{"S":"mod"}},"NewImage":{"pk":{"S":"mod"},"v":{"N":"2"}}})",
        meta + R"(3"}},"Keys":{"pk":{"S":"del"}}})"}},
      {ExportViewType::kNewAndOldImages,
       ExportFormat::kIon,
       {R"($ion_1_0 {Record:{Metadata:{WriteTimestampMicros:1695056400000001.},)"
        R"(Keys:{pk:"new"},NewImage:{pk:"new",v:1.}}})",
        R"($ion_1_0 {Record:{Metadata:{WriteTimestampMicros:1695056400000002.},)"
        R"(Keys:{pk:"mod"},NewImage:{pk:"mod",v:2.},OldImage:{pk:"mod",v:1.}}})",
        R"($ion_1_0 {Record:{Metadata:{WriteTimestampMicros:1695056400000003.},)"
        R"(Keys:{pk:"del"},OldImage:{pk:"del",v:3.}}})"}},
      {ExportViewType::kNewImage,
       ExportFormat::kIon,
       {R"($ion_1_0 {Record:{Metadata:{WriteTimestampMicros:1695056400000001.},)"
        R"(Keys:{pk:"new"},NewImage:{pk:"new",v:1.}}})",
        R"($ion_1_0 {Record:{Metadata:{WriteTimestampMicros:1695056400000002.},)"
        R"(Keys:{pk:"mod"},NewImage:{pk:"mod",v:2.}}})",
        R"($ion_1_0 {Record:{Metadata:{WriteTimestampMicros:1695056400000003.},)"
        R"(Keys:{pk:"del"}}})"}},
  };
  int n = 0;
  for (const IncrementalCase& c : cases) {
    SCOPED_TRACE("case " + std::to_string(n));
    auto options = Options(c.format, ExportType::kIncrementalExport);
    options.view_type = c.view;
    options.export_id = "01695096000000-0000000" + std::to_string(n++);
    auto writer = StartExport(options);
    ASSERT_NE(writer, nullptr);
    for (const ExportedChange& change : Changes()) ASSERT_TRUE(writer->AddChange(change).ok());
    auto summary = writer->Finish(kEndMicros);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    EXPECT_EQ(summary->item_count, 3u);
    std::vector<DataFile> files;
    ASSERT_NO_FATAL_FAILURE(ReadExport(options, *summary, &files));
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(Lines(files[0].text), c.lines);
  }
}

TEST_F(TableExportTest, Errors) {
  // A bucket that does not exist: DynamoDB's ResourceNotFound, and nothing written.
  auto options = Options(ExportFormat::kDynamoDbJson);
  options.bucket = "no-such-bucket";
  auto missing = TableExportWriter::Start(store_, options);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceNotFound);

  // Items into an incremental export, changes into a full one, anything after Finish.
  auto full = StartExport(Options(ExportFormat::kDynamoDbJson));
  ASSERT_NE(full, nullptr);
  EXPECT_FALSE(full->AddChange(Changes()[0]).ok());
  ASSERT_TRUE(full->AddItem(BookItem()).ok());
  ASSERT_TRUE(full->Finish(kEndMicros).ok());
  EXPECT_FALSE(full->AddItem(BookItem()).ok());
  EXPECT_FALSE(full->Finish(kEndMicros).ok());

  auto incremental_options = Options(ExportFormat::kIon, ExportType::kIncrementalExport);
  incremental_options.export_id = "01695096000000-00000009";
  auto incremental = StartExport(incremental_options);
  ASSERT_NE(incremental, nullptr);
  EXPECT_FALSE(incremental->AddItem(BookItem()).ok());

  // Text that is not UTF-8 cannot be written as an Ion string.
  auto ion = StartExport(Options(ExportFormat::kIon));
  ASSERT_NE(ion, nullptr);
  EXPECT_EQ(ion->AddItem({{"pk", S("bad \xff")}}).code(), ErrorCode::kValidation);
}

}  // namespace
}  // namespace tidewater
