// The shard log's validity rule (docs/CLUSTER.md): verdicts on hand-made logs, and a
// simulation of owners, zombies, term races and producer retries over one partition in
// which no acknowledged write is lost and every valid write saw the history before it.
#include "tidewater/cluster/shard_log_fence.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace tidewater::cluster {
namespace {

v1::ShardLogEntry TermStart(uint64_t term, const std::string& node) {
  v1::ShardLogEntry entry;
  entry.set_term(term);
  entry.set_node_id(node);
  entry.mutable_term_start()->set_advertised("127.0.0.1:8000");
  return entry;
}

void SetKey(v1::ShardLogEntry& entry, const std::string& name, const std::string& value) {
  v1::NamedValue* attribute =
      entry.mutable_change()->mutable_record()->mutable_keys()->add_attributes();
  attribute->set_name(name);
  attribute->mutable_value()->set_s(value);
}

std::string KeyOf(const v1::ShardLogEntry& entry, const std::string& name) {
  for (const v1::NamedValue& attribute : entry.change().record().keys().attributes()) {
    if (attribute.name() == name) return attribute.value().s();
  }
  return "";
}

// A change entry; `id` names the write, `after` the write its writer believed came last.
v1::ShardLogEntry Change(uint64_t term, uint64_t sequence, const std::string& node,
                         const std::string& id = "", const std::string& after = "") {
  v1::ShardLogEntry entry;
  entry.set_term(term);
  entry.set_sequence(sequence);
  entry.set_node_id(node);
  SetKey(entry, "id", id);
  SetKey(entry, "after", after);
  return entry;
}

std::vector<EntryVerdict> Verdicts(const std::vector<v1::ShardLogEntry>& log,
                                   FencePosition from = {}) {
  ShardLogFence fence(std::move(from));
  std::vector<EntryVerdict> verdicts;
  for (const auto& entry : log) verdicts.push_back(fence.Admit(entry));
  return verdicts;
}

using V = EntryVerdict;

TEST(ShardLogFenceTest, AnOwnersEntriesFollowItsTermStartInSequence) {
  EXPECT_EQ(Verdicts({TermStart(1, "a"), Change(1, 1, "a"), Change(1, 2, "a")}),
            (std::vector<V>{V::kNewTerm, V::kValid, V::kValid}));
}

TEST(ShardLogFenceTest, RetriedDuplicatesAndGapsAreNotHistory) {
  EXPECT_EQ(Verdicts({TermStart(1, "a"), Change(1, 1, "a"), Change(1, 2, "a"), Change(1, 2, "a"),
                      Change(1, 1, "a"), Change(1, 4, "a"), Change(1, 3, "a")}),
            (std::vector<V>{V::kNewTerm, V::kValid, V::kValid, V::kDuplicate, V::kDuplicate,
                            V::kGap, V::kValid}));
}

TEST(ShardLogFenceTest, AZombiesAppendsAfterANewerTermAreStale) {
  // b takes over after a's second write; a, paused, appends its third afterwards.
  EXPECT_EQ(Verdicts({TermStart(1, "a"), Change(1, 1, "a"), Change(1, 2, "a"), TermStart(2, "b"),
                      Change(1, 3, "a"), Change(2, 3, "b"), Change(1, 4, "a")}),
            (std::vector<V>{V::kNewTerm, V::kValid, V::kValid, V::kNewTerm, V::kStaleTerm,
                            V::kValid, V::kStaleTerm}));
}

TEST(ShardLogFenceTest, TheLoserOfARaceForATermCannotWriteInIt) {
  // a and b both read term 1 as the newest and both start term 2: a's start comes first.
  EXPECT_EQ(Verdicts({TermStart(1, "c"), Change(1, 1, "c"), TermStart(2, "a"), TermStart(2, "b"),
                      Change(2, 2, "b"), Change(2, 2, "a"), TermStart(1, "d")}),
            (std::vector<V>{V::kNewTerm, V::kValid, V::kNewTerm, V::kStaleTerm, V::kNotTermOwner,
                            V::kValid, V::kStaleTerm}));
}

TEST(ShardLogFenceTest, EntriesOfATermNotYetStartedAreRefused) {
  EXPECT_EQ(Verdicts({Change(1, 1, "a"), TermStart(1, "a"), Change(2, 1, "a")}),
            (std::vector<V>{V::kUnknownTerm, V::kNewTerm, V::kUnknownTerm}));
}

TEST(ShardLogFenceTest, MalformedEntriesAreRefusedAndChangeNothing) {
  v1::ShardLogEntry no_body;
  no_body.set_term(1);
  no_body.set_sequence(1);
  no_body.set_node_id("a");
  v1::ShardLogEntry term_start_with_sequence = TermStart(2, "a");
  term_start_with_sequence.set_sequence(2);
  v1::ShardLogEntry no_writer = Change(1, 1, "a");
  no_writer.clear_node_id();
  ShardLogFence fence;
  ASSERT_EQ(fence.Admit(TermStart(1, "a")), V::kNewTerm);
  const FencePosition before = fence.position();
  EXPECT_EQ(fence.Admit(no_body), V::kMalformed);
  EXPECT_EQ(fence.Admit(term_start_with_sequence), V::kMalformed);
  EXPECT_EQ(fence.Admit(Change(1, 0, "a")), V::kMalformed);
  EXPECT_EQ(fence.Admit(Change(0, 1, "a")), V::kMalformed);
  EXPECT_EQ(fence.Admit(TermStart(0, "a")), V::kMalformed);
  EXPECT_EQ(fence.Admit(no_writer), V::kMalformed);
  v1::ShardLogEntry parsed;
  EXPECT_EQ(fence.AdmitSerialized("\xff\xff\xff not a protobuf", parsed), V::kMalformed);
  EXPECT_EQ(fence.position(), before);
  EXPECT_EQ(fence.AdmitSerialized(Change(1, 1, "a").SerializeAsString(), parsed), V::kValid);
  EXPECT_EQ(parsed.sequence(), 1u);
  EXPECT_EQ(fence.position(), (FencePosition{1, "a", 1}));
}

TEST(ShardLogFenceTest, VerdictNamesAreDistinct) {
  std::set<std::string_view> names;
  for (V verdict : {V::kNewTerm, V::kValid, V::kStaleTerm, V::kUnknownTerm, V::kNotTermOwner,
                    V::kDuplicate, V::kGap, V::kMalformed}) {
    names.insert(VerdictName(verdict));
  }
  EXPECT_EQ(names.size(), 8u);
}

// One partition and three nodes that take it over, write, retry and confirm at random, in
// every interleaving the seed gives. A node acknowledges a write only when its own reader
// found the entry valid (the rule of docs/CLUSTER.md); a node that has not read that it
// lost the shard keeps writing (a zombie); takeovers race.
class Simulation {
 public:
  explicit Simulation(uint32_t seed) : random_(seed) {
    for (const char* id : {"a", "b", "c"}) nodes_[id];
  }

