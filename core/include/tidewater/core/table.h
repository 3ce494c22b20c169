// Table definitions: key schema, stream specification, TTL, and what DescribeTable tells.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tidewater/core/attribute_value.h"
#include "tidewater/core/identifiers.h"
#include "tidewater/core/status.h"

namespace tidewater {

// A key attribute: its name and scalar type (S, N or B).
struct KeyAttribute {
  std::string name;
  AttributeType type = AttributeType::kS;
  friend bool operator==(const KeyAttribute&, const KeyAttribute&) = default;
};

struct KeySchema {
  KeyAttribute partition_key;
  std::optional<KeyAttribute> sort_key;
  friend bool operator==(const KeySchema&, const KeySchema&) = default;
};

enum class StreamViewType { kKeysOnly, kNewImage, kOldImage, kNewAndOldImages };
std::string_view StreamViewTypeName(StreamViewType type);  // "KEYS_ONLY", ...
bool ParseStreamViewType(std::string_view name, StreamViewType* out);

struct StreamSpecification {
  bool enabled = false;
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
};

enum class BillingMode { kPayPerRequest, kProvisioned };
// DynamoDB's table classes. An infrequent-access table's items are stored for size over
// read speed (heavier compression, larger blocks): see Catalog::ItemsCfOptions.
enum class TableClass { kStandard, kStandardInfrequentAccess };

struct ProvisionedThroughput {
  int64_t read_capacity_units = 0;
  int64_t write_capacity_units = 0;
  friend bool operator==(const ProvisionedThroughput&, const ProvisionedThroughput&) = default;
};

// The most read and write request units per second a PAY_PER_REQUEST table may serve
// (DynamoDB's OnDemandThroughput); -1: no maximum of its own.
struct OnDemandThroughput {
  int64_t max_read_request_units = -1;
  int64_t max_write_request_units = -1;
  friend bool operator==(const OnDemandThroughput&, const OnDemandThroughput&) = default;
};

// When a table's provisioned throughput and billing mode changed, for the limits on how
// often they may change. Times are epoch microseconds by the engine's clock; 0: never.
struct CapacityHistory {
  int64_t last_increase_micros = 0;
  int64_t last_decrease_micros = 0;
  // Decreases during the UTC day of last_decrease_micros.
  uint32_t decreases_on_last_decrease_day = 0;
  // When the table last became PAY_PER_REQUEST (created so, or switched).
  int64_t last_pay_per_request_micros = 0;
  // The recent switches from PROVISIONED to PAY_PER_REQUEST, oldest first.
  std::vector<int64_t> pay_per_request_switch_micros;
  // On-demand scaling's previous peak, in write request units per second (a read request
  // unit counts a third): set when the table switches to PAY_PER_REQUEST (half its
  // provisioned throughput) and when its traffic sets a higher peak; 0: none yet.
  double on_demand_peak_units = 0;
  friend bool operator==(const CapacityHistory&, const CapacityHistory&) = default;
};

// The settings of a table that UpdateTableSettings changes: billing, throughput, deletion
// protection, tags and the table class, with the capacity history that limits billing
// changes.
struct TableSettings {
  BillingMode billing_mode = BillingMode::kPayPerRequest;
  ProvisionedThroughput provisioned;  // zero while PAY_PER_REQUEST
  OnDemandThroughput on_demand;       // no maximums while PROVISIONED
  bool deletion_protection = false;   // DeleteTable is refused while set
  std::map<std::string, std::string> tags;
  CapacityHistory capacity;
  TableClass table_class = TableClass::kStandard;
  int64_t table_class_set_micros = 0;  // when TableClass was last set explicitly; 0: never
  // The master key id a KMS SSESpecification named (CreateTable/UpdateTable); empty: none
  // (DynamoDB's AWS owned key). Recorded only: tidewaterd encrypts its whole data directory
  // when it has a master key (security/encryption_at_rest.h).
  std::string sse_kms_master_key_id;
  friend bool operator==(const TableSettings&, const TableSettings&) = default;
};

// Which attributes a secondary index stores with each entry besides the table's and the
// index's key attributes (DynamoDB's Projection).
enum class ProjectionType { kKeysOnly, kInclude, kAll };
std::string_view ProjectionTypeName(ProjectionType type);  // "KEYS_ONLY", "INCLUDE", "ALL"
bool ParseProjectionType(std::string_view name, ProjectionType* out);

struct IndexProjection {
  ProjectionType type = ProjectionType::kAll;
  std::vector<std::string> non_key_attributes;  // kInclude only
  friend bool operator==(const IndexProjection&, const IndexProjection&) = default;
};

// A secondary index. A local one has the table's partition key with another sort key and
// is written in the same WriteBatch as the item, so it is as consistent as the table. A
// global one has any key; its entry changes are queued in the item's WriteBatch and applied
// shortly after by the engine's maintainer, so it is eventually consistent. An item
// without one of the index's key attributes has no entry (the index is sparse).
struct SecondaryIndex {
  std::string name;
  KeySchema key_schema;
  IndexProjection projection;
  // Fixed for the index's life and unique within its table: the prefix of its entries.
  uint32_t ordinal = 0;
  // A global index's own provisioned throughput on a PROVISIONED table (0: on demand).
  uint64_t read_capacity_units = 0;
  uint64_t write_capacity_units = 0;
  // A global index added by UpdateTable while the table's existing items are indexed
  // (DynamoDB's IndexStatus CREATING with Backfilling): written by every change, but not
  // readable until the backfill ends.
  bool backfilling = false;
  // A global index's throughput changes (UpdateTable's Update), for DynamoDB's limit on
  // decreases: only the increase and decrease members are kept.
  CapacityHistory capacity;
  friend bool operator==(const SecondaryIndex&, const SecondaryIndex&) = default;
};

// DynamoDB's rule for index key attributes: an item may lack them (it then has no entry in
// that index), but one it has must be of the index's type and not an empty string or
// binary. ValidationException with DynamoDB's message otherwise.
Status ValidateIndexKeys(const std::vector<SecondaryIndex>& indexes, const Item& item);

// How one write changes an item's entry in one index: the entry deleted (its key changed or
// went) and the entry written (new, or with another projection), each the projected item;
// neither when the entry stays as it was. DynamoDB charges a write per deleted or written
// entry, by its size.
struct IndexEntryChange {
  const SecondaryIndex* index = nullptr;
  std::optional<Item> deleted;
  std::optional<Item> written;
};
// The entry changes of every index in `indexes` when an item of a table keyed by
// `table_keys` goes from `before` to `after` (nullptr: absent); indexes whose entry does not
// change are left out.
std::vector<IndexEntryChange> IndexEntryChanges(const std::vector<SecondaryIndex>& indexes,
                                                const KeySchema& table_keys, const Item* before,
                                                const Item* after);

// Whether the entries of `index` (on a table keyed by `table_keys`) hold `attribute`: a
// key attribute of either, or one its projection names.
bool IndexProjects(const SecondaryIndex& index, const KeySchema& table_keys,
                   const std::string& attribute);

struct CreateTableRequest {
  std::string name;
  KeySchema key_schema;
  StreamSpecification stream;
  uint32_t shard_count = 4;  // stream shards = hash ranges of the partition key
  // The table's first settings; `capacity` is ignored (the catalog starts the history).
  TableSettings settings;
  // Local secondary indexes (ordinals are assigned by the catalog), validated by the caller.
  std::vector<SecondaryIndex> local_indexes;
  // Global secondary indexes, likewise.
  std::vector<SecondaryIndex> global_indexes;
  // For a table a restore or an import fills, with `stream` enabled: the loaded items enter
  // the stream as INSERT records with provenance RESTORE (a tidewater extension; DynamoDB
  // starts the new table's stream empty, as happens without it).
  bool backfill_stream = false;
};

// A secondary index as DescribeTable shows it.
struct IndexDescription {
  SecondaryIndex definition;
  uint64_t approximate_item_count = 0;
  uint64_t approximate_size_bytes = 0;
};

// One stream shard: a contiguous range of partition-key hashes.
struct ShardDescription {
  ShardIndex index;
  uint64_t hash_begin = 0;           // inclusive
  uint64_t hash_end = 0;             // inclusive
  std::optional<ShardIndex> parent;  // the shard this one was split from
  SequenceNumber first_sequence;     // oldest record still retained (0: none retained yet)
  SequenceNumber last_sequence;      // newest record written (0: none written)
  bool closed = false;               // no further records (after a split)
};

// What SplitShard did: the parent, now closed at its last sequence, and its two children,
// which hold the lower and the upper half of its hash range.
struct ShardSplit {
  ShardDescription parent;
  ShardDescription lower_child;
  ShardDescription upper_child;
};

// Where a restored table came from (DynamoDB's RestoreSummary).
struct RestoreSummary {
  std::string source_backup_id;  // a restore from a backup; empty: to a point in time
  std::string source_table;      // the source table's name
  uint64_t source_table_id = 0;
  int64_t restore_time_micros = 0;  // the instant the table was restored as of
  bool in_progress = false;         // TableStatus CREATING until every item is in
  friend bool operator==(const RestoreSummary&, const RestoreSummary&) = default;
};

struct TableDescription {
  std::string name;
  uint64_t table_id = 0;  // unique for the life of the data directory
  KeySchema key_schema;
  StreamSpecification stream;
  std::string stream_label;  // ISO-8601 time the current stream was enabled ("" if never)
  int64_t creation_time_micros = 0;
  TableSettings settings;
  std::optional<std::string> ttl_attribute;  // TTL enabled on this attribute
  std::vector<ShardDescription> shards;
  uint64_t approximate_item_count = 0;
  uint64_t approximate_size_bytes = 0;
  std::vector<IndexDescription> local_indexes;
  std::vector<IndexDescription> global_indexes;
  // Item changes whose global index work is not applied yet, and the age of the oldest
  // (both as of the maintainer's last pass; 0 when it is caught up).
  uint64_t global_index_backlog = 0;
  int64_t global_index_lag_micros = 0;
  std::optional<RestoreSummary> restore;  // set for a restored table
  // Set while an import fills the table (TableStatus CREATING): the import's id.
  std::optional<std::string> import_in_progress;
};

// A stream of a table: its current one, or a disabled one (the stream was turned off or
// replaced, or its table deleted) that stays readable until the stream retention has
// passed since it was disabled. Shards describe this stream's part of each shard's log:
// first_sequence its oldest retained record (0: none retained), last_sequence its newest;
// a disabled stream's shards are all closed, last_sequence being where the stream ended
// (below the stream's first record when it wrote none in the shard).
struct StreamDescription {
  std::string table;
  uint64_t table_id = 0;
  std::string label;
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
  bool enabled = false;
  KeySchema key_schema;
  int64_t table_creation_time_micros = 0;
  std::vector<ShardDescription> shards;
};

}  // namespace tidewater
