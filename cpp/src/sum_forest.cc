#include "drats/sum_forest.h"

#include <algorithm>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "drats/prefetch.h"

namespace drats {
namespace {

constexpr int64_t kF = SumForest::kFanout;

// The level-major search prefetches the node group of the query this many places ahead in
// the same level, so a bounded number of misses is in flight while the current query is
// resolved. Prefetching a whole level's groups at once before searching it stalled on a
// high-latency VM (the prefetches queue behind full miss buffers, and the early groups are
// evicted again before use): 430 -> 250-290 us for a 10 x 128 sample from 10 x 100k leaves.
constexpr int64_t kSearchAhead = 32;

// SetBatch recomputes a whole level when it has at most 1/kDenseRatio as many nodes as the
// batch has slots (in-process A/B, p10 of 4,000 priority updates of a sample's indices:
// 10 x 128 -1 to -4 us, 50 x 26 -0.6 to -0.8 us; ratio 2 gained less).
constexpr int64_t kDenseRatio = 4;

int64_t RoundUp(int64_t n) { return (n + kF - 1) / kF * kF; }

double GroupSum(const double* c) {
  return ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
}

// The child of the 8-sibling group `c` that holds u, with u made relative to that child.
// Prefix sums by a log-depth scan (3 dependent adds instead of 8); with non-negative children
// they are non-decreasing, a zero child repeats the prefix before it, and the last prefix is
// exactly GroupSum(c). The child is the number of prefixes <= u: the first whose prefix
// exceeds u, never a zero child.
int64_t Descend(const double* c, double* u) {
  const double a1 = c[0] + c[1], a3 = c[2] + c[3], a5 = c[4] + c[5], a7 = c[6] + c[7];
  const double b3 = a1 + a3;
  const double prefix[kF] = {c[0],      a1,      a1 + c[2],        b3,
                             b3 + c[4], b3 + a5, b3 + (a5 + c[6]), b3 + (a5 + a7)};
  const double x = *u;
#if defined(__SSE2__)
  // Two prefixes per compare; the prefixes ascend, so the 8-bit mask is 0..01..1 and the
  // count is its number of trailing ones (-2 to -3 us on a 1280-draw sample, A/B measured).
  const __m128d vx = _mm_set1_pd(x);
  const int mask = _mm_movemask_pd(_mm_cmple_pd(_mm_loadu_pd(prefix), vx)) |
                   (_mm_movemask_pd(_mm_cmple_pd(_mm_loadu_pd(prefix + 2), vx)) << 2) |
                   (_mm_movemask_pd(_mm_cmple_pd(_mm_loadu_pd(prefix + 4), vx)) << 4) |
                   (_mm_movemask_pd(_mm_cmple_pd(_mm_loadu_pd(prefix + 6), vx)) << 6);
  const int64_t count = __builtin_ctz(~mask);
#else
  int64_t count = 0;
  for (int64_t k = 0; k < kF; ++k) count += prefix[k] <= x;
#endif
  if (count < kF) {
    *u = count == 0 ? x : x - prefix[count - 1];
    return count;
  }
  // Rounding put u at or past the group's sum: take the last positive child and make u its
  // whole value, so that the levels below do the same.
  int64_t k = kF - 1;
  while (k > 0 && c[k] <= 0.0) --k;
  *u = c[k];
  return k;
}

}  // namespace

SumForest::SumForest(int64_t num_trees, int64_t capacity)
    : num_trees_(num_trees), capacity_(capacity) {
  if (num_trees < 1) throw std::invalid_argument("number of trees must be >= 1");
  if (capacity < 1) throw std::invalid_argument("tree capacity must be >= 1");
  int64_t w = RoundUp(capacity);
  width_.push_back(w);
  while (w > kF) {
    w = RoundUp(w / kF);
    width_.push_back(w);
  }
  for (int64_t width : width_) levels_.emplace_back(num_trees * width, 0.0);
  totals_.assign(num_trees, 0.0);
}

void SumForest::Recompute(int64_t tree, size_t level, int64_t node) {
  levels_[level][tree * width_[level] + node] =
      GroupSum(levels_[level - 1].data() + tree * width_[level - 1] + node * kF);
}

void SumForest::Set(int64_t tree, int64_t i, double value) {
  levels_[0][tree * width_[0] + i] = value;
  for (size_t l = 1; l < levels_.size(); ++l) {
    i /= kF;
    Recompute(tree, l, i);
  }
  totals_[tree] = GroupSum(levels_.back().data() + tree * kF);
}

void SumForest::SetBatch(int64_t tree, const int64_t* slots, const double* values, int64_t n) {
  if (n <= 0) return;
  double* leaves = levels_[0].data() + tree * width_[0];
  for (int64_t j = 0; j < n; ++j) leaves[slots[j]] = values[j];
  int shift = 0;
  const double* below = leaves;
  for (size_t l = 1; l < levels_.size(); ++l) {
    shift += 3;  // log2(kFanout)
    double* level = levels_[l].data() + tree * width_[l];
    const int64_t groups = width_[l - 1] / kF;  // the tree's nodes on this level
    if (groups * kDenseRatio <= n) {
      // A narrow level: recomputing every node costs less than walking the n slots to find
      // the few that changed (the same sums: an unchanged node is recomputed to its value).
      for (int64_t g = 0; g < groups; ++g) level[g] = GroupSum(below + g * kF);
    } else {
      int64_t previous = -1;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t node = slots[j] >> shift;
        if (node == previous) continue;
        level[node] = GroupSum(below + node * kF);
        previous = node;
      }
    }
    below = level;
  }
  totals_[tree] = GroupSum(levels_.back().data() + tree * kF);
}

