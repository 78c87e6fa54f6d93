// The only file that knows about Python: converts arrays, checks their shapes and dtypes,
// serialises calls with a per-object mutex, releases the GIL around the O(batch) work and maps
// C++ exceptions onto drats.domain.errors.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "drats/drats_math.h"
#include "drats/errors.h"
#include "drats/gap_sampler.h"
#include "drats/per_task_replay.h"
#include "drats/sum_forest.h"

namespace py = pybind11;

namespace {

// A dtype that cannot be converted safely (maps to InvalidDtypeError).
class DtypeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

using Shape = std::vector<py::ssize_t>;

std::string ShapeStr(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// np.asarray(obj) with its dtype kind checked against `kinds` (e.g. "iu"), then converted to T.
template <typename T>
py::array_t<T, py::array::c_style> AsArray(const py::handle& obj, const char* name,
                                           const char* kinds) {
  // Fast path: already a C-contiguous array of T (what the trainers pass on every step).
  if (py::array_t<T, py::array::c_style>::check_(obj)) {
    return py::reinterpret_borrow<py::array_t<T, py::array::c_style>>(obj);
  }
  py::array a = py::array::ensure(obj);
  if (!a) throw DtypeError(std::string(name) + " must be array-like");
  const char kind = a.dtype().kind();
  if (std::string(kinds).find(kind) == std::string::npos) {
    throw DtypeError(std::string(name) + " has dtype " + std::string(py::str(a.dtype())) +
                     "; expected a dtype of kind '" + kinds + "'");
  }
  return py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
}

Shape Prepend(py::ssize_t n, const Shape& tail) {
  Shape s{n};
  s.insert(s.end(), tail.begin(), tail.end());
  return s;
}

// Checks that `a` has shape (n, *tail). Allocates nothing unless it throws: on the per-step
// calls (add of one vector step) building the shapes as vectors cost more than the copy.
template <typename T>
void CheckShape(const py::array_t<T, py::array::c_style>& a, py::ssize_t n, const Shape& tail,
                const char* name) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(tail.size()) + 1 && a.shape(0) == n;
  for (size_t i = 0; ok && i < tail.size(); ++i) ok = a.shape(i + 1) == tail[i];
  if (!ok) {
    throw std::invalid_argument(std::string(name) + " must have shape " +
                                ShapeStr(Prepend(n, tail)) + ", got " +
                                ShapeStr(Shape(a.shape(), a.shape() + a.ndim())));
  }
}

// Checks that `a` is 1-D of length n.
template <typename T>
void CheckShape(const py::array_t<T, py::array::c_style>& a, py::ssize_t n, const char* name) {
  static const Shape kNoTail;
  CheckShape(a, n, kNoTail, name);
}

// Moves a vector into a numpy array without copying (the array owns the vector).
template <typename T>
py::array_t<T> Adopt(std::vector<T>&& v, const Shape& shape) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owned->data(), free_when_done);
}

template <typename T>
std::vector<T> ToVector(const py::handle& obj, const char* name, const char* kinds) {
  auto a = AsArray<T>(obj, name, kinds);
  return std::vector<T>(a.data(), a.data() + a.size());
}

// Takes `mu` and returns with both it and the GIL held. No thread ever waits for the mutex
// while holding the GIL, which rules out deadlock: a free mutex is taken at once, a busy one
// is waited for with the GIL released.
std::unique_lock<std::mutex> LockWithoutGil(std::mutex& mu) {
  std::unique_lock<std::mutex> lock(mu, std::try_to_lock);  // never waits: safe with the GIL
  if (lock.owns_lock()) return lock;  // uncontended, the usual case: skip the GIL round trip
  py::gil_scoped_release release;
  lock.lock();
  return lock;
}

// Recycles the memory behind sampled batches. A batch is ~0.4 MB; allocating that afresh on
// every call lets glibc grow and trim the heap each time, and the page faults then cost more
// than the sampling itself (measured: 133 us instead of 37 us per 1280-row sample). A block
// returns here when the last array of its batch dies; at most kKeep blocks are kept.
class BlockPool : public std::enable_shared_from_this<BlockPool> {
 public:
  static constexpr size_t kKeep = 4;
  static constexpr std::align_val_t kAlign{64};  // each part of a batch starts on a cache line

