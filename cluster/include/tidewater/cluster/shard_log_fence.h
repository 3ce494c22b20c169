// The validity rule of a shard's log in cluster mode (docs/CLUSTER.md, "The shard log").
//
// A shard's Kafka partition may hold entries that are not part of the shard's history:
// a producer's retried duplicates, the late appends of an owner that lost the shard (a
// zombie), and those of a node that lost a race to start a term. Every reader applies this rule to
// the entries in partition order and so keeps the same subsequence: the shard's history, with
// gap-free sequences, none twice, each written by the owner of its time. An owner acknowledges a
// write only once its own read of the partition found the entry valid, so no acknowledged write is
// outside the history.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "tidewater/v1/cluster.pb.h"

namespace tidewater::cluster {

// What the rule made of one entry. Only kNewTerm and kValid entries are the history.
enum class EntryVerdict {
  kNewTerm,       // a TermStart above the current term: a new owner from here on
  kValid,         // the next entry of the current term
  kStaleTerm,     // older than the current term: a fenced owner's (or a stale TermStart)
  kUnknownTerm,   // newer than the current term, with no TermStart before it
  kNotTermOwner,  // the current term, from another node than the one that started it
  kDuplicate,     // a sequence the history already has
  kGap,           // a sequence past the next one
  kMalformed,     // not a ShardLogEntry, or fields that contradict its kind
};

// The label of a verdict in metrics and logs (snake_case, stable).
std::string_view VerdictName(EntryVerdict verdict);

// Where a reader stands in a shard's history: the current term, the node that started it
// and the last valid sequence. Stored with the applied offset, so a reader resumes where
// it stopped.
struct FencePosition {
  uint64_t term = 0;
  std::string term_owner;
  uint64_t last_sequence = 0;
  friend bool operator==(const FencePosition&, const FencePosition&) = default;
};

// Applies the validity rule to one shard's entries, in partition order.
//
// [Determinism] The verdicts depend only on the entries and the starting position: two
// readers given the same log from the same position agree on every entry.
// [Threading] Not thread-safe; one reader of one partition owns it.
class ShardLogFence {
 public:
  explicit ShardLogFence(FencePosition resume_from = {}) : position_(std::move(resume_from)) {}

  // The verdict on the next entry; kNewTerm and kValid move the position.
  EntryVerdict Admit(const v1::ShardLogEntry& entry);
  // The same for an entry as the partition stores it (a serialized ShardLogEntry);
  // `parsed` receives it when it parses.
  EntryVerdict AdmitSerialized(std::string_view value, v1::ShardLogEntry& parsed);

  const FencePosition& position() const { return position_; }

 private:
  FencePosition position_;
};

}  // namespace tidewater::cluster
