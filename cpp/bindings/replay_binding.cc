#include "bindings/replay_binding.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bindings/block_pool.h"
#include "bindings/gil_lock.h"
#include "bindings/numpy_io.h"
#include "drats/per_task_replay.h"

namespace drats::bindings {
namespace {

class PyReplay {
 public:
  PyReplay(int64_t num_tasks, int64_t capacity, Shape obs_shape, Shape action_shape, double alpha,
           uint64_t seed)
      : core_(drats::ReplayConfig{num_tasks, capacity, Prod(obs_shape), Prod(action_shape), alpha,
                                  seed}),
        obs_shape_(std::move(obs_shape)),
        action_shape_(std::move(action_shape)) {}

  void Add(const py::handle& task_ids, const py::handle& obs, const py::handle& actions,
           const py::handle& rewards, const py::handle& next_obs, const py::handle& terminated) {
    auto ids = AsArray<int64_t>(task_ids, "task_ids", "iu");
    if (ids.ndim() != 1) {
      throw std::invalid_argument("task_ids must be 1-D, got " + std::to_string(ids.ndim()) +
                                  " dimensions");
    }
    const py::ssize_t n = ids.shape(0);
    auto o = AsArray<float>(obs, "obs", "fiub");
    auto a = AsArray<float>(actions, "actions", "fiub");
    auto r = AsArray<float>(rewards, "rewards", "fiub");
    auto no = AsArray<float>(next_obs, "next_obs", "fiub");
    auto d = AsArray<float>(terminated, "terminated", "fiub");
    CheckShape(o, n, obs_shape_, "obs");
    CheckShape(a, n, action_shape_, "actions");
    CheckShape(r, n, "rewards");
    CheckShape(no, n, obs_shape_, "next_obs");
    CheckShape(d, n, "terminated");
    auto lock = LockWithoutGil(mu_);
    core_.Add(n, ids.data(), o.data(), a.data(), r.data(), no.data(), d.data());
  }

  py::tuple Sample(const py::handle& counts_obj, double beta) {
    auto counts = AsArray<int64_t>(counts_obj, "counts", "iu");
    CheckShape(counts, static_cast<py::ssize_t>(core_.config().num_tasks), "counts");
    auto lock = LockWithoutGil(mu_);
    const py::ssize_t b = core_.CheckCounts(counts.data());
    // All eight outputs in one recycled block, each part 64-byte aligned.
    const py::ssize_t od = Prod(obs_shape_), ad = Prod(action_shape_);
    const py::ssize_t floats[] = {b * od, b * ad, b, b * od, b, b};
    size_t bytes = 0;
    auto reserve = [&bytes](size_t n) {
      const size_t at = bytes;
      bytes += (n + 63) / 64 * 64;
      return at;
    };
    size_t at_f[6], at_i[2];
    for (int i = 0; i < 6; ++i) at_f[i] = reserve(floats[i] * sizeof(float));
    for (auto& at : at_i) at = reserve(b * sizeof(int64_t));
    auto [block, owner] = pool_->Get(bytes == 0 ? 64 : bytes);
    auto fview = [&, block = block, owner = owner](int i, const Shape& shape) {
      return py::array_t<float>(shape, reinterpret_cast<float*>(block + at_f[i]), owner);
    };
    auto iview = [&, block = block, owner = owner](int i) {
      return py::array_t<int64_t>({b}, reinterpret_cast<int64_t*>(block + at_i[i]), owner);
    };
    py::array_t<float> obs = fview(0, Prepend(b, obs_shape_)),
                       actions = fview(1, Prepend(b, action_shape_)), rewards = fview(2, {b}),
                       next_obs = fview(3, Prepend(b, obs_shape_)), terminated = fview(4, {b}),
                       weights = fview(5, {b});
    py::array_t<int64_t> task_ids = iview(0), indices = iview(1);
    const drats::SampleOutput out{obs.mutable_data(),        actions.mutable_data(),
                                  rewards.mutable_data(),    next_obs.mutable_data(),
                                  terminated.mutable_data(), task_ids.mutable_data(),
                                  indices.mutable_data(),    weights.mutable_data()};
    {
      py::gil_scoped_release release;
      core_.Sample(counts.data(), beta, out);
    }
    return py::make_tuple(obs, actions, rewards, next_obs, terminated, task_ids, indices, weights);
  }

  void UpdatePriorities(const py::handle& indices_obj, const py::handle& priorities_obj) {
    auto idx = AsArray<int64_t>(indices_obj, "indices", "iu");
    auto pri = AsArray<double>(priorities_obj, "priorities", "fiub");
    if (idx.ndim() != 1) throw std::invalid_argument("indices must be 1-D");
    CheckShape(pri, idx.shape(0), "priorities");
    auto lock = LockWithoutGil(mu_);
    core_.UpdatePriorities(idx.shape(0), idx.data(), pri.data());
  }

