#include "drats/mlp_forward.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "drats/errors.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define DRATS_MLP_SIMD 1
#include <immintrin.h>
#endif

namespace drats {

namespace {

constexpr int64_t kPanel = 16;  // output columns per panel: two 8-float SIMD registers
constexpr int kRows = 5;        // rows per block: 10 accumulators, 2 weights, 1 input
constexpr int64_t kChunk = 95;  // rows whose inputs stay in cache while the panels go past

// tile[r][j] = bias[j] + sum over k (in order) of row[r][k] * panel[k][j], for r < 5 and
// j < 16. Every row is read (the caller points unused ones at a valid row); the accumulators
// are named variables, not arrays, so that they stay in registers.
using BlockFn = void (*)(const float* const* row, const float* panel, int64_t in,
                         const float* bias, float* tile);

void BlockPortable(const float* const* row, const float* panel, int64_t in, const float* bias,
                   float* tile) {
  float a0[kPanel], a1[kPanel], a2[kPanel], a3[kPanel], a4[kPanel];
  for (int64_t j = 0; j < kPanel; ++j) a0[j] = a1[j] = a2[j] = a3[j] = a4[j] = bias[j];
  const float *x0 = row[0], *x1 = row[1], *x2 = row[2], *x3 = row[3], *x4 = row[4];
  for (int64_t k = 0; k < in; ++k) {
    const float* w = panel + k * kPanel;
    for (int64_t j = 0; j < kPanel; ++j) {
      a0[j] += x0[k] * w[j];
      a1[j] += x1[k] * w[j];
      a2[j] += x2[k] * w[j];
      a3[j] += x3[k] * w[j];
      a4[j] += x4[k] * w[j];
    }
  }
  const float* acc[kRows] = {a0, a1, a2, a3, a4};
  for (int r = 0; r < kRows; ++r) std::copy(acc[r], acc[r] + kPanel, tile + r * kPanel);
}

#if defined(DRATS_MLP_SIMD)
__attribute__((target("avx,fma"))) void BlockSimd(const float* const* row, const float* panel,
                                                  int64_t in, const float* bias, float* tile) {
  __m256 l0 = _mm256_loadu_ps(bias), h0 = _mm256_loadu_ps(bias + 8);
  __m256 l1 = l0, h1 = h0, l2 = l0, h2 = h0, l3 = l0, h3 = h0, l4 = l0, h4 = h0;
  const float *x0 = row[0], *x1 = row[1], *x2 = row[2], *x3 = row[3], *x4 = row[4];
  for (int64_t k = 0; k < in; ++k) {
    const __m256 wl = _mm256_loadu_ps(panel + k * kPanel);
    const __m256 wh = _mm256_loadu_ps(panel + k * kPanel + 8);
    __m256 x = _mm256_broadcast_ss(x0 + k);
    l0 = _mm256_fmadd_ps(x, wl, l0);
    h0 = _mm256_fmadd_ps(x, wh, h0);
    x = _mm256_broadcast_ss(x1 + k);
    l1 = _mm256_fmadd_ps(x, wl, l1);
    h1 = _mm256_fmadd_ps(x, wh, h1);
    x = _mm256_broadcast_ss(x2 + k);
    l2 = _mm256_fmadd_ps(x, wl, l2);
    h2 = _mm256_fmadd_ps(x, wh, h2);
    x = _mm256_broadcast_ss(x3 + k);
    l3 = _mm256_fmadd_ps(x, wl, l3);
    h3 = _mm256_fmadd_ps(x, wh, h3);
    x = _mm256_broadcast_ss(x4 + k);
    l4 = _mm256_fmadd_ps(x, wl, l4);
    h4 = _mm256_fmadd_ps(x, wh, h4);
  }
  const __m256 out[2 * kRows] = {l0, h0, l1, h1, l2, h2, l3, h3, l4, h4};
  for (int i = 0; i < 2 * kRows; ++i) _mm256_storeu_ps(tile + 8 * i, out[i]);
}
#endif

int64_t NumPanels(int64_t out) { return (out + kPanel - 1) / kPanel; }

}  // namespace

bool MlpForward::CpuHasSimd() {
#if defined(DRATS_MLP_SIMD)
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") && __builtin_cpu_supports("fma");
  }();
  return has;
#else
  return false;
#endif
}

