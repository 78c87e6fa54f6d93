// Counter-based SplitMix64: draw k of the stream with key `key` is Mix(key + k * kGamma).
// Bit-identical to python/drats/domain/rng.py, so the numpy adapters are exact oracles.
// Not thread safe (each owner keeps its own stream).
#ifndef DRATS_RNG_H_
#define DRATS_RNG_H_

#include <cstdint>

namespace drats {

class CounterRng {
 public:
  static constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ULL;

  static constexpr uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // The stream key of a seed: Mix(seed + kGamma).
  explicit CounterRng(uint64_t seed = 0) : key_(Mix(seed + kGamma)), counter_(0) {}

  uint64_t NextU64() {
    ++counter_;
    return Mix(key_ + counter_ * kGamma);
  }
  // Uniform double in [0, 1) with 53 random bits.
  double NextDouble() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

  uint64_t key() const { return key_; }
  uint64_t counter() const { return counter_; }
  void SetState(uint64_t key, uint64_t counter) {
    key_ = key;
    counter_ = counter;
  }

 private:
  uint64_t key_;
  uint64_t counter_;
};

}  // namespace drats

#endif  // DRATS_RNG_H_
