// Random operation sequences on the C++ core, valid and invalid mixed, for a build with
// AddressSanitizer and UndefinedBehaviorSanitizer (tests/test_cpp_sanitizers.py): any memory
// error or undefined behaviour aborts the run; rejected calls must throw, not crash.
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "drats/gap_sampler.h"
#include "drats/gaussian.h"
#include "drats/mlp_forward.h"
#include "drats/per_task_replay.h"
using namespace drats;
int main() {
  std::mt19937_64 g(1);  // fixed seed: the same sequence every run
  long errors = 0;
  for (int round = 0; round < 200; ++round) {
    int64_t K = 1 + g() % 5, cap = 1 + g() % 40, od = 1 + g() % 4, ad = 1 + g() % 3;
    PerTaskReplay r(ReplayConfig{K, cap, od, ad, (g() % 3) * 0.5, g()});
    const GapKind gap = round % 2 ? GapKind::kRange : GapKind::kTarget;
    GapSampler s(GapSamplerConfig{K, 8.0, 0.5, 0.0, std::vector<double>(K, 100.0), true, 3, 0.5,
                                  g(), gap});
    for (int op = 0; op < 200; ++op) {
      try {
        int kind = g() % 4;
        if (kind == 0) {
          int64_t n = g() % 30;
          std::vector<int64_t> ids(n);
          for (auto& x : ids) x = (int64_t)(g() % (K + 1)) - (g() % 20 == 0);
          std::vector<float> obs(n * od, 1.f), act(n * ad), rew(n), term(n);
          if (n && g() % 10 == 0) obs[0] = NAN;
          r.Add(n, ids.data(), obs.data(), act.data(), rew.data(), obs.data(), term.data());
        } else if (kind == 1) {
          std::vector<int64_t> counts(K);
          for (auto& c : counts) c = (int64_t)(g() % 20) - (g() % 30 == 0);
          int64_t total = 0;
          for (auto c : counts) total += c > 0 ? c : 0;
          std::vector<float> o(total * od), a(total * ad), rw(total), no(total * od), t(total),
              w(total);
          std::vector<int64_t> ti(total), in(total);
          r.Sample(counts.data(), (g() % 5) * 0.3,
                   SampleOutput{o.data(), a.data(), rw.data(), no.data(), t.data(), ti.data(),
                                in.data(), w.data()});
          std::vector<double> p(total);
          for (auto& x : p) x = (g() % 100) * 0.1;
          r.UpdatePriorities(total, in.data(), p.data());
        } else if (kind == 2) {
          int64_t n = g() % 10;
          std::vector<int64_t> ids(n);
          std::vector<double> ret(n);
          std::vector<uint8_t> ok(n);
          for (int64_t i = 0; i < n; ++i) {
            ids[i] = g() % (K + 1);
            ret[i] = static_cast<double>(g() % 200) - 100.0;
            if (g() % 50 == 0) ret[i] = (g() % 2 ? 1.7e308 : -1.7e308);
            ok[i] = g() % 2;
          }
          s.Observe(n, ids.data(), ret.data(), ok.data());
          if (g() % 3 == 0) s.Update();
          std::vector<int64_t> d(g() % 100);
          s.Sample(d.size(), d.data());
        } else {
          ReplayState st = r.GetState();
          if (g() % 2 && !st.priorities.empty()) st.priorities[g() % st.priorities.size()] = -1.0;
          r.SetState(st);
          s.SetState(s.GetState());
        }
      } catch (const std::exception&) {
        ++errors;
      }
    }
  }
  // The MLP forward pass: random shapes and row counts on both kernels, a tenth of the task
  // ids out of range (refused before anything is written) and some mismatched layers.
  for (int round = 0; round < 400; ++round) {
    const int64_t depth = 1 + g() % 3, heads = 1 + g() % 4, rows = g() % 120;
    std::vector<int64_t> widths{static_cast<int64_t>(1 + g() % 40)};
    for (int64_t l = 1; l < depth; ++l) widths.push_back(1 + g() % 40);
    widths.push_back(heads * static_cast<int64_t>(1 + g() % 20));
    std::vector<std::vector<float>> params;
    std::vector<DenseLayerView> views;
    for (int64_t l = 0; l < depth; ++l) {
      // Now and then a layer after the first takes one input too many: refused.
      const int64_t in = widths[l] + (l > 0 && g() % 40 == 0);
      params.emplace_back(in * widths[l + 1], 0.5f);
      params.emplace_back(widths[l + 1], 0.25f);
      views.push_back({params[params.size() - 2].data(), params.back().data(), in,
                       widths[l + 1]});
    }
    try {
      MlpForward mlp(views, heads, g() % 2 == 0);
      std::vector<float> x(rows * widths[0], 1.0f), out(rows * mlp.head_dim(), -1.0f);
      std::vector<int64_t> ids(rows);
      for (auto& id : ids) id = static_cast<int64_t>(g() % heads) - (g() % 200 == 0);
      mlp.Forward(x.data(), rows, ids.data(), out.data());
    } catch (const std::exception&) {
      ++errors;
    }
  }
  // The Gaussian draw: random sizes, bounds and outputs (NaN and inf among them).
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int round = 0; round < 400; ++round) {
    const int64_t n = g() % 20, a = 1 + g() % 6;
    std::vector<float> out(n * 2 * a), raw(n * a), act(n * a), lp(n);
    for (auto& v : out) v = static_cast<float>(unit(g) * 40.0 - 20.0);
    if (!out.empty() && g() % 5 == 0) out[g() % out.size()] = g() % 2 ? NAN : INFINITY;
    std::vector<double> u(2 * n * a);
    for (auto& v : u) v = unit(g);
    const double lo = g() % 8 ? -5.0 : -1e300, hi = g() % 8 ? 2.0 : 1e300;  // beyond float too
    GaussianDraw(out.data(), n, a, lo, hi, g() % 4 ? u.data() : nullptr, raw.data(), act.data(),
                 lp.data());
  }
  printf("ok, %ld rejected calls\n", errors);
}
