// The forward pass of a multi-head ReLU MLP on float32 rows, for acting on the CPU: the
// network of drats.adapters.learners.torch_nets.MultiHeadMLP, whose numpy twin is
// drats.adapters.learners.numpy_forward.mlp_numpy.
//
// Layers l = 0..L-1 map h_{l+1} = h_l W_l^T + b_l, with ReLU after every layer but the last;
// the last layer has heads * head_dim outputs, and row i keeps the head_dim of its own task
// task_ids[i]. Weights come in torch's layout (weight[out, in], row-major) and are copied into
// panels of 16 output columns ([panel][in][16], zero-padded), the layout the kernel streams.
//
// Why a kernel of its own: acting runs the network on a few rows (one per environment slot),
// where a BLAS library's general matrix product reaches half the machine's multiply-add rate
// or less. Here each 16-column panel is swept once per block of 5 rows with 10 SIMD
// accumulators in registers (AVX + FMA, chosen at run time where the CPU has both), which
// keeps the multiply-add units busy on any number of rows. Elsewhere a portable loop does the
// same arithmetic without fused multiply-adds. Every output sums its inputs in index order,
// so a result depends only on the weights, the row and the kernel in use: not on the number
// of rows, the row's position or any thread count.
//
// Immutable after construction; Forward is thread safe.
#ifndef DRATS_MLP_FORWARD_H_
#define DRATS_MLP_FORWARD_H_

#include <cstdint>
#include <vector>

namespace drats {

// One layer, in torch's layout: weight[out * in] row-major, bias[out].
struct DenseLayerView {
  const float* weight;
  const float* bias;
  int64_t in;
  int64_t out;
};

class MlpForward {
 public:
  // Throws ConfigError unless there is at least one layer, every in and out is positive,
  // each layer's in is the previous layer's out, heads >= 1 and the last layer has a multiple
  // of heads outputs. `simd` false forces the portable loop (for tests and comparisons).
  MlpForward(const std::vector<DenseLayerView>& layers, int64_t heads, bool simd = true);

  int64_t in_dim() const { return layers_.front().in; }
  int64_t heads() const { return heads_; }
  int64_t head_dim() const { return layers_.back().out / heads_; }
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  // Whether the AVX + FMA kernel is in use.
  bool simd() const { return simd_; }

  // out[rows, head_dim] from x[rows, in_dim] (row-major). `task_ids` may be null with one
  // head (every row takes it). Throws, before writing anything, std::out_of_range if a task id
  // is outside [0, heads) and std::invalid_argument if it is null with more than one head.
  void Forward(const float* x, int64_t rows, const int64_t* task_ids, float* out) const;

  // Whether this CPU (and build) offers the AVX + FMA kernel.
  static bool CpuHasSimd();

 private:
  struct Layer {
    int64_t in = 0;
    int64_t out = 0;
    std::vector<float> panels;  // [ceil(out / 16)][in][16], zero beyond out
    std::vector<float> bias;    // [ceil(out / 16) * 16], zero beyond out
  };
  // y[rows, layer.out] = x[rows, layer.in] W^T + b (ReLU'd if relu), by row chunks.
  void Dense(const Layer& layer, const float* x, int64_t rows, bool relu, float* y) const;

  std::vector<Layer> layers_;
  int64_t heads_;
  bool simd_;
};

}  // namespace drats

#endif  // DRATS_MLP_FORWARD_H_
