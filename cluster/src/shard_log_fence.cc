#include "tidewater/cluster/shard_log_fence.h"

namespace tidewater::cluster {

std::string_view VerdictName(EntryVerdict verdict) {
  switch (verdict) {
    case EntryVerdict::kNewTerm:
      return "new_term";
    case EntryVerdict::kValid:
      return "valid";
    case EntryVerdict::kStaleTerm:
      return "stale_term";
    case EntryVerdict::kUnknownTerm:
      return "unknown_term";
    case EntryVerdict::kNotTermOwner:
      return "not_term_owner";
    case EntryVerdict::kDuplicate:
      return "duplicate";
    case EntryVerdict::kGap:
      return "gap";
    case EntryVerdict::kMalformed:
      return "malformed";
  }
  return "malformed";
}

namespace {

// Term 0 is no owner's and every entry names its writer; a TermStart has no sequence,
// every other entry has one.
bool WellFormed(const v1::ShardLogEntry& entry) {
  if (entry.term() == 0 || entry.node_id().empty()) return false;
  switch (entry.body_case()) {
    case v1::ShardLogEntry::kTermStart:
      return entry.sequence() == 0;
    case v1::ShardLogEntry::kChange:
      return entry.sequence() != 0;
    case v1::ShardLogEntry::BODY_NOT_SET:
      return false;
  }
  return false;
}

}  // namespace

EntryVerdict ShardLogFence::Admit(const v1::ShardLogEntry& entry) {
  if (!WellFormed(entry)) return EntryVerdict::kMalformed;
  if (entry.body_case() == v1::ShardLogEntry::kTermStart) {
    if (entry.term() <= position_.term) return EntryVerdict::kStaleTerm;
    position_.term = entry.term();
    position_.term_owner = entry.node_id();
    return EntryVerdict::kNewTerm;
  }
  if (entry.term() < position_.term) return EntryVerdict::kStaleTerm;
  if (entry.term() > position_.term) return EntryVerdict::kUnknownTerm;
  if (entry.node_id() != position_.term_owner) return EntryVerdict::kNotTermOwner;
  if (entry.sequence() <= position_.last_sequence) return EntryVerdict::kDuplicate;
  if (entry.sequence() > position_.last_sequence + 1) return EntryVerdict::kGap;
  position_.last_sequence = entry.sequence();
  return EntryVerdict::kValid;
}

EntryVerdict ShardLogFence::AdmitSerialized(std::string_view value, v1::ShardLogEntry& parsed) {
  if (!parsed.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return EntryVerdict::kMalformed;
  }
  return Admit(parsed);
}

}  // namespace tidewater::cluster
