// Capacity accounting: the work throttling adds to one PutItem and one GetItem, measured
// directly on the server's own classes (issue: cost of capacity accounting, target < 3% of
// the server's CPU per request).
//
//   build/bench/tw_capacity_accounting_bench [--iterations N] [--server-us-put X]
//                                            [--server-us-get Y]
//
// Why not only bench/run_capacity_bench.sh: it divides tidewaterd's CPU time per request with
// --throttling on by the same with it off, and its run-to-run spread (from -4% to +13% over
// three runs, docs/PERFORMANCE.md "Capacity accounting") is wider than the 3% it is meant to
// show: the accounting's share is buried in scheduler, network and HTTP noise. Here the added
// work itself is timed, on one thread and over millions of iterations, so its cost per request
// is known to a few nanoseconds; divided by the server CPU per request that the end-to-end
// script measured (--server-us-put / --server-us-get, default 62.3 and 47.0 µs, from the runs
// recorded there), it gives the share directly.
//
// One engine (in a temporary directory) with a PAY_PER_REQUEST table (on-demand scaling, the
// table's maximum buckets and per-shard buckets: the costliest path) with a
// NEW_AND_OLD_IMAGES stream and 4 shards, as the end-to-end script creates it, holds 2,000
// items of 1 KB (one write unit each). Timed with steady_clock, ns per request:
//  * put accounting: what server/src/item_handlers.cc does around the engine write:
//    ThroughputLimiter::Admit(kWrite, "PutItem", &item), then ChargedWriteCost (TableSchemas'
//    cached keys; the write's units from the item before and after) and Charge(ticket, cost).
//    The WriteResult is that of one real PutItem overwriting a 1 KB item, reused;
//  * get accounting: Admit(kRead, "GetItem", &key), ReadUnits(ItemSize(item), false) (the
//    handler sizes the item only to count its units) and Charge(ticket, kRead, units);
//  * for context, the engine's own PutItem (with the copy of the item it takes by value) and
//    GetItem of the same items (N / 10 calls of each), and accounting / engine call.
// Keys cycle over the 2,000 items, so the limiter routes each request to its shard as in
// production. Each accounting figure is taken on a fresh limiter after 10,000 untimed
// requests (the table's state loaded, every shard's bucket made), with throttling on and
// again with it off: the handlers call Admit and Charge in both modes (units are counted
// either way; off, Admit neither routes the key nor checks a bucket), so "on" is the whole
// cost of accounting and "on - off" is what the end-to-end script's overhead measures.
//
// The limiter's clock: the real steady clock read on every call, as Clock::System() does,
// plus 1/6,000 s per reading (Admit and Charge read it once each), so that the token buckets
// refill as they would at 3,000 requests/s, the end-to-end script's rate. On Clock::System()
// alone a tight loop spends a shard's 1,000 write units per second in about a millisecond,
// and from then on every Admit is refused (a different, costlier path). The pacing adds an
// atomic load, a store and a multiply per reading (~1 ns). A refused Admit ends the run
// with an error.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "capacity.h"
#include "support/temp_dir.h"
#include "support/test_engine.h"
#include "table_schemas.h"
#include "throughput_limiter.h"
#include "tidewater/core/clock.h"
#include "tidewater/core/engine.h"

namespace {

using namespace tidewater;
using server::CapacityKind;
using server::ErrorDetails;
using server::TableSchemas;
using server::ThroughputLimiter;
using SteadyClock = std::chrono::steady_clock;

const std::string kTable = "capacity_bench";
constexpr uint64_t kKeys = 2000;
constexpr uint64_t kItemBytes = 1024;  // by DynamoDB's rule: names + values
constexpr double kPacedRequestsPerSecond = 3000;
constexpr uint64_t kClockReadingsPerRequest = 2;  // Admit, Charge
constexpr uint64_t kWarmupRequests = 10000;

// The real steady clock, ahead by 1 s / (2 × requests_per_second) more on every reading:
// requests in a tight loop look to the limiter as if they came at requests_per_second. One
// thread only (the reading count is not incremented atomically).
class PacedClock final : public Clock {
 public:
  explicit PacedClock(double requests_per_second)
      : step_nanos_(static_cast<int64_t>(
            1e9 / (static_cast<double>(kClockReadingsPerRequest) * requests_per_second))) {}

