#include "bindings/gap_sampler_binding.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bindings/gil_lock.h"
#include "bindings/numpy_io.h"
#include "drats/errors.h"
#include "drats/gap_sampler.h"

namespace drats::bindings {
namespace {

drats::GapKind GapKindOf(const std::string& name) {
  if (name == "target") return drats::GapKind::kTarget;
  if (name == "range") return drats::GapKind::kRange;
  throw drats::ConfigError("gap must be 'target' or 'range', got '" + name + "'");
}

class PySampler {
 public:
  explicit PySampler(const drats::GapSamplerConfig& config) : core_(config) {}

  py::array_t<int64_t> Sample(int64_t n) {
    if (n < 0) throw std::invalid_argument("n must be >= 0, got " + std::to_string(n));
    py::array_t<int64_t> out(n);
    int64_t* dst = out.mutable_data();
    auto lock = LockWithoutGil(mu_);
    py::gil_scoped_release release;
    core_.Sample(n, dst);
    return out;
  }

  void Observe(const py::handle& ids_obj, const py::handle& returns_obj,
               const py::handle& successes_obj) {
    auto ids = AsArray<int64_t>(ids_obj, "task_ids", "iu");
    auto ret = AsArray<double>(returns_obj, "returns", "fiub");
    auto suc = AsArray<int64_t>(successes_obj, "successes", "biu");
    if (ids.ndim() != 1) throw std::invalid_argument("task_ids must be 1-D");
    CheckShape(ret, ids.shape(0), "returns");
    CheckShape(suc, ids.shape(0), "successes");
    std::vector<uint8_t> flags(suc.size());
    for (py::ssize_t i = 0; i < suc.size(); ++i) {
      const int64_t v = suc.data()[i];
      if (v != 0 && v != 1) throw std::invalid_argument("successes must be bool or 0/1");
      flags[i] = static_cast<uint8_t>(v);
    }
    auto lock = LockWithoutGil(mu_);
    core_.Observe(ids.shape(0), ids.data(), ret.data(), flags.data());
  }

  py::array_t<double> Update() {
    auto lock = LockWithoutGil(mu_);
    std::vector<double> q = core_.Update();
    return Adopt(std::move(q), {static_cast<py::ssize_t>(core_.config().num_tasks)});
  }

  py::array_t<double> Probs() { return Copy(&drats::GapSampler::probs); }
  py::array_t<double> Gaps() { return Copy(&drats::GapSampler::gaps); }
  py::array_t<double> Targets() { return Copy(&drats::GapSampler::targets); }

  py::dict GetState() {
    auto lock = LockWithoutGil(mu_);
    drats::GapSamplerState s = core_.GetState();
    const auto k = static_cast<py::ssize_t>(core_.config().num_tasks);
    const auto w = static_cast<py::ssize_t>(core_.config().success_window);
    py::dict d;
    d["probs"] = Adopt(std::move(s.probs), {k});
    d["gaps"] = Adopt(std::move(s.gaps), {k});
    d["targets"] = Adopt(std::move(s.targets), {k});
    d["window_sums"] = Adopt(std::move(s.window_sums), {k});
    d["best_returns"] = Adopt(std::move(s.best_returns), {k});
    d["worst_returns"] = Adopt(std::move(s.worst_returns), {k});
    d["window_counts"] = Adopt(std::move(s.window_counts), {k});
    d["episodes"] = Adopt(std::move(s.episodes), {k});
    d["history_len"] = Adopt(std::move(s.history_len), {k});
    d["history_pos"] = Adopt(std::move(s.history_pos), {k});
    d["history"] = Adopt(std::move(s.history), {k, w}).attr("astype")("bool");
    d["solved"] = Adopt(std::move(s.solved), {k}).attr("astype")("bool");
    d["rng"] = Adopt(std::vector<uint64_t>{s.rng_key, s.rng_counter}, {2});
    return d;
  }

  void SetState(const py::dict& d) {
    drats::GapSamplerState s;
    s.probs = ToVector<double>(d["probs"], "probs", "f");
    s.gaps = ToVector<double>(d["gaps"], "gaps", "f");
    s.targets = ToVector<double>(d["targets"], "targets", "f");
    s.window_sums = ToVector<double>(d["window_sums"], "window_sums", "f");
    s.best_returns = ToVector<double>(d["best_returns"], "best_returns", "f");
    // absent from states written before the range gap (and from every target-gap state)
    s.worst_returns = d.contains("worst_returns")
                          ? ToVector<double>(d["worst_returns"], "worst_returns", "f")
                          : std::vector<double>(s.best_returns.size(),
                                                std::numeric_limits<double>::infinity());
    s.window_counts = ToVector<int64_t>(d["window_counts"], "window_counts", "iu");
    s.episodes = ToVector<int64_t>(d["episodes"], "episodes", "iu");
    s.history_len = ToVector<int64_t>(d["history_len"], "history_len", "iu");
    s.history_pos = ToVector<int64_t>(d["history_pos"], "history_pos", "iu");
    s.history = ToVector<uint8_t>(d["history"], "history", "b");
    s.solved = ToVector<uint8_t>(d["solved"], "solved", "b");
    const auto rng = ToVector<uint64_t>(d["rng"], "rng", "u");
    if (rng.size() != 2) throw std::invalid_argument("rng must hold 2 values");
    s.rng_key = rng[0];
    s.rng_counter = rng[1];
    auto lock = LockWithoutGil(mu_);
    core_.SetState(s);
  }

 private:
  py::array_t<double> Copy(const std::vector<double>& (drats::GapSampler::*get)() const) {
    auto lock = LockWithoutGil(mu_);
    std::vector<double> v = (core_.*get)();
    const auto n = static_cast<py::ssize_t>(v.size());
    return Adopt(std::move(v), {n});
  }

  drats::GapSampler core_;
  std::mutex mu_;
};

}  // namespace

void BindGapSampler(py::module_& m) {
  py::class_<PySampler>(m, "GapSampler")
      .def(py::init([](int64_t num_tasks, double eta, double step_size, double eps,
                       std::vector<double> targets, bool adaptive_target, int64_t success_window,
                       double success_threshold, uint64_t seed, const std::string& gap) {
             return new PySampler(drats::GapSamplerConfig{
                 num_tasks, eta, step_size, eps, std::move(targets), adaptive_target,
                 success_window, success_threshold, seed, GapKindOf(gap)});
           }),
           py::arg("num_tasks"), py::arg("eta"), py::arg("step_size"), py::arg("eps"),
           py::arg("targets"), py::arg("adaptive_target"), py::arg("success_window"),
           py::arg("success_threshold"), py::arg("seed"), py::arg("gap") = "target")
      .def("sample", &PySampler::Sample, py::arg("n"))
      .def("observe", &PySampler::Observe, py::arg("task_ids"), py::arg("returns"),
           py::arg("successes"))
      .def("update", &PySampler::Update)
      .def_property_readonly("probs", &PySampler::Probs)
      .def_property_readonly("gaps", &PySampler::Gaps)
      .def_property_readonly("targets", &PySampler::Targets)
      .def("get_state", &PySampler::GetState)
      .def("set_state", &PySampler::SetState, py::arg("state"));
}

}  // namespace drats::bindings
