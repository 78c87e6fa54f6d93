#include "bindings/gridworld_binding.h"

#include <pybind11/numpy.h>

#include <string>

#include "bindings/error_mapping.h"
#include "bindings/numpy_io.h"
#include "drats/gridworld.h"

namespace py = pybind11;

namespace drats::bindings {

namespace {

// `obj` as the C-contiguous, writeable T array it must already be (a converted copy would
// take the updates instead of the caller's array), of shape (n,).
template <typename T>
py::array_t<T, py::array::c_style> InPlace(const py::handle& obj, py::ssize_t n,
                                           const char* name) {
  if (!py::array_t<T, py::array::c_style>::check_(obj)) {
    throw DtypeError(std::string(name) + " must be a C-contiguous array of " +
                     std::string(py::str(py::dtype::of<T>())));
  }
  auto a = py::reinterpret_borrow<py::array_t<T, py::array::c_style>>(obj);
  if (!a.writeable()) throw std::invalid_argument(std::string(name) + " must be writeable");
  CheckShape(a, n, {}, name);
  return a;
}

py::tuple GridWorldStepBinding(const py::handle& next_obj, const py::handle& obs_obj,
                               int64_t goal_cell, int64_t horizon, double goal_reward,
                               double step_reward, const py::handle& cell_obj,
                               const py::handle& task_obj, const py::handle& steps_obj,
                               const py::handle& returns_obj, const py::handle& live_obj,
                               const py::handle& actions_obj) {
  auto next = AsArray<int64_t>(next_obj, "next", "i");
  auto table = AsArray<float>(obs_obj, "obs", "f");
  if (next.ndim() != 3 || table.ndim() != 3 || next.shape(0) != table.shape(0) ||
      next.shape(1) != table.shape(1) || next.shape(2) < 1) {
    throw std::invalid_argument("next must be int64[K, C, A] and obs float32[K, C, D]");
  }
  auto actions = AsArray<int64_t>(actions_obj, "actions", "iu");
  const py::ssize_t n = actions.ndim() == 1 ? actions.shape(0) : -1;
  CheckShape(actions, n, {}, "actions");
  auto cell = InPlace<int64_t>(cell_obj, n, "cell");
  auto task = InPlace<int64_t>(task_obj, n, "task");
  auto steps = InPlace<int64_t>(steps_obj, n, "steps");
  auto returns = InPlace<double>(returns_obj, n, "returns");
  auto live = InPlace<bool>(live_obj, n, "live");
  const GridTables tables{next.data(),    table.data(),   next.shape(0), next.shape(1),
                          next.shape(2),  table.shape(2), goal_cell,     horizon,
                          goal_reward,    step_reward};
  GridSlots slots{n, cell.mutable_data(), task.data(), steps.mutable_data(),
                  returns.mutable_data(), live.mutable_data()};
  py::array_t<float> obs({n, table.shape(2)});
  py::array_t<float> rewards(n);
  py::array_t<bool> terminated(n);
  py::array_t<bool> truncated(n);
  py::array_t<int64_t> ended(n);
  GridStepOut out{obs.mutable_data(), rewards.mutable_data(), terminated.mutable_data(),
                  truncated.mutable_data(), ended.mutable_data()};
  const int64_t count = GridWorldStep(tables, slots, actions.data(), out);
  ended.resize({count});
  return py::make_tuple(obs, rewards, terminated, truncated, ended);
}

}  // namespace

void BindGridWorld(py::module_& m) {
  m.def("gridworld_step", &GridWorldStepBinding, py::arg("next"), py::arg("obs"),
        py::arg("goal_cell"), py::arg("horizon"), py::arg("goal_reward"), py::arg("step_reward"),
        py::arg("cell"), py::arg("task"), py::arg("steps"), py::arg("returns"), py::arg("live"),
        py::arg("actions"));
}

}  // namespace drats::bindings