void SumForest::Assign(int64_t tree, const double* values) {
  double* leaves = levels_[0].data() + tree * width_[0];
  std::copy(values, values + capacity_, leaves);
  std::fill(leaves + capacity_, leaves + width_[0], 0.0);
  for (size_t l = 1; l < levels_.size(); ++l) {
    const int64_t groups = width_[l - 1] / kF;
    double* level = levels_[l].data() + tree * width_[l];
    std::fill(level, level + width_[l], 0.0);
    for (int64_t g = 0; g < groups; ++g) Recompute(tree, l, g);
  }
  totals_[tree] = GroupSum(levels_.back().data() + tree * kF);
}

int64_t SumForest::Find(int64_t tree, double u) const {
  int64_t node = 0;
  for (size_t l = levels_.size(); l-- > 0;) {
    node = node * kF + Descend(levels_[l].data() + tree * width_[l] + node * kF, &u);
  }
  return node;
}

void SumForest::FindBatch(const int64_t* trees, double* u, int64_t n, int64_t* out,
                          double* values) const {
  std::fill(out, out + n, 0);  // every query starts above the top level, at node 0
  DescendFrom(levels_.size(), trees, u, n, out, values);
}

void SumForest::FindStratified(const int64_t* counts, int64_t* trees, double* u, int64_t* out,
                               double* values) const {
  int64_t n = 0, runs = 0;
  for (int64_t t = 0; t < num_trees_; ++t) {
    if (counts[t] < 0) throw std::invalid_argument("counts must be >= 0");
    n += counts[t];
    runs += counts[t] > 0;
  }
  if (n == 0) return;
  // Merge over the lowest level with at most max(64, 2 * queries per tree) nodes a tree: its
  // walk then costs about what the searches it replaces would.
  const int64_t limit = std::max<int64_t>(64, 2 * n / runs);
  size_t start = levels_.size() - 1;
  while (start > 0 && width_[start - 1] <= limit) --start;
  const double* level = levels_[start].data();
  int64_t j = 0;
  for (int64_t t = 0; t < num_trees_; ++t) {
    const int64_t end = j + counts[t];
    if (j == end) continue;
    const double* nodes = level + t * width_[start];
    int64_t last_positive = width_[start] - 1;
    while (last_positive > 0 && nodes[last_positive] <= 0.0) --last_positive;
    // Each query stops at the first node whose running sum exceeds it (never at a zero node:
    // the sum does not grow there), or at the last positive node if rounding carried it past
    // the end; the search below then resolves it like any other.
    double acc = 0.0;
    int64_t k = 0;
    double previous = 0.0;
    for (; j < end; ++j) {
      const double x = u[j];
      if (x < previous) {
        throw std::invalid_argument("FindStratified: the queries of a tree must not decrease");
      }
      previous = x;
      while (k < last_positive && acc + nodes[k] <= x) acc += nodes[k++];
      trees[j] = t;
      out[j] = k;
      u[j] = std::max(x - acc, 0.0);
    }
  }
  DescendFrom(start, trees, u, n, out, values);
}

void SumForest::DescendFrom(size_t start, const int64_t* trees, double* u, int64_t n, int64_t* out,
                            double* values) const {
  for (size_t l = start; l-- > 0;) {
    const double* level = levels_[l].data();
    const int64_t width = width_[l];
    for (int64_t j = 0; j < std::min(n, kSearchAhead); ++j) {
      DRATS_PREFETCH(level + trees[j] * width + out[j] * kF);
    }
    for (int64_t j = 0; j < n; ++j) {
      if (j + kSearchAhead < n) {
        DRATS_PREFETCH(level + trees[j + kSearchAhead] * width + out[j + kSearchAhead] * kF);
      }
      out[j] = out[j] * kF + Descend(level + trees[j] * width + out[j] * kF, &u[j]);
    }
  }
  if (values != nullptr) {
    const double* leaves = levels_[0].data();
    for (int64_t j = 0; j < n; ++j) values[j] = leaves[trees[j] * width_[0] + out[j]];
  }
}

}  // namespace drats
