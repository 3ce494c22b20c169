// Encryption at rest against none, in one run: PutItem of 1 KB items (a table with 4 shards,
// no fsync) by writer threads, then, after a reopen (cold block cache), a full Scan of what
// was written. Both on the engine, once over the machine's filesystem and once over the
// encrypting one (security/encryption_at_rest.h). Prints throughput and the ratios.
//
//   build/bench/tw_encryption_bench [--seconds S] [--threads T]
#include <rocksdb/file_system.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tidewater/core/engine.h"
#include "tidewater/security/encryption_at_rest.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace tidewater;

struct Figures {
  double writes_per_second = 0;
  double scan_mb_per_second = 0;
};

std::unique_ptr<Engine> OpenEngine(const std::string& dir,
                                   std::shared_ptr<rocksdb::FileSystem> files) {
  EngineOptions options;
  options.data_dir = dir;
  options.file_system = std::move(files);
  options.block_cache_bytes = 8 << 20;  // smaller than the data: the scan reads table files
  Result<std::unique_ptr<Engine>> engine = Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), engine.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*engine);
}

Figures Run(const std::string& dir, const std::shared_ptr<rocksdb::FileSystem>& files, int threads,
            double seconds) {
  Figures figures;
  {
    auto engine = OpenEngine(dir, files);
    CreateTableRequest request;
    request.name = "bench";
    request.key_schema.partition_key = {"pk", AttributeType::kS};
    request.shard_count = 4;
    if (!engine->CreateTable(request).ok()) std::abort();
    const std::string payload(1000, 'v');
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> written{0};
    std::vector<std::thread> writers;
    const auto start = Clock::now();
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&, t] {
        for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          Item item{{"pk", AttributeValue::S("k" + std::to_string(t) + "-" + std::to_string(i))},
                    {"data", AttributeValue::S(payload)}};
          if (!engine->PutItem("bench", std::move(item)).ok()) std::abort();
          written.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& writer : writers) writer.join();
    figures.writes_per_second =
        static_cast<double>(written) / std::chrono::duration<double>(Clock::now() - start).count();
  }
  auto engine = OpenEngine(dir, files);  // the write-ahead log replayed into table files
  ScanRequest scan;
  scan.table = "bench";
  size_t bytes = 0;
  const auto start = Clock::now();
  for (;;) {
    Result<ItemPage> page = engine->Scan(scan);
    if (!page.ok()) std::abort();
    bytes += page->scanned_bytes;
    if (!page->last_evaluated_key) break;
    scan.exclusive_start_key = std::move(page->last_evaluated_key);
  }
  figures.scan_mb_per_second = static_cast<double>(bytes) / 1e6 /
                               std::chrono::duration<double>(Clock::now() - start).count();
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seconds") seconds = std::stod(argv[i + 1]);
    if (flag == "--threads") threads = std::stoi(argv[i + 1]);
  }
  Result<security::MasterKeyring> keys = security::MasterKeyring::Parse(
      "bench 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", "bench keyring");
  if (!keys.ok()) return 1;
  const auto encrypted = security::NewEncryptedFileSystem(
      std::make_shared<const security::MasterKeyring>(std::move(*keys)),
      rocksdb::FileSystem::Default());
  const auto root =
      std::filesystem::temp_directory_path() / ("tw-encryption-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  const Figures plain = Run((root / "plain").string(), nullptr, threads, seconds);
  const Figures sealed = Run((root / "encrypted").string(), encrypted, threads, seconds);
  std::filesystem::remove_all(root);
  std::printf("%-24s %14s %14s\n", "", "PutItem/s", "Scan MB/s");
  std::printf("%-24s %14.0f %14.1f\n", "no encryption", plain.writes_per_second,
              plain.scan_mb_per_second);
  std::printf("%-24s %14.0f %14.1f\n", "AES-256-CTR at rest", sealed.writes_per_second,
              sealed.scan_mb_per_second);
  std::printf("%-24s %13.2fx %13.2fx\n", "ratio (encrypted/plain)",
              sealed.writes_per_second / plain.writes_per_second,
              sealed.scan_mb_per_second / plain.scan_mb_per_second);
  return 0;
}
