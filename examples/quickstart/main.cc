// Quickstart: open an engine in ./data (or argv[1]), create a table with a stream, write,
// update and delete a few items, then print every change stream record as JSON.
#include <cstdio>
#include <iostream>

#include "tidewater/core/engine.h"
#include "tidewater/core/json_codec.h"
#include "tidewater/core/record_codec.h"

using namespace tidewater;

namespace {

int Fail(const Status& status) {
  std::cerr << "quickstart: " << status.ToString() << "\n";
  return 1;
}

AttributeValue S(std::string s) { return AttributeValue::S(std::move(s)); }
AttributeValue N(const char* n) { return AttributeValue::N(*Number::Parse(n)); }

void PrintRecord(const ChangeRecord& record) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  writer.Key("eventName");
  writer.String(v1::EventName_Name(record.event()).c_str());
  writer.Key("shard");
  writer.Uint(record.shard());
  writer.Key("sequence");
  writer.Uint64(record.sequence());
  const auto image = [&](const char* name, const v1::MapValue& map) {
    auto item = FromProto(map);
    if (!item.ok()) return;
    writer.Key(name);
    json::WriteItem(*item, writer);
  };
  image("Keys", record.keys());
  if (record.has_new_image()) image("NewImage", record.new_image());
  if (record.has_old_image()) image("OldImage", record.old_image());
  writer.EndObject();
  std::cout << buffer.GetString() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  EngineOptions options;
  options.data_dir = argc > 1 ? argv[1] : "./data";
  auto opened = Engine::Open(options);
  if (!opened.ok()) return Fail(opened.status());
  Engine& engine = **opened;

  // Start from a clean table each run.
  (void)engine.DeleteTable("quickstart-music");
  CreateTableRequest request;
  request.name = "quickstart-music";
  request.key_schema.partition_key = {"Artist", AttributeType::kS};
  request.key_schema.sort_key = KeyAttribute{"SongTitle", AttributeType::kS};
  request.stream = {true, StreamViewType::kNewAndOldImages};
  request.shard_count = 2;
  auto created = engine.CreateTable(request);
  if (!created.ok()) return Fail(created.status());

  const Item song{
      {"Artist", S("No One You Know")}, {"SongTitle", S("Call Me Today")}, {"Year", N("2015")}};
  const Item other{{"Artist", S("Acme Band")}, {"SongTitle", S("Happy Day")}, {"Year", N("2019")}};
  for (const Item& item : {song, other}) {
    auto put = engine.PutItem(request.name, item);
    if (!put.ok()) return Fail(put.status());
  }
  const Item key{{"Artist", S("No One You Know")}, {"SongTitle", S("Call Me Today")}};
  auto updated =
      engine.UpdateItem(request.name, key, [](const Item* current) -> Result<std::optional<Item>> {
        Item next = *current;
        next["Plays"] = AttributeValue::N(Number::FromInt64(1));
        return std::make_optional(std::move(next));
      });
  if (!updated.ok()) return Fail(updated.status());
  auto deleted = engine.DeleteItem(request.name, key);
  if (!deleted.ok()) return Fail(deleted.status());

  auto description = engine.DescribeTable(request.name);
  if (!description.ok()) return Fail(description.status());
  for (const auto& shard : description->shards) {
    auto read = engine.ReadShard({TableName(request.name), shard.index, SequenceNumber(1), 1000});
    if (!read.ok()) return Fail(read.status());
    for (const auto& record : read->records) PrintRecord(record);
  }
  return 0;
}
