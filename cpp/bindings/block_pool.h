// Recycled memory for the arrays a call returns. A block goes back to its pool when the last
// array viewing it dies; at most kKeep free blocks are kept, the rest are freed. Thread safe;
// Get needs the GIL (it builds a capsule). A lent block keeps its pool alive until it is back.
#ifndef DRATS_BINDINGS_BLOCK_POOL_H_
#define DRATS_BINDINGS_BLOCK_POOL_H_

#include <pybind11/pybind11.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace drats::bindings {

// Create with std::make_shared (Get hands out shared ownership of the pool).
class BlockPool : public std::enable_shared_from_this<BlockPool> {
 public:
  static constexpr size_t kKeep = 4;
  static constexpr std::align_val_t kAlign{64};  // each part of a batch starts on a cache line

  // A kAlign-aligned block of at least `bytes`, and a capsule that hands it back when
  // released: give the capsule as base to every array that views the block.
  std::pair<char*, pybind11::capsule> Get(size_t bytes);

  ~BlockPool();

 private:
  struct Lease {
    std::shared_ptr<BlockPool> pool;
    char* block;
    size_t size;
  };

  void Put(char* block, size_t size);

  std::mutex mu_;
  std::vector<std::pair<char*, size_t>> free_;
};

}  // namespace drats::bindings

#endif  // DRATS_BINDINGS_BLOCK_POOL_H_
