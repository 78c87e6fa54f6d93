#include "drats/sum_tree.h"

#include <algorithm>
#include <stdexcept>

#if defined(__GNUC__) || defined(__clang__)
#define DRATS_PREFETCH(p) __builtin_prefetch(p)
#else
#define DRATS_PREFETCH(p) ((void)(p))
#endif

namespace drats {
namespace {

constexpr int64_t kF = SumTree::kFanout;

int64_t RoundUp(int64_t n) { return (n + kF - 1) / kF * kF; }

// The sum of 8 siblings, in the same association as the last prefix in Descend().
double GroupSum(const double* c) { return ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7])); }

}  // namespace

SumTree::SumTree(int64_t capacity) : capacity_(capacity) {
  if (capacity < 1) throw std::invalid_argument("SumTree capacity must be >= 1");
  int64_t n = RoundUp(capacity);
  levels_.emplace_back(n, 0.0);
  while (n > kF) {
    n = RoundUp(n / kF);
    levels_.emplace_back(n, 0.0);
  }
}

void SumTree::RecomputeTotal() {
  total_ = GroupSum(levels_.back().data());
}

void SumTree::Set(int64_t i, double value) {
  levels_[0][i] = value;
  for (size_t l = 1; l < levels_.size(); ++l) {
    const double* child = levels_[l - 1].data() + (i & ~(kF - 1));
    i /= kF;
    levels_[l][i] = GroupSum(child);
  }
  RecomputeTotal();
}

void SumTree::SetBatch(const int64_t* slots, const double* values, int64_t n) {
  if (n <= 0) return;
  double* leaves = levels_[0].data();
  for (int64_t j = 0; j < n; ++j) leaves[slots[j]] = values[j];
  int shift = 0;
  for (size_t l = 1; l < levels_.size(); ++l) {
    shift += 3;  // kFanout == 8
    const double* below = levels_[l - 1].data();
    double* level = levels_[l].data();
    int64_t previous = -1;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t node = slots[j] >> shift;
      if (node == previous) continue;
      level[node] = GroupSum(below + node * kF);
      previous = node;
    }
  }
  RecomputeTotal();
}

void SumTree::Assign(const double* values) {
  std::copy(values, values + capacity_, levels_[0].begin());
  for (size_t l = 1; l < levels_.size(); ++l) {
    const auto& below = levels_[l - 1];
    auto& level = levels_[l];
    std::fill(level.begin(), level.end(), 0.0);
    for (size_t g = 0; g < below.size() / kF; ++g) level[g] = GroupSum(below.data() + g * kF);
  }
  RecomputeTotal();
}

void SumTree::Clear() {
  for (auto& level : levels_) std::fill(level.begin(), level.end(), 0.0);
  total_ = 0.0;
}

int64_t SumTree::Descend(const HugeVector<double>& level, int64_t base, double* u) const {
  const double* c = level.data() + base;
  // Prefix sums of the 8 children by a log-depth scan (3 dependent adds, not 8). With
  // non-negative children they are non-decreasing, a zero child repeats the prefix before
  // it, and the last one is exactly GroupSum(c), the parent's value. The child is the number
  // of prefixes <= u: the first child whose prefix exceeds u, never a zero child.
  const double a1 = c[0] + c[1], a3 = c[2] + c[3], a5 = c[4] + c[5], a7 = c[6] + c[7];
  const double b3 = a1 + a3;
  const double prefix[kF] = {c[0], a1, a1 + c[2], b3, b3 + c[4], b3 + a5, b3 + (a5 + c[6]),
                             b3 + (a5 + a7)};
  const double x = *u;
  int64_t count = 0;
  for (int64_t k = 0; k < kF; ++k) count += prefix[k] <= x;
  if (count < kF) {
    *u = count == 0 ? x : x - prefix[count - 1];
    return base + count;
  }
  // Rounding put u at or past this group's sum: take the last positive child, and make u
  // its whole value so that the levels below do the same.
  int64_t k = kF - 1;
  while (k > 0 && c[k] <= 0.0) --k;
  *u = c[k];
  return base + k;
}

int64_t SumTree::Find(double u) const {
  int64_t node = 0;
  for (size_t l = levels_.size(); l-- > 0;) {
    node = Descend(levels_[l], node * kF, &u);
  }
  return node;
}

void SumTree::FindBatch(const double* u, int64_t n, int64_t* out) const {
  // Level-major: every query descends one level before any descends the next, and the
  // children lines of level l - 1 are prefetched as soon as level l picks them, n queries
  // before they are read. `out` holds the current node of each query until the leaf level.
  if (n <= 0) return;
  scratch_.assign(u, u + n);
  double* uu = scratch_.data();
  std::fill(out, out + n, 0);
  for (size_t l = levels_.size(); l-- > 0;) {
    const HugeVector<double>& level = levels_[l];
    for (int64_t j = 0; j < n; ++j) out[j] = Descend(level, out[j] * kF, &uu[j]);
    if (l > 0) {
      const double* below = levels_[l - 1].data();
      for (int64_t j = 0; j < n; ++j) DRATS_PREFETCH(below + out[j] * kF);
    }
  }
}

}  // namespace drats