  void Run(int steps) {
    std::vector<std::string> ids;
    for (const auto& [id, node] : nodes_) ids.push_back(id);
    for (int step = 0; step < steps; ++step) {
      const std::string& id = ids[Pick(ids.size())];
      Act(id, nodes_[id]);
    }
    for (auto& [id, node] : nodes_) ReadToEnd(node);
  }

  const std::vector<v1::ShardLogEntry>& log() const { return log_; }
  const std::set<std::string>& acknowledged() const { return acknowledged_; }
  int takeovers() const { return takeovers_; }
  int zombie_appends() const { return zombie_appends_; }

 private:
  struct Node {
    ShardLogFence reader;                     // its reader of the partition
    size_t read_offset = 0;                   // the next entry its reader reads
    bool owner = false;                       // whether it believes it owns the shard
    uint64_t term = 0;                        // its term while it believes so
    std::optional<size_t> term_start_offset;  // a takeover in progress
    uint64_t next_sequence = 0;
    std::string last_read;  // the newest write in the history it has read
    // While it owns the shard: its own newest write (it may have appended more than it
    // has read back), the one it believes is the newest in the history.
    std::string last_write;
    std::vector<size_t> own_entries;  // offsets of its appended, unconfirmed changes
    int writes = 0;
  };

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random_); }

  void Act(const std::string& id, Node& node) {
    switch (Pick(7)) {
      case 0:  // start a takeover: append the term after the newest it has read (others
               // may have started that term, or a newer one, since)
        if (!node.term_start_offset) {
          node.term_start_offset = log_.size();
          Append(TermStart(node.reader.position().term + 1, id));
        }
        break;
      case 1:
      case 2:  // write, if it believes it owns the shard (a zombie believes it wrongly)
        if (node.owner) {
          if (IsZombie(id, node)) ++zombie_appends_;
          const std::string write = id + "-" + std::to_string(++node.writes);
          node.own_entries.push_back(log_.size());
          Append(Change(node.term, node.next_sequence++, id, write, node.last_write));
          node.last_write = write;
        }
        break;
      case 3:  // an append the producer gave up on: it never reaches the partition
        if (node.owner) {
          node.last_write = id + "-" + std::to_string(++node.writes);
          ++node.next_sequence;
        }
        break;
      case 4:  // the producer retries an earlier append (a duplicate in the partition)
        if (!log_.empty()) Append(v1::ShardLogEntry(log_[Pick(log_.size())]));
        break;
      default:  // read forward: confirm own writes, finish a takeover, learn of a loss
        ReadToEnd(node);
        break;
    }
  }

  // The node owns the shard from here in `term`, after the history it has read.
  static void Serve(Node& node, uint64_t term) {
    node.owner = true;
    node.term = term;
    node.next_sequence = node.reader.position().last_sequence + 1;
    node.last_write = node.last_read;
    node.own_entries.clear();
  }

  // Appends to the partition; `latest_` reads every entry as it lands.
  void Append(const v1::ShardLogEntry& entry) {
    log_.push_back(entry);
    latest_.Admit(entry);
  }

  // Whether another node's term has started since this node's: it writes as a zombie.
  bool IsZombie(const std::string& id, const Node& node) const {
    return latest_.position().term != node.term || latest_.position().term_owner != id;
  }

  void ReadToEnd(Node& node) {
    while (node.read_offset < log_.size()) {
      const size_t offset = node.read_offset++;
      const v1::ShardLogEntry& entry = log_[offset];
      const EntryVerdict verdict = node.reader.Admit(entry);
      if (node.term_start_offset && offset == *node.term_start_offset) {
        node.term_start_offset.reset();
        if (verdict == EntryVerdict::kNewTerm) {  // our term: read to here, now serve
          ++takeovers_;
          Serve(node, entry.term());
        } else {
          node.owner = false;  // lost the race for the term
          node.own_entries.clear();
        }
        continue;
      }
      if (verdict == EntryVerdict::kNewTerm) {
        node.owner = false;  // someone else's term: lost the shard
        node.own_entries.clear();
      }
      if (verdict == EntryVerdict::kValid) node.last_read = KeyOf(entry, "id");
      const bool own = !node.own_entries.empty() && node.own_entries.front() == offset;
      if (own) {
        node.own_entries.erase(node.own_entries.begin());
        if (verdict == EntryVerdict::kValid) {
          acknowledged_.insert(KeyOf(entry, "id"));
        } else {
          node.owner = false;  // not in the history: answer an error, stop serving
          node.own_entries.clear();
        }
      }
    }
  }

  std::mt19937 random_;
  std::map<std::string, Node> nodes_;
  std::vector<v1::ShardLogEntry> log_;
  ShardLogFence latest_;
  std::set<std::string> acknowledged_;
  int takeovers_ = 0;
  int zombie_appends_ = 0;
};

