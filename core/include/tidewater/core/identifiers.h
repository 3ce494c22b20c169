// Identifiers that cross module boundaries, each its own type: a shard index, a sequence
// number and a table name cannot be passed for one another (nor for a consumer name, a
// region or a count), so swapping two arguments does not compile.
//
// Each type is built only explicitly from its raw value and gives it back only through
// value(): no implicit conversion either way, no arithmetic beyond what a position needs.
// The raw value appears where the identifier meets a wire format (Protobuf fields, Kafka
// headers, JSON, flags). All three are plain values: copyable, comparable, hashable
// (std::hash, for map and set keys) and printable (operator<< for tests and streams; log
// lines print value()). Thread safety: as for any value type.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>

namespace tidewater {

// The index of a stream shard within its table (0, 1, ...; a split shard's children get
// new indexes). Default: shard 0.
class ShardIndex {
 public:
  constexpr ShardIndex() = default;
  constexpr explicit ShardIndex(uint32_t value) : value_(value) {}

  constexpr uint32_t value() const { return value_; }

  friend constexpr auto operator<=>(const ShardIndex&, const ShardIndex&) = default;

 private:
  uint32_t value_ = 0;
};

// A position in one shard's change log. Records are numbered from 1 without gaps; 0 means
// "none" (no record written, retained or checkpointed). Default: 0.
class SequenceNumber {
 public:
  constexpr SequenceNumber() = default;
  constexpr explicit SequenceNumber(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }
  // The position after this one (what to read next after reading this record).
  constexpr SequenceNumber Next() const { return SequenceNumber(value_ + 1); }
  // The position before this one (the last record read when this is the next to read).
  // Requires value() > 0.
  constexpr SequenceNumber Previous() const { return SequenceNumber(value_ - 1); }

  friend constexpr auto operator<=>(const SequenceNumber&, const SequenceNumber&) = default;

 private:
  uint64_t value_ = 0;
};

// How many positions lie in [from, to): to - from, or 0 when `to` is not after `from`.
constexpr uint64_t SequenceDistance(SequenceNumber from, SequenceNumber to) {
  return to > from ? to.value() - from.value() : 0;
}

// The name of a table, as created (not validated here: the catalog validates names).
class TableName {
 public:
  TableName() = default;
  explicit TableName(std::string value) : value_(std::move(value)) {}

  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }

  friend auto operator<=>(const TableName&, const TableName&) = default;

 private:
  std::string value_;
};

std::ostream& operator<<(std::ostream& out, ShardIndex shard);
std::ostream& operator<<(std::ostream& out, SequenceNumber sequence);
std::ostream& operator<<(std::ostream& out, const TableName& table);

}  // namespace tidewater

template <>
struct std::hash<tidewater::ShardIndex> {
  size_t operator()(tidewater::ShardIndex shard) const noexcept {
    return std::hash<uint32_t>()(shard.value());
  }
};

template <>
struct std::hash<tidewater::SequenceNumber> {
  size_t operator()(tidewater::SequenceNumber sequence) const noexcept {
    return std::hash<uint64_t>()(sequence.value());
  }
};

template <>
struct std::hash<tidewater::TableName> {
  size_t operator()(const tidewater::TableName& table) const noexcept {
    return std::hash<std::string>()(table.value());
  }
};