  int64_t NowMicros() const override { return Clock::System()->NowMicros(); }
  MonotonicTime MonotonicNow() const override {
    const int64_t readings = readings_.load(std::memory_order_relaxed);
    readings_.store(readings + 1, std::memory_order_relaxed);
    return MonotonicTime(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             SteadyClock::now().time_since_epoch()) +
                         std::chrono::nanoseconds(readings * step_nanos_));
  }
  bool WaitUntil(CondVar&, [[maybe_unused]] Mutex& mu, std::stop_token, MonotonicTime,
                 const std::function<bool()>&) TW_REQUIRES(mu) override {
    std::fprintf(stderr, "tw_capacity_accounting_bench: the limiter is not expected to wait\n");
    std::abort();
  }
  using Clock::WaitUntil;

 private:
  int64_t step_nanos_;
  mutable std::atomic<int64_t> readings_{0};
};

std::string KeyName(uint64_t i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "k%08llu", static_cast<unsigned long long>(i));
  return buffer;
}

Item Key(uint64_t i) { return {{"pk", AttributeValue::S(KeyName(i))}}; }

// An item of kItemBytes, as tw_http_load --item-size 1024 writes it.
Item MakeItem(uint64_t i) {
  Item item = Key(i);
  const size_t overhead = std::strlen("pk") + KeyName(i).size() + std::strlen("payload");
  item["payload"] = AttributeValue::S(std::string(kItemBytes - overhead, 'x'));
  return item;
}

bool Refused(const char* operation, uint64_t request, const Status& status) {
  std::fprintf(stderr,
               "tw_capacity_accounting_bench: the limiter refused %s request %llu (%s); the "
               "paced clock should keep every bucket above zero\n",
               operation, static_cast<unsigned long long>(request), status.ToString().c_str());
  return false;
}

// Nanoseconds per call of `request(i)` over `iterations` calls; nullopt when one failed.
template <typename Request>
std::optional<double> NanosPerCall(uint64_t iterations, Request&& request) {
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < iterations; ++i) {
    if (!request(i)) return std::nullopt;
  }
  const auto end = SteadyClock::now();
  return std::chrono::duration<double, std::nano>(end - start).count() /
         static_cast<double>(iterations);
}

// `accounting(limiter, i)` timed on a fresh limiter (throttling `enabled` or not) after
// kWarmupRequests untimed requests.
template <typename Accounting>
std::optional<double> TimeAccounting(Engine* engine, bool enabled, uint64_t iterations,
                                     Accounting&& accounting) {
  PacedClock clock(kPacedRequestsPerSecond);
  ThroughputLimiter limiter(engine, &clock, "us-east-1", enabled);
  auto request = [&](uint64_t i) { return accounting(limiter, i); };
  if (!NanosPerCall(kWarmupRequests, request)) return std::nullopt;
  return NanosPerCall(iterations, request);
}

double Percent(double part, double whole) { return 100 * part / whole; }

}  // namespace