  int64_t Size(int64_t task) {
    auto lock = LockWithoutGil(mu_);
    return core_.size(task);
  }

  py::array_t<int64_t> Sizes() {
    auto lock = LockWithoutGil(mu_);
    std::vector<int64_t> s = core_.sizes();
    const auto k = static_cast<py::ssize_t>(s.size());
    return Adopt(std::move(s), {k});
  }

  int64_t Len() {
    auto lock = LockWithoutGil(mu_);
    return core_.total_size();
  }

  py::dict GetState() {
    auto lock = LockWithoutGil(mu_);
    drats::ReplayState s;
    {
      py::gil_scoped_release release;
      s = core_.GetState();
    }
    const auto k = static_cast<py::ssize_t>(core_.config().num_tasks);
    const auto cap = static_cast<py::ssize_t>(core_.config().capacity_per_task);
    Shape rows_obs{k, cap}, rows_act{k, cap};
    rows_obs.insert(rows_obs.end(), obs_shape_.begin(), obs_shape_.end());
    rows_act.insert(rows_act.end(), action_shape_.begin(), action_shape_.end());
    py::dict d;
    d["obs"] = Adopt(std::move(s.obs), rows_obs);
    d["actions"] = Adopt(std::move(s.actions), rows_act);
    d["rewards"] = Adopt(std::move(s.rewards), {k, cap});
    d["next_obs"] = Adopt(std::move(s.next_obs), rows_obs);
    d["terminated"] = Adopt(std::move(s.terminated), {k, cap});
    d["priorities"] = Adopt(std::move(s.priorities), {k, cap});
    d["positions"] = Adopt(std::move(s.positions), {k});
    d["sizes"] = Adopt(std::move(s.sizes), {k});
    d["max_priority"] = Adopt(std::move(s.max_priority), {k});
    d["rng"] = Adopt(std::vector<uint64_t>{s.rng_key, s.rng_counter}, {2});
    return d;
  }

  void SetState(const py::dict& d) {
    drats::ReplayState s;
    s.obs = ToVector<float>(d["obs"], "obs", "f");
    s.actions = ToVector<float>(d["actions"], "actions", "f");
    s.rewards = ToVector<float>(d["rewards"], "rewards", "f");
    s.next_obs = ToVector<float>(d["next_obs"], "next_obs", "f");
    s.terminated = ToVector<float>(d["terminated"], "terminated", "f");
    s.priorities = ToVector<double>(d["priorities"], "priorities", "f");
    s.positions = ToVector<int64_t>(d["positions"], "positions", "iu");
    s.sizes = ToVector<int64_t>(d["sizes"], "sizes", "iu");
    s.max_priority = ToVector<double>(d["max_priority"], "max_priority", "f");
    const auto rng = ToVector<uint64_t>(d["rng"], "rng", "u");
    if (rng.size() != 2) throw std::invalid_argument("rng must hold 2 values");
    s.rng_key = rng[0];
    s.rng_counter = rng[1];
    auto lock = LockWithoutGil(mu_);
    py::gil_scoped_release release;
    core_.SetState(s);
  }

 private:
  drats::PerTaskReplay core_;
  Shape obs_shape_, action_shape_;
  std::mutex mu_;
  std::shared_ptr<BlockPool> pool_ = std::make_shared<BlockPool>();
};

}  // namespace

void BindReplay(py::module_& m) {
  py::class_<PyReplay>(m, "PerTaskReplay")
      .def(py::init<int64_t, int64_t, Shape, Shape, double, uint64_t>(), py::arg("num_tasks"),
           py::arg("capacity_per_task"), py::arg("obs_shape"), py::arg("action_shape"),
           py::arg("alpha"), py::arg("seed"))
      .def("add", &PyReplay::Add, py::arg("task_ids"), py::arg("obs"), py::arg("actions"),
           py::arg("rewards"), py::arg("next_obs"), py::arg("terminated"))
      .def("sample", &PyReplay::Sample, py::arg("counts"), py::arg("beta"))
      .def("update_priorities", &PyReplay::UpdatePriorities, py::arg("indices"),
           py::arg("priorities"))
      .def("size", &PyReplay::Size, py::arg("task_id"))
      .def("sizes", &PyReplay::Sizes)
      .def("__len__", &PyReplay::Len)
      .def("get_state", &PyReplay::GetState)
      .def("set_state", &PyReplay::SetState, py::arg("state"));
}

}  // namespace drats::bindings
