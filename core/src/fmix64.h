// The 64-bit finalizer of MurmurHash3: spreads every input bit over every output bit.
// Used by the key codec (partition-key hashes, hence shard placement: never change it)
// and by the replication digests.
#pragma once

#include <cstdint>

namespace tidewater {

inline uint64_t Fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

}  // namespace tidewater
