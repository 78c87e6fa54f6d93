// A sum tree with fanout 8 over `capacity` non-negative leaves.
//
// Layout: level 0 holds the leaves, level l+1 holds the sums of consecutive groups of 8 nodes
// of level l; every level is padded with zeros to a multiple of 8 so that one group of
// siblings is one 64-byte cache line. A 131072-leaf tree has 6 levels, of which the top 3-4
// stay in cache, so both an update and a search touch about two cold lines.
//
// Numeric drift: Set() recomputes every ancestor as the plain sum of its 8 children rather
// than adding a delta, so the tree never drifts from its leaves, however many updates it sees.
//
// Complexity: Set O(8 log_8 n), Find O(8 log_8 n), FindBatch the same per query but with the
// queries interleaved level by level so that their cache misses overlap.
// Thread safety: none, not even for const methods (FindBatch uses a scratch buffer); the
// owner serialises access.
#ifndef DRATS_SUM_TREE_H_
#define DRATS_SUM_TREE_H_

#include <cstdint>
#include <vector>

#include "drats/huge_page_allocator.h"

namespace drats {

class SumTree {
 public:
  static constexpr int64_t kFanout = 8;

  // Precondition (checked): capacity >= 1. All leaves start at 0.
  explicit SumTree(int64_t capacity);

  int64_t capacity() const { return capacity_; }
  double total() const { return total_; }
  double Get(int64_t i) const { return levels_[0][i]; }
  const HugeVector<double>& leaves() const { return levels_[0]; }

  // Precondition (caller's): 0 <= i < capacity, value finite and >= 0.
  void Set(int64_t i, double value);
  // Sets leaves[slots[j]] = values[j] for j < n (the last one wins for a repeated slot), then
  // recomputes the ancestors level by level: the recomputations of one level are independent,
  // so they overlap instead of queueing behind each other at the shared top nodes, and a
  // parent shared by consecutive slots (sorted input) is recomputed once.
  // Precondition (caller's): every slot in [0, capacity), values finite and >= 0.
  void SetBatch(const int64_t* slots, const double* values, int64_t n);
  // Sets every leaf from `values` (capacity entries) and rebuilds the sums in O(n).
  void Assign(const double* values);
  void Clear();

  // The leaf i with prefix(i) <= u < prefix(i) + leaf(i); leaves of value 0 are never
  // returned. If rounding leaves u >= total(), returns the last leaf with a positive value.
  // Precondition (caller's): total() > 0, u >= 0.
  int64_t Find(double u) const;
  // Find for n queries at once (same results as calling Find on each).
  void FindBatch(const double* u, int64_t n, int64_t* out) const;

 private:
  // Index of the child of group `base` (8 nodes of `level`) that holds u; updates u.
  int64_t Descend(const HugeVector<double>& level, int64_t base, double* u) const;
  void RecomputeTotal();

  int64_t capacity_;
  std::vector<HugeVector<double>> levels_;  // levels_[0]: leaves; levels_.back(): 8 nodes
  double total_ = 0.0;
  mutable std::vector<double> scratch_;  // FindBatch's per-query remainders
};

}  // namespace drats

#endif  // DRATS_SUM_TREE_H_
