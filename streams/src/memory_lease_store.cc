// Leases in this process's memory: the lease rules of lease_store.h without a table, for
// a reader that is the only worker of its application (its positions live elsewhere).
#include <map>
#include <mutex>
#include <utility>

#include "tidewater/streams/lease_store.h"

namespace tidewater::streams {
namespace {

class MemoryLeaseStore final : public LeaseStore {
 public:
  Result<std::vector<Lease>> ListAllLeases() override {
    std::lock_guard lock(mu_);
    std::vector<Lease> leases;
    for (const auto& [key, lease] : leases_) leases.push_back(lease);
    return leases;
  }

  Status CreateLease(const Lease& lease) override {
    std::lock_guard lock(mu_);
    if (!leases_.try_emplace(lease.Key(), lease).second) return Status::ConditionFailed();
    return Status::Ok();
  }

  Status UpdateLease(const Lease& expected, const Lease& updated) override {
    std::lock_guard lock(mu_);
    auto it = leases_.find(expected.Key());
    if (it == leases_.end() || it->second.owner != expected.owner ||
        it->second.counter != expected.counter) {
      return Status::ConditionFailed();
    }
    it->second = updated;
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::map<std::string, Lease> leases_;  // by Lease::Key(); guarded by mu_
};

}  // namespace

std::unique_ptr<LeaseStore> MakeMemoryLeaseStore() { return std::make_unique<MemoryLeaseStore>(); }

}  // namespace tidewater::streams
