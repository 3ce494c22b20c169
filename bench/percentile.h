// The p-quantile (0..1) of a benchmark's samples, by rank p·(n−1) of the sorted values.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace tidewater::bench {

inline double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

}  // namespace tidewater::bench
