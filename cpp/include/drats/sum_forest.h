// K sum trees of equal capacity ("a forest"), fanout 8, stored level by level for all trees.
//
// Layout: level 0 holds the leaves, level l+1 the sums of consecutive groups of 8 nodes of
// level l; each tree's share of a level is padded with zeros to a multiple of 8, so one group
// of siblings is one 64-byte cache line, and the same level of all trees is one array (large
// levels get huge pages, see huge_page_allocator.h). Node j of tree t at level l lives at
// levels_[l][t * width_[l] + j]. A 100k-leaf tree has 6 levels; the top 3-4 stay in cache.
//
// Numeric drift: every ancestor is recomputed as the sum of its 8 children (GroupSum) instead
// of being adjusted by a delta, so the sums never drift from the leaves. Searches compute
// their prefix sums with the same association as GroupSum, so a query below a parent's value
// always finds a child under it.
//
// Complexity: Set O(8 log_8 n); SetBatch and FindBatch the same per item, processed level by
// level across the whole batch so that the memory accesses of different items overlap.
// Thread safety: const methods may run concurrently; anything else needs exclusive access.
#ifndef DRATS_SUM_FOREST_H_
#define DRATS_SUM_FOREST_H_

#include <cstdint>
#include <vector>

#include "drats/huge_page_allocator.h"

namespace drats {

class SumForest {
 public:
  static constexpr int64_t kFanout = 8;

  // Preconditions (checked, std::invalid_argument): num_trees >= 1, capacity >= 1.
  // All leaves start at 0.
  SumForest(int64_t num_trees, int64_t capacity);

  int64_t num_trees() const { return num_trees_; }
  int64_t capacity() const { return capacity_; }
  double total(int64_t tree) const { return totals_[tree]; }
  double Get(int64_t tree, int64_t i) const { return levels_[0][tree * width_[0] + i]; }
  // The `capacity` leaves of `tree`.
  const double* leaves(int64_t tree) const { return levels_[0].data() + tree * width_[0]; }

  // Preconditions for all mutators (caller's): tree in [0, num_trees), slots in
  // [0, capacity), values finite and >= 0.
  void Set(int64_t tree, int64_t i, double value);
  // leaves[slots[j]] = values[j] for j < n (the last wins for a repeated slot), then the
  // ancestors level by level; a parent shared by consecutive slots is recomputed once, and a
  // level with at most n / 4 nodes is recomputed whole. Slots in any order.
  void SetBatch(int64_t tree, const int64_t* slots, const double* values, int64_t n);
  // All `capacity` leaves of `tree` from `values`, rebuilt in O(capacity).
  void Assign(int64_t tree, const double* values);

  // The leaf i of `tree` with prefix(i) <= u < prefix(i) + leaf(i); leaves of value 0 are
  // never returned; if rounding leaves u >= total(tree), the last leaf with a positive value.
  // Preconditions (caller's): total(tree) > 0, u >= 0.
  int64_t Find(int64_t tree, double u) const;
  // Find for n queries (query j in trees[j] at u[j]) in one level-major sweep that, within
  // each level, prefetches the node group of a query a fixed distance ahead. u is used as
  // scratch (overwritten); if `values` is given, values[j] receives the value of the leaf found.
  void FindBatch(const int64_t* trees, double* u, int64_t n, int64_t* out,
                 double* values = nullptr) const;
  // FindBatch for stratified draws: counts[t] queries for tree t, trees in increasing order,
  // each tree's queries non-decreasing (checked: std::invalid_argument). The upper levels are
  // not searched query by query: one merge of a tree's sorted queries with the running sum of
  // a narrow level (at most max(64, 2 * queries per tree) nodes a tree) places them all, and
  // the level-major search goes on from there (-5 us on 10 x 128 draws from 10 x 100k
  // leaves). Fills trees[j] with the tree of query j. Same leaves as FindBatch except where
  // a query falls within rounding of a node boundary.
  void FindStratified(const int64_t* counts, int64_t* trees, double* u, int64_t* out,
                      double* values = nullptr) const;

 private:
  void Recompute(int64_t tree, size_t level, int64_t node);
  // The level-major search below level `start`; out[j] holds query j's node at `start`.
  void DescendFrom(size_t start, const int64_t* trees, double* u, int64_t n, int64_t* out,
                   double* values) const;

  int64_t num_trees_, capacity_;
  std::vector<HugeVector<double>> levels_;  // levels_[0]: leaves; levels_.back(): 8 per tree
  std::vector<int64_t> width_;              // nodes per tree at each level (multiple of 8)
  std::vector<double> totals_;
};

}  // namespace drats

#endif  // DRATS_SUM_FOREST_H_
