// Random operation sequences on the C++ core, valid and invalid mixed, for a build with
// AddressSanitizer and UndefinedBehaviorSanitizer (tests/test_cpp_sanitizers.py): any memory
// error or undefined behaviour aborts the run; rejected calls must throw, not crash.
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "drats/gap_sampler.h"
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
  printf("ok, %ld rejected calls\n", errors);
}
