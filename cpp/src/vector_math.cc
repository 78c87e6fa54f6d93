// Built with -ffast-math -fopenmp-simd when DRATS_HAVE_LIBMVEC is set (see CMakeLists.txt):
// that is what lets GCC call libmvec's SIMD exp/log. The flags stay local to this file, which
// includes nothing but <cmath>, so no inline function is compiled two ways; its inputs are
// checked (finite, > 0) before they get here, so fast-math's no-NaN assumption holds.
#include "drats/vector_math.h"

#include <cmath>

namespace drats {

#if defined(DRATS_HAVE_LIBMVEC)
__attribute__((target_clones("avx2", "default"))) void PowInPlace(double* x, int64_t n,
                                                                  double exponent) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = std::exp(exponent * std::log(x[i]));
}

__attribute__((target_clones("avx2", "default"))) void PowInPlace(float* x, int64_t n,
                                                                  float exponent) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = std::exp(exponent * std::log(x[i]));
}
#else
void PowInPlace(double* x, int64_t n, double exponent) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::pow(x[i], exponent);
}

void PowInPlace(float* x, int64_t n, float exponent) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::pow(x[i], exponent);
}
#endif

}  // namespace drats