MlpForward::MlpForward(const std::vector<DenseLayerView>& layers, int64_t heads, bool simd)
    : heads_(heads), simd_(simd && CpuHasSimd()) {
  if (layers.empty()) throw ConfigError("an MLP needs at least one layer");
  if (heads < 1) throw ConfigError("heads must be >= 1, got " + std::to_string(heads));
  for (size_t l = 0; l < layers.size(); ++l) {
    const DenseLayerView& v = layers[l];
    const std::string at = "layer " + std::to_string(l);
    if (v.in < 1 || v.out < 1) {
      throw ConfigError(at + " must have positive sizes, got in " + std::to_string(v.in) +
                        ", out " + std::to_string(v.out));
    }
    if (l > 0 && v.in != layers[l - 1].out) {
      throw ConfigError(at + " takes " + std::to_string(v.in) + " inputs but the layer before " +
                        "gives " + std::to_string(layers[l - 1].out));
    }
  }
  if (layers.back().out % heads != 0) {
    throw ConfigError("the last layer's " + std::to_string(layers.back().out) +
                      " outputs do not split into " + std::to_string(heads) + " heads");
  }
  layers_.reserve(layers.size());
  for (const DenseLayerView& v : layers) {
    Layer layer;
    layer.in = v.in;
    layer.out = v.out;
    const int64_t panels = NumPanels(v.out);
    layer.panels.assign(static_cast<size_t>(panels * v.in * kPanel), 0.0f);
    layer.bias.assign(static_cast<size_t>(panels * kPanel), 0.0f);
    for (int64_t o = 0; o < v.out; ++o) {
      float* column = layer.panels.data() + (o / kPanel) * v.in * kPanel + o % kPanel;
      for (int64_t k = 0; k < v.in; ++k) column[k * kPanel] = v.weight[o * v.in + k];
      layer.bias[o] = v.bias[o];
    }
    layers_.push_back(std::move(layer));
  }
}

void MlpForward::Dense(const Layer& layer, const float* x, int64_t rows, bool relu,
                       float* y) const {
#if defined(DRATS_MLP_SIMD)
  const BlockFn block = simd_ ? BlockSimd : BlockPortable;
#else
  const BlockFn block = BlockPortable;
#endif
  float tile[kRows * kPanel];
  const float* row[kRows];
  const int64_t panels = NumPanels(layer.out);
  for (int64_t c0 = 0; c0 < rows; c0 += kChunk) {
    const int64_t c1 = std::min(rows, c0 + kChunk);
    for (int64_t p = 0; p < panels; ++p) {
      const float* panel = layer.panels.data() + p * layer.in * kPanel;
      const int64_t col = p * kPanel;
      const int64_t cols = std::min(kPanel, layer.out - col);
      for (int64_t r = c0; r < c1; r += kRows) {
        const int n = static_cast<int>(std::min<int64_t>(kRows, c1 - r));
        for (int i = 0; i < kRows; ++i) row[i] = x + (r + (i < n ? i : 0)) * layer.in;
        block(row, panel, layer.in, layer.bias.data() + col, tile);
        for (int i = 0; i < n; ++i) {
          float* dst = y + (r + i) * layer.out + col;
          const float* src = tile + i * kPanel;
          for (int64_t j = 0; j < cols; ++j) {
            // std::max keeps a NaN (its first argument) as numpy's maximum does.
            dst[j] = relu ? std::max(src[j], 0.0f) : src[j];
          }
        }
      }
    }
  }
}

void MlpForward::Forward(const float* x, int64_t rows, const int64_t* task_ids,
                         float* out) const {
  if (task_ids == nullptr && heads_ > 1) {
    throw std::invalid_argument("task_ids are needed to pick among " + std::to_string(heads_) +
                                " heads");
  }
  for (int64_t i = 0; task_ids != nullptr && i < rows; ++i) {
    if (task_ids[i] < 0 || task_ids[i] >= heads_) {
      throw std::out_of_range("task_ids[" + std::to_string(i) + "] = " +
                              std::to_string(task_ids[i]) + " is outside [0, " +
                              std::to_string(heads_) + ")");
    }
  }
  if (rows <= 0) return;
  std::vector<float> a;
  std::vector<float> b;
  const float* h = x;
  const size_t last = layers_.size() - 1;
  for (size_t l = 0; l < last; ++l) {
    a.resize(static_cast<size_t>(rows * layers_[l].out));
    Dense(layers_[l], h, rows, true, a.data());
    a.swap(b);
    h = b.data();
  }
  const Layer& top = layers_[last];
  a.resize(static_cast<size_t>(rows * top.out));
  Dense(top, h, rows, false, a.data());
  const int64_t d = head_dim();
  for (int64_t i = 0; i < rows; ++i) {
    const float* src = a.data() + i * top.out + (task_ids == nullptr ? 0 : task_ids[i] * d);
    std::copy(src, src + d, out + i * d);
  }
}

}  // namespace drats
