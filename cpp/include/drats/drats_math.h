// The DRATS update (twin of python/drats/domain/drats_math.py; same numbers to 1e-12).
// All functions are pure, O(K) (ProjectFloor: O(K^2) worst case, K is small), thread safe,
// and throw std::invalid_argument on invalid input instead of asserting.
#ifndef DRATS_DRATS_MATH_H_
#define DRATS_DRATS_MATH_H_

#include <cstdint>
#include <vector>

namespace drats {

// Slack allowed when checking eps * K <= 1.
inline constexpr double kSimplexTol = 1e-9;

// Throws unless 0 <= eps and eps * k <= 1 (+ kSimplexTol).
void CheckFloor(double eps, int64_t k);
// Throws unless eta > 0, step_size >= 0 and step_size / eta <= 1 (all finite).
void CheckStep(double eta, double step_size);

// argmin_q KL(q || z) s.t. sum q = 1, q_i >= eps. Exact active set: free tasks share
// 1 - eps * #clamped in proportion to z (equally if their z sums to 0); clamp those below eps;
// repeat until stable; uniform if the mass goes negative or every task is clamped (only when
// eps * K is 1 up to rounding). Preconditions (checked): z non-empty, finite, >= 0; eps valid.
std::vector<double> ProjectFloor(const std::vector<double>& z, double eps);

// alpha = step_size / eta; log q' = (1 - alpha) log q + alpha log(1/K) + step_size * g;
// returns ProjectFloor(softmax(log q'), eps). Preconditions (checked): q a probability vector,
// gaps finite and of the same length, eta/step_size/eps valid.
std::vector<double> MirrorAscentStep(const std::vector<double>& q, const std::vector<double>& gaps,
                                     double eta, double step_size, double eps);

// Vose alias table with a fixed processing order (stacks, lowest index pushed first), so the
// numpy twin builds the identical table. O(K).
struct AliasTable {
  std::vector<double> prob;
  std::vector<int64_t> alias;

  void Build(const std::vector<double>& q);
  // Column min(floor(u * K), K - 1); kept when the fractional part is below prob, else its alias.
  // O(1).
  int64_t Draw(double u) const {
    const double t = u * static_cast<double>(prob.size());
    const int64_t last = static_cast<int64_t>(prob.size()) - 1;
    int64_t col = static_cast<int64_t>(t);
    if (col > last) col = last;  // u * K can round up to K

    const double frac = t - static_cast<double>(col);
    return frac < prob[col] ? col : alias[col];
  }
};

}  // namespace drats

#endif  // DRATS_DRATS_MATH_H_