  // A block of at least `bytes`, and a capsule that hands it back when released.
  std::pair<char*, py::capsule> Get(size_t bytes) {
    char* block = nullptr;
    size_t size = bytes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < free_.size(); ++i) {
        if (free_[i].second >= bytes) {
          block = free_[i].first;
          size = free_[i].second;
          free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
      }
    }
    if (block == nullptr) block = static_cast<char*>(::operator new(size, kAlign));
    auto* owner = new Lease{shared_from_this(), block, size};
    py::capsule capsule(owner, [](void* p) {
      auto* lease = static_cast<Lease*>(p);
      lease->pool->Put(lease->block, lease->size);
      delete lease;
    });
    return {block, std::move(capsule)};
  }

  ~BlockPool() {
    for (auto& [block, size] : free_) ::operator delete(block, kAlign);
  }

 private:
  struct Lease {
    std::shared_ptr<BlockPool> pool;
    char* block;
    size_t size;
  };

  void Put(char* block, size_t size) {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < kKeep) {
      free_.emplace_back(block, size);
    } else {
      ::operator delete(block, kAlign);
    }
  }

  std::mutex mu_;
  std::vector<std::pair<char*, size_t>> free_;
};

py::ssize_t Prod(const Shape& s) {
  py::ssize_t p = 1;
  for (auto d : s) p *= d;
  return p;
}

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

// The sum forest alone, bound so that tests can drive it operation by operation.
class PySumForest {
 public:
  PySumForest(int64_t num_trees, int64_t capacity) : forest_(num_trees, capacity) {}

  void Set(int64_t tree, int64_t i, double value) {
    CheckLeaf(tree, i);
    CheckValue(value);
    forest_.Set(tree, i, value);
  }
  void SetBatch(int64_t tree, const py::handle& slots_obj, const py::handle& values_obj) {
    auto slots = AsArray<int64_t>(slots_obj, "slots", "iu");
    auto values = AsArray<double>(values_obj, "values", "fiu");
    if (slots.ndim() != 1) throw std::invalid_argument("slots must be 1-D");
    CheckShape(values, slots.shape(0), "values");
    for (py::ssize_t j = 0; j < slots.size(); ++j) {
      CheckLeaf(tree, slots.data()[j]);
      CheckValue(values.data()[j]);
    }
    if (slots.size() == 0) CheckLeaf(tree, 0);
    forest_.SetBatch(tree, slots.data(), values.data(), slots.size());
  }
  double Get(int64_t tree, int64_t i) const {
    CheckLeaf(tree, i);
    return forest_.Get(tree, i);
  }
  double Total(int64_t tree) const {
    CheckLeaf(tree, 0);
    return forest_.total(tree);
  }
  int64_t Find(int64_t tree, double u) const {
    CheckQuery(tree, u);
    return forest_.Find(tree, u);
  }
  py::array_t<int64_t> FindStratified(const py::handle& counts_obj, const py::handle& u_obj) const {
    auto counts = AsArray<int64_t>(counts_obj, "counts", "iu");
    auto u = AsArray<double>(u_obj, "u", "fiu");
    CheckShape(counts, static_cast<py::ssize_t>(forest_.num_trees()), "counts");
    py::ssize_t n = 0;
    for (int64_t t = 0; t < forest_.num_trees(); ++t) n += counts.data()[t];
    CheckShape(u, n, "u");
    std::vector<int64_t> trees(n);
    for (int64_t t = 0, j = 0; t < forest_.num_trees(); ++t) {
      for (int64_t c = 0; c < counts.data()[t]; ++c, ++j) {
        CheckQuery(t, u.data()[j]);
        trees[j] = t;
      }
    }
    std::vector<double> scratch(u.data(), u.data() + u.size());
    py::array_t<int64_t> out(n);
    forest_.FindStratified(counts.data(), trees.data(), scratch.data(), out.mutable_data());
    return out;
  }
  py::array_t<int64_t> FindBatch(const py::handle& trees_obj, const py::handle& u_obj) const {
    auto trees = AsArray<int64_t>(trees_obj, "trees", "iu");
    auto u = AsArray<double>(u_obj, "u", "fiu");
    if (trees.ndim() != 1) throw std::invalid_argument("trees must be 1-D");
    CheckShape(u, trees.shape(0), "u");
    for (py::ssize_t j = 0; j < u.size(); ++j) CheckQuery(trees.data()[j], u.data()[j]);
    std::vector<double> scratch(u.data(), u.data() + u.size());
    py::array_t<int64_t> out(u.size());
    forest_.FindBatch(trees.data(), scratch.data(), u.size(), out.mutable_data());
    return out;
  }