int main(int argc, char** argv) {
  uint64_t iterations = 2000000;
  double server_us_put = 62.3;
  double server_us_get = 47.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--iterations") == 0) {
      iterations = std::strtoull(argv[i + 1], nullptr, 10);
    }
    if (std::strcmp(argv[i], "--server-us-put") == 0) {
      server_us_put = std::strtod(argv[i + 1], nullptr);
    }
    if (std::strcmp(argv[i], "--server-us-get") == 0) {
      server_us_get = std::strtod(argv[i + 1], nullptr);
    }
  }
  if (iterations < 10 || server_us_put <= 0 || server_us_get <= 0) {
    std::fprintf(stderr,
                 "tw_capacity_accounting_bench: --iterations must be at least 10, "
                 "--server-us-put and --server-us-get above 0\n");
    return 2;
  }
  const uint64_t engine_iterations = iterations / 10;

  testing::TempDir dir;  // declared first: removed after the engine is closed
  auto opened = Engine::Open(testing::TestEngineOptions(dir.path()));
  if (!opened.ok()) {
    std::fprintf(stderr, "tw_capacity_accounting_bench: Engine::Open: %s\n",
                 opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<Engine> engine = std::move(*opened);
  CreateTableRequest create;
  create.name = kTable;
  create.key_schema.partition_key = {"pk", AttributeType::kS};
  create.stream.enabled = true;
  create.stream.view_type = StreamViewType::kNewAndOldImages;
  create.settings.billing_mode = BillingMode::kPayPerRequest;
  if (auto created = engine->CreateTable(create); !created.ok()) {
    std::fprintf(stderr, "tw_capacity_accounting_bench: CreateTable: %s\n",
                 created.status().ToString().c_str());
    return 1;
  }
  std::vector<Item> items;
  std::vector<Item> keys;
  for (uint64_t i = 0; i < kKeys; ++i) {
    items.push_back(MakeItem(i));
    keys.push_back(Key(i));
    if (!engine->PutItem(kTable, items.back()).ok()) return 1;
  }
  // The WriteResult every put accounting request charges: an overwrite of a 1 KB item, as
  // the end-to-end script's PutItems are (its warm-up wrote every key).
  auto written = engine->PutItem(kTable, items[0]);
  if (!written.ok() || !written->old_item || !written->new_item) return 1;
  const WriteResult write_result = std::move(*written);

  // The engine's own calls, for context.
  auto engine_put = NanosPerCall(engine_iterations, [&](uint64_t i) {
    auto result = engine->PutItem(kTable, items[i % kKeys]);
    if (!result.ok()) std::fprintf(stderr, "PutItem: %s\n", result.status().ToString().c_str());
    return result.ok();
  });
  auto engine_get = NanosPerCall(engine_iterations, [&](uint64_t i) {
    auto item = engine->GetItem(kTable, keys[i % kKeys]);
    if (!item.ok() || !item->has_value()) std::fprintf(stderr, "GetItem found no item\n");
    return item.ok() && item->has_value();
  });
  if (!engine_put || !engine_get) return 1;

  TableSchemas schemas(engine.get());
  ErrorDetails details;  // only a refusal writes to it
  auto put_accounting = [&](ThroughputLimiter& limiter, uint64_t i) {
    const Item& item = items[i % kKeys];
    auto ticket = limiter.Admit(kTable, CapacityKind::kWrite, "PutItem", &item, details);
    if (!ticket.ok()) return Refused("PutItem", i, ticket.status());
    limiter.Charge(*ticket, server::ChargedWriteCost(schemas, kTable, write_result));
    return true;
  };
  auto get_accounting = [&](ThroughputLimiter& limiter, uint64_t i) {
    auto ticket = limiter.Admit(kTable, CapacityKind::kRead, "GetItem", &keys[i % kKeys], details);
    if (!ticket.ok()) return Refused("GetItem", i, ticket.status());
    const double units = server::ReadUnits(ItemSize(items[i % kKeys]), false);
    limiter.Charge(*ticket, CapacityKind::kRead, units);
    return true;
  };
  auto put_on = TimeAccounting(engine.get(), true, iterations, put_accounting);
  auto put_off = TimeAccounting(engine.get(), false, iterations, put_accounting);
  auto get_on = TimeAccounting(engine.get(), true, iterations, get_accounting);
  auto get_off = TimeAccounting(engine.get(), false, iterations, get_accounting);
  if (!put_on || !put_off || !get_on || !get_off) return 1;

  std::printf(
      "PAY_PER_REQUEST table with a stream, %llu items of %llu bytes, one thread; %llu "
      "accounting requests per figure (limiter clock paced at %.0f requests/s), %llu engine "
      "calls\n",
      static_cast<unsigned long long>(kKeys), static_cast<unsigned long long>(kItemBytes),
      static_cast<unsigned long long>(iterations), kPacedRequestsPerSecond,
      static_cast<unsigned long long>(engine_iterations));
  std::printf("engine PutItem:                   %8.1f ns per call\n", *engine_put);
  std::printf("engine GetItem:                   %8.1f ns per call\n", *engine_get);
  std::printf("put accounting: %.1f ns = %.2f%% of %.1f us server CPU per PutItem\n", *put_on,
              Percent(*put_on, server_us_put * 1000), server_us_put);
  std::printf("put accounting, throttling off:   %8.1f ns\n", *put_off);
  std::printf("put accounting, on - off:         %8.1f ns = %.2f%% of %.1f us\n",
              *put_on - *put_off, Percent(*put_on - *put_off, server_us_put * 1000), server_us_put);
  std::printf("put accounting / engine PutItem:  %8.2f%%\n", Percent(*put_on, *engine_put));
  std::printf("get accounting: %.1f ns = %.2f%% of %.1f us server CPU per GetItem\n", *get_on,
              Percent(*get_on, server_us_get * 1000), server_us_get);
  std::printf("get accounting, throttling off:   %8.1f ns\n", *get_off);
  std::printf("get accounting, on - off:         %8.1f ns = %.2f%% of %.1f us\n",
              *get_on - *get_off, Percent(*get_on - *get_off, server_us_get * 1000), server_us_get);
  std::printf("get accounting / engine GetItem:  %8.2f%%\n", Percent(*get_on, *engine_get));
  return 0;
}
