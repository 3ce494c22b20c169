#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "client_pool.h"
#include "tidewater/streams/remote_source.h"
#include "tidewater/streams/stream_record_json.h"

namespace tidewater::streams {
namespace {

constexpr std::string_view kStreams = "DynamoDBStreams_20120810.";
constexpr std::chrono::milliseconds kIdlePoll{20};
constexpr size_t kMaxGetRecordsLimit = 1000;

std::string Target(std::string_view operation) {
  return std::string(kStreams) + std::string(operation);
}

std::string_view StringOf(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// tidewaterd's shard ids end in the shard index as 8 hex digits.
Result<ShardIndex> ShardIndexOf(std::string_view shard_id) {
  const size_t dash = shard_id.rfind('-');
  const std::string_view hex = dash == std::string_view::npos ? "" : shard_id.substr(dash + 1);
  uint64_t index = 0;
  if (hex.empty() || hex.size() > 8)
    return Status::Internal("unexpected shard id " + std::string(shard_id));
  for (char c : hex) {
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return Status::Internal("unexpected shard id " + std::string(shard_id));
    index = index * 16 + static_cast<uint64_t>(digit);
  }
  return ShardIndex(static_cast<uint32_t>(index));
}

Result<SequenceNumber> SequenceOf(std::string_view text) {
  uint64_t value = 0;
  if (text.empty()) return Status::Internal("missing sequence number");
  for (char c : text) {
    if (c < '0' || c > '9' || value > (UINT64_MAX - 9) / 10) {
      return Status::Internal("unexpected sequence number " + std::string(text));
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return SequenceNumber(value);
}

class Body {
 public:
  Body() : writer_(buffer_) { writer_.StartObject(); }
  Body& Add(const char* key, std::string_view value) {
    writer_.Key(key);
    writer_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    return *this;
  }
  Body& Add(const char* key, uint64_t value) {
    writer_.Key(key);
    writer_.Uint64(value);
    return *this;
  }
  Body& Add(const char* key, double value) {
    writer_.Key(key);
    writer_.Double(value);
    return *this;
  }
  std::string Text() {
    writer_.EndObject();
    return std::string(buffer_.GetString(), buffer_.GetSize());
  }

 private:
  rapidjson::StringBuffer buffer_;
  json::Writer writer_;
};

class RemoteStreamsSource final : public ChangeSource {
 public:
  RemoteStreamsSource(std::unique_ptr<ClientPool> pool, TableName table)
      : pool_(std::move(pool)), table_(std::move(table)) {}

  Result<std::vector<SourceShard>> ListShards() override {
    auto shards = DescribeShards(/*refresh_arn=*/false);
    // The stream may have been re-enabled under a new label (a new ARN).
    if (!shards.ok() && shards.status().code() == ErrorCode::kResourceNotFound) {
      shards = DescribeShards(/*refresh_arn=*/true);
    }
    return shards;
  }

  Result<ChangeBatch> Read(ShardIndex shard, SequenceNumber from_sequence, size_t max_records,
                           std::chrono::milliseconds wait) override {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    const size_t limit = std::clamp<size_t>(max_records, 1, kMaxGetRecordsLimit);
    while (true) {
      TW_ASSIGN_OR_RETURN(std::string iterator, TakeIterator(shard, from_sequence));
      auto page = GetRecords(iterator, limit);
      if (!page.ok() && page.status().code() == ErrorCode::kExpiredIterator) {
        TW_ASSIGN_OR_RETURN(iterator, NewIterator(shard, from_sequence));
        page = GetRecords(iterator, limit);
      }
      if (!page.ok()) return page.status();
      ChangeBatch batch;
      batch.next_sequence = from_sequence;
      if ((*page).HasMember("Records") && (*page)["Records"].IsArray()) {
        for (const auto& json : (*page)["Records"].GetArray()) {
          TW_ASSIGN_OR_RETURN(ChangeRecord record, ParseStreamRecord(json, table_.value(), shard));
          batch.next_sequence = SequenceNumber(record.sequence()).Next();
          batch.records.push_back(std::move(record));
        }
      }
      if ((*page).HasMember(kResolvedTimeMember) && (*page)[kResolvedTimeMember].IsInt64()) {
        batch.resolved_micros = (*page)[kResolvedTimeMember].GetInt64();
      }
      const std::string_view next = StringOf(*page, "NextShardIterator");
      if (next.empty()) {
        // The stream was disabled. When the table has a newer stream (enabled again, or
        // the table created again), reading goes on there: its sequences continue.
        TW_ASSIGN_OR_RETURN(bool moved, MoveToNewerStream());
        batch.end_of_shard = !moved;
      } else {
        std::lock_guard lock(mu_);
        cursors_[shard] = Cursor{batch.next_sequence, std::string(next)};
      }
      const auto now = std::chrono::steady_clock::now();
      if (!batch.records.empty() || batch.end_of_shard || now >= deadline) return batch;
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(kIdlePoll, deadline - now));
    }
  }

 private:
  // A NextShardIterator and the sequence it starts at.
  struct Cursor {
    SequenceNumber next_sequence;
    std::string iterator;
  };

  Result<std::string> StreamArn(bool refresh) {
    {
      std::lock_guard lock(mu_);
      if (!refresh && !stream_arn_.empty()) return stream_arn_;
    }
    TW_ASSIGN_OR_RETURN(
        rapidjson::Document listed,
        pool_->Call(Target("ListStreams"), Body().Add("TableName", table_.value()).Text()));
    if (!listed.HasMember("Streams") || !listed["Streams"].IsArray() || listed["Streams"].Empty()) {
      return Status::NotFound("Table " + table_.value() + " has no stream");
    }
    // The newest stream: labels are creation times, in text order.
    std::string_view arn_text;
    std::string_view newest_label;
    for (const auto& stream : listed["Streams"].GetArray()) {
      const std::string_view label = StringOf(stream, "StreamLabel");
      if (arn_text.empty() || label > newest_label) {
        arn_text = StringOf(stream, "StreamArn");
        newest_label = label;
      }
    }
    std::string arn(arn_text);
    std::lock_guard lock(mu_);
    stream_arn_ = arn;
    return arn;
  }

  Result<std::vector<SourceShard>> DescribeShards(bool refresh_arn) {
    TW_ASSIGN_OR_RETURN(std::string arn, StreamArn(refresh_arn));
    std::vector<SourceShard> shards;
    std::map<ShardIndex, std::string> ids;
    std::string start;
    do {
      Body body;
      body.Add("StreamArn", arn);
      if (!start.empty()) body.Add("ExclusiveStartShardId", start);
      TW_ASSIGN_OR_RETURN(rapidjson::Document described,
                          pool_->Call(Target("DescribeStream"), body.Text(), Headers()));
      const auto& description = described["StreamDescription"];
      if (!description.IsObject() || !description.HasMember("Shards") ||
          !description["Shards"].IsArray()) {
        return Status::Internal("DescribeStream answered no Shards");
      }
      for (const auto& json : description["Shards"].GetArray()) {
        const std::string_view id = StringOf(json, "ShardId");
        TW_ASSIGN_OR_RETURN(ShardIndex index, ShardIndexOf(id));
        SourceShard shard{.index = index};
        if (const std::string_view parent = StringOf(json, "ParentShardId"); !parent.empty()) {
          TW_ASSIGN_OR_RETURN(shard.parent, ShardIndexOf(parent));
        }
        const auto& range = json["SequenceNumberRange"];
        const std::string_view ending = StringOf(range, "EndingSequenceNumber");
        shard.closed = !ending.empty();
        if (json.HasMember("tidewater") && json["tidewater"].IsObject()) {
          const auto& extension = json["tidewater"];
          if (extension["firstSequence"].IsUint64() && extension["lastSequence"].IsUint64()) {
            shard.first_sequence = SequenceNumber(extension["firstSequence"].GetUint64());
            shard.last_sequence = SequenceNumber(extension["lastSequence"].GetUint64());
          }
        } else {
          TW_ASSIGN_OR_RETURN(shard.first_sequence,
                              SequenceOf(StringOf(range, "StartingSequenceNumber")));
          if (shard.closed) {
            TW_ASSIGN_OR_RETURN(shard.last_sequence, SequenceOf(ending));
          }
        }
        ids[index] = std::string(id);
        shards.push_back(shard);
      }
      start = std::string(StringOf(description, "LastEvaluatedShardId"));
    } while (!start.empty());
    std::lock_guard lock(mu_);
    shard_ids_ = std::move(ids);
    return shards;
  }

  // Whether the table has a stream newer than the one read so far; if so, reads go there.
  Result<bool> MoveToNewerStream() {
    std::string current;
    {
      std::lock_guard lock(mu_);
      current = stream_arn_;
    }
    TW_ASSIGN_OR_RETURN(std::string newest, StreamArn(/*refresh=*/true));
    if (newest == current) return false;
    std::lock_guard lock(mu_);
    shard_ids_.clear();
    cursors_.clear();
    return true;
  }

  // The cached iterator when it starts at `from_sequence`, else a new one.
  Result<std::string> TakeIterator(ShardIndex shard, SequenceNumber from_sequence) {
    {
      std::lock_guard lock(mu_);
      auto it = cursors_.find(shard);
      if (it != cursors_.end()) {
        Cursor cursor = std::move(it->second);
        cursors_.erase(it);
        if (cursor.next_sequence == from_sequence) return std::move(cursor.iterator);
      }
    }
    return NewIterator(shard, from_sequence);
  }

  // The Streams API's id of `shard`, listing the shards when it is not known yet.
  Result<std::string> ShardIdOf(ShardIndex shard) {
    {
      std::lock_guard lock(mu_);
      auto it = shard_ids_.find(shard);
      if (it != shard_ids_.end()) return it->second;
    }
    TW_RETURN_IF_ERROR(ListShards().status());
    std::lock_guard lock(mu_);
    auto it = shard_ids_.find(shard);
    if (it == shard_ids_.end()) {
      return Status::NotFound(
          "Requested resource not found: Shard: " + std::to_string(shard.value()) + " not found");
    }
    return it->second;
  }

  Result<std::string> NewIterator(ShardIndex shard, SequenceNumber from_sequence) {
    TW_ASSIGN_OR_RETURN(std::string shard_id, ShardIdOf(shard));
    TW_ASSIGN_OR_RETURN(std::string arn, StreamArn(false));
    auto request = [&](std::string_view type, std::optional<SequenceNumber> sequence) {
      Body body;
      body.Add("StreamArn", arn).Add("ShardId", shard_id).Add("ShardIteratorType", type);
      if (sequence) body.Add("SequenceNumber", SequenceNumberText(*sequence));
      return pool_->Call(Target("GetShardIterator"), body.Text());
    };
    // AFTER the previous record: valid up to one past the shard's last record (where a
    // follower waits). Sequence 1 has no previous record: AT 1, or LATEST when the shard
    // is still empty.
    const SequenceNumber first(1);
    auto answer = from_sequence > first ? request("AFTER_SEQUENCE_NUMBER", from_sequence.Previous())
                                        : request("AT_SEQUENCE_NUMBER", first);
    if (!answer.ok() && from_sequence <= first &&
        answer.status().code() == ErrorCode::kValidation) {
      answer = request("LATEST", std::nullopt);
    }
    if (!answer.ok()) return answer.status();
    std::string iterator(StringOf(*answer, "ShardIterator"));
    if (iterator.empty()) return Status::Internal("GetShardIterator answered no ShardIterator");
    return iterator;
  }

  // GetShardIterator AT_TIMESTAMP; with the extension header tidewaterd tells where the
  // iterator starts ("tidewater": {"sequence", "trimHorizon"}).
  Result<TimePosition> PositionAtTime(ShardIndex shard, int64_t time_micros) override {
    TW_ASSIGN_OR_RETURN(std::string shard_id, ShardIdOf(shard));
    TW_ASSIGN_OR_RETURN(std::string arn, StreamArn(false));
    // Seconds with a micro-second fraction; tidewaterd rounds back to the micro-second.
    const double seconds = static_cast<double>(time_micros) / 1e6;
    Body body;
    body.Add("StreamArn", arn)
        .Add("ShardId", shard_id)
        .Add("ShardIteratorType", "AT_TIMESTAMP")
        .Add("Timestamp", seconds);
    TW_ASSIGN_OR_RETURN(rapidjson::Document answer,
                        pool_->Call(Target("GetShardIterator"), body.Text(), Headers()));
    if (!answer.IsObject() || !answer.HasMember("tidewater") || !answer["tidewater"].IsObject() ||
        !answer["tidewater"].HasMember("sequence") || !answer["tidewater"]["sequence"].IsUint64() ||
        !answer["tidewater"].HasMember("trimHorizon") ||
        !answer["tidewater"]["trimHorizon"].IsBool()) {
      return Status::Internal(
          "GetShardIterator AT_TIMESTAMP answered no position: the endpoint lacks Tidewater's "
          "Streams API extension");
    }
    const auto& extension = answer["tidewater"];
    return TimePosition{.sequence = SequenceNumber(extension["sequence"].GetUint64()),
                        .at_trim_horizon = extension["trimHorizon"].GetBool()};
  }

  Result<rapidjson::Document> GetRecords(const std::string& iterator, size_t limit) {
    Body body;
    body.Add("ShardIterator", iterator).Add("Limit", static_cast<uint64_t>(limit));
    return pool_->Call(Target("GetRecords"), body.Text(), Headers());
  }

  static const HttpHeaders& Headers() {
    static const HttpHeaders headers{{kRecordMetadataHeader, "1"}, {kWatermarkHeader, "1"}};
    return headers;
  }

  std::unique_ptr<ClientPool> pool_;
  const TableName table_;
  std::mutex mu_;
  std::string stream_arn_;                       // guarded by mu_
  std::map<ShardIndex, std::string> shard_ids_;  // guarded by mu_
  std::map<ShardIndex, Cursor> cursors_;         // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<ChangeSource>> MakeRemoteStreamsSource(std::string endpoint_url,
                                                              TableName table,
                                                              std::chrono::milliseconds timeout) {
  TW_ASSIGN_OR_RETURN(std::optional<security::SigningIdentity> identity, ResolveClientIdentity());
  return MakeRemoteStreamsSource(std::move(endpoint_url), std::move(table),
                                 ServiceClientOptions{timeout, std::move(identity)});
}

Result<std::unique_ptr<ChangeSource>> MakeRemoteStreamsSource(std::string endpoint_url,
                                                              TableName table,
                                                              ServiceClientOptions client) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<ClientPool> pool,
                      ClientPool::Create(std::move(endpoint_url), std::move(client)));
  return std::unique_ptr<ChangeSource>(
      std::make_unique<RemoteStreamsSource>(std::move(pool), std::move(table)));
}

}  // namespace tidewater::streams