 private:
  void CheckLeaf(int64_t tree, int64_t i) const {
    if (tree < 0 || tree >= forest_.num_trees()) throw std::out_of_range("tree out of range");
    if (i < 0 || i >= forest_.capacity()) throw std::out_of_range("leaf index out of range");
  }
  static void CheckValue(double value) {
    if (!(std::isfinite(value) && value >= 0.0)) {
      throw std::invalid_argument("value must be finite and >= 0");
    }
  }
  void CheckQuery(int64_t tree, double u) const {
    CheckLeaf(tree, 0);
    if (!(forest_.total(tree) > 0.0)) throw std::invalid_argument("the tree is empty (total 0)");
    if (!(std::isfinite(u) && u >= 0.0)) throw std::invalid_argument("u must be finite, >= 0");
  }

  drats::SumForest forest_;
};

void RaiseDratsError(const char* name, const char* what) {
  py::object cls = py::module_::import("drats.domain.errors").attr(name);
  PyErr_SetString(cls.ptr(), what);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "drats C++ core: per-task prioritized replay and gap-weighted task sampling";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const drats::ConfigError& e) {
      RaiseDratsError("ConfigError", e.what());
    } catch (const drats::EmptyTaskError& e) {
      RaiseDratsError("EmptyTaskError", e.what());
    } catch (const DtypeError& e) {
      RaiseDratsError("InvalidDtypeError", e.what());
    } catch (const std::out_of_range& e) {
      RaiseDratsError("UnknownTaskError", e.what());
    } catch (const std::invalid_argument& e) {
      RaiseDratsError("InvalidInputError", e.what());
    }
  });

  m.def(
      "project_floor",
      [](const std::vector<double>& z, double eps) { return drats::ProjectFloor(z, eps); },
      py::arg("z"), py::arg("eps"));
  m.def(
      "mirror_ascent_step",
      [](const std::vector<double>& q, const std::vector<double>& gaps, double eta,
         double step_size,
         double eps) { return drats::MirrorAscentStep(q, gaps, eta, step_size, eps); },
      py::arg("q"), py::arg("gaps"), py::arg("eta"), py::arg("step_size"), py::arg("eps"));

  py::class_<PySumForest>(m, "SumForest")
      .def(py::init<int64_t, int64_t>(), py::arg("num_trees"), py::arg("capacity"))
      .def("set", &PySumForest::Set, py::arg("tree"), py::arg("index"), py::arg("value"))
      .def("set_batch", &PySumForest::SetBatch, py::arg("tree"), py::arg("slots"),
           py::arg("values"))
      .def("get", &PySumForest::Get, py::arg("tree"), py::arg("index"))
      .def("total", &PySumForest::Total, py::arg("tree"))
      .def("find", &PySumForest::Find, py::arg("tree"), py::arg("u"))
      .def("find_batch", &PySumForest::FindBatch, py::arg("trees"), py::arg("u"))
      .def("find_stratified", &PySumForest::FindStratified, py::arg("counts"), py::arg("u"));

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

  py::class_<PySampler>(m, "GapSampler")
      .def(py::init([](int64_t num_tasks, double eta, double step_size, double eps,
                       std::vector<double> targets, bool adaptive_target, int64_t success_window,
                       double success_threshold, uint64_t seed) {
             return new PySampler(drats::GapSamplerConfig{num_tasks, eta, step_size, eps,
                                                          std::move(targets), adaptive_target,
                                                          success_window, success_threshold, seed});
           }),
           py::arg("num_tasks"), py::arg("eta"), py::arg("step_size"), py::arg("eps"),
           py::arg("targets"), py::arg("adaptive_target"), py::arg("success_window"),
           py::arg("success_threshold"), py::arg("seed"))
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