TEST(ShardLogFenceTest, SimulatedOwnersLoseNoAcknowledgedWriteAndEachValidWriteSawTheHistory) {
  int takeovers = 0;
  int zombie_appends = 0;
  int stale_term_starts = 0;  // takeovers that lost a race
  size_t acknowledged = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    Simulation simulation(seed);
    simulation.Run(400);
    // Two readers, one resuming half-way from the position the first had there, agree.
    ShardLogFence reader;
    std::vector<EntryVerdict> verdicts;
    std::optional<FencePosition> half_way;
    const auto& log = simulation.log();
    for (size_t i = 0; i < log.size(); ++i) {
      if (i == log.size() / 2) half_way = reader.position();
      verdicts.push_back(reader.Admit(log[i]));
    }
    ShardLogFence resumed(half_way.value_or(FencePosition{}));
    for (size_t i = log.size() / 2; i < log.size(); ++i) {
      ASSERT_EQ(resumed.Admit(log[i]), verdicts[i]) << "seed " << seed << " entry " << i;
    }
    // The history: sequences 1, 2, ... in log order, each write after the one its writer
    // believed was the newest (no write was decided on a stale view), and every
    // acknowledged write in it.
    uint64_t sequence = 0;
    std::string previous;
    std::set<std::string> history;
    for (size_t i = 0; i < log.size(); ++i) {
      if (verdicts[i] != EntryVerdict::kValid) continue;
      ASSERT_EQ(log[i].sequence(), ++sequence) << "seed " << seed;
      ASSERT_EQ(KeyOf(log[i], "after"), previous) << "seed " << seed << " entry " << i;
      previous = KeyOf(log[i], "id");
      history.insert(previous);
    }
    for (const std::string& write : simulation.acknowledged()) {
      ASSERT_TRUE(history.contains(write)) << "seed " << seed << ": " << write << " lost";
    }
    for (size_t i = 0; i < log.size(); ++i) {
      stale_term_starts += log[i].has_term_start() && verdicts[i] == EntryVerdict::kStaleTerm;
    }
    takeovers += simulation.takeovers();
    zombie_appends += simulation.zombie_appends();
    acknowledged += simulation.acknowledged().size();
  }
  // The runs did exercise what they claim to.
  EXPECT_GT(takeovers, 1000);
  EXPECT_GT(zombie_appends, 100);
  EXPECT_GT(stale_term_starts, 100);
  EXPECT_GT(acknowledged, 2000u);
  std::printf("takeovers %d, zombie appends %d, stale term starts %d, acknowledged %zu\n",
              takeovers, zombie_appends, stale_term_starts, acknowledged);
}

}  // namespace
}  // namespace tidewater::cluster
