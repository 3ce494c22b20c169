#include "tidewater/core/identifiers.h"

#include <ostream>

namespace tidewater {

std::ostream& operator<<(std::ostream& out, ShardIndex shard) { return out << shard.value(); }

std::ostream& operator<<(std::ostream& out, SequenceNumber sequence) {
  return out << sequence.value();
}

std::ostream& operator<<(std::ostream& out, const TableName& table) { return out << table.value(); }

}  // namespace tidewater
