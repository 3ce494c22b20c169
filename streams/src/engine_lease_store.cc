#include <utility>

#include "lease_item.h"
#include "tidewater/streams/lease_store.h"

namespace tidewater::streams {
namespace {

class EngineLeaseStore final : public LeaseStore {
 public:
  EngineLeaseStore(Engine& engine, std::string table) : engine_(engine), table_(std::move(table)) {}

  Result<std::vector<Lease>> ListAllLeases() override {
    std::vector<Lease> leases;
    ScanRequest scan;
    scan.table = table_;
    do {
      TW_ASSIGN_OR_RETURN(ItemPage page, engine_.Scan(scan));
      for (const Item& item : page.items) {
        TW_ASSIGN_OR_RETURN(Lease lease, LeaseFromItem(item));
        leases.push_back(std::move(lease));
      }
      scan.exclusive_start_key = std::move(page.last_evaluated_key);
    } while (scan.exclusive_start_key);
    return leases;
  }

  Status CreateLease(const Lease& lease) override {
    auto absent = [](const Item* current) {
      return current == nullptr ? Status::Ok() : Status::ConditionFailed();
    };
    return engine_.PutItem(table_, LeaseToItem(lease), absent).status();
  }

  Status UpdateLease(const Lease& expected, const Lease& updated) override {
    auto unchanged = [&expected](const Item* current) {
      return LeaseMatches(current, expected) ? Status::Ok() : Status::ConditionFailed();
    };
    return engine_.PutItem(table_, LeaseToItem(updated), unchanged).status();
  }

 private:
  Engine& engine_;
  const std::string table_;
};

}  // namespace

Result<std::unique_ptr<LeaseStore>> MakeEngineLeaseStore(Engine& engine, std::string table) {
  auto described = engine.DescribeTable(table);
  if (!described.ok()) {
    if (described.status().code() != ErrorCode::kResourceNotFound) return described.status();
    CreateTableRequest create;
    create.name = table;
    create.key_schema.partition_key = KeyAttribute{kLeaseKeyAttribute, AttributeType::kS};
    create.shard_count = 1;
    auto created = engine.CreateTable(create);
    // Another store may have created it meanwhile.
    if (!created.ok() && created.status().code() != ErrorCode::kResourceInUse) {
      return created.status();
    }
  }
  return std::unique_ptr<LeaseStore>(std::make_unique<EngineLeaseStore>(engine, std::move(table)));
}

}  // namespace tidewater::streams
