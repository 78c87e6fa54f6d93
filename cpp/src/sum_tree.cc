#include "drats/sum_tree.h"

#include <algorithm>
#include <stdexcept>

namespace drats {
namespace {

constexpr int64_t kF = SumTree::kFanout;

int64_t RoundUp(int64_t n) { return (n + kF - 1) / kF * kF; }

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
  const auto& top = levels_.back();
  double t = 0.0;
  for (int64_t k = 0; k < kF; ++k) t += top[k];
  total_ = t;
}

void SumTree::Set(int64_t i, double value) {
  levels_[0][i] = value;
  for (size_t l = 1; l < levels_.size(); ++l) {
    const double* child = levels_[l - 1].data() + (i & ~(kF - 1));
    double s = 0.0;
    for (int64_t k = 0; k < kF; ++k) s += child[k];
    i /= kF;
    levels_[l][i] = s;
  }
  RecomputeTotal();
}

void SumTree::Assign(const double* values) {
  std::copy(values, values + capacity_, levels_[0].begin());
  for (size_t l = 1; l < levels_.size(); ++l) {
    const auto& below = levels_[l - 1];
    auto& level = levels_[l];
    std::fill(level.begin(), level.end(), 0.0);
    for (size_t g = 0; g < below.size() / kF; ++g) {
      double s = 0.0;
      for (int64_t k = 0; k < kF; ++k) s += below[g * kF + k];
      level[g] = s;
    }
  }
  RecomputeTotal();
}

void SumTree::Clear() {
  for (auto& level : levels_) std::fill(level.begin(), level.end(), 0.0);
  total_ = 0.0;
}

int64_t SumTree::Descend(const HugeVector<double>& level, int64_t base, double* u) const {
  const double* c = level.data() + base;
  // Branch-free: the child is the number of prefix sums <= u. Zero children never end up
  // chosen because their prefix equals the previous one.
  double prefix = 0.0;
  double before = 0.0;
  int64_t count = 0;
  for (int64_t k = 0; k < kF; ++k) {
    prefix += c[k];
    const bool le = prefix <= *u;
    count += le;
    before = le ? prefix : before;
  }
  if (count < kF) {
    *u -= before;
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
  // Queries walk the tree in lockstep, G at a time, so the loads of one level for G
  // independent queries are in flight together.
  constexpr int64_t kGroup = 16;
  double uu[kGroup];
  int64_t node[kGroup];
  for (int64_t start = 0; start < n; start += kGroup) {
    const int64_t g = std::min(kGroup, n - start);
    for (int64_t j = 0; j < g; ++j) {
      uu[j] = u[start + j];
      node[j] = 0;
    }
    for (size_t l = levels_.size(); l-- > 0;) {
      const auto& level = levels_[l];
      if (l > 0) {
        for (int64_t j = 0; j < g; ++j) node[j] = Descend(level, node[j] * kF, &uu[j]);
        const auto& below = levels_[l - 1];
        for (int64_t j = 0; j < g; ++j) __builtin_prefetch(below.data() + node[j] * kF);
      } else {
        for (int64_t j = 0; j < g; ++j) out[start + j] = Descend(level, node[j] * kF, &uu[j]);
      }
    }
  }
}

}  // namespace drats
