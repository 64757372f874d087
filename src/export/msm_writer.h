#pragma once
// Torch-free writer for .msm models (docs/model-format.md).
//
// Build the graph from plain float arrays in PyTorch's layouts, then finish():
// the builder plans the activation memory offline (lifetime-based reuse,
// concatenations in place), packs conv weights, lays out aligned tensors and
// per-op weight ranges, computes both SHA-256 hashes and loads the result with
// the runtime's own verifier before returning it. Errors (shape mismatches,
// wrong array sizes, bad parameters) throw msprune::Error naming the op.
//
//   msprune::msm::Builder b(3, 32, 32, {0.4914f, 0.4822f, 0.4465f}, {0.247f, 0.243f, 0.261f});
//   auto x = b.input();
//   x = b.conv2d(x, 64, 3, 1, 1, w_oihw, bias, /*relu=*/true);   // BN folded: see fold_bn_into_conv
//   x = b.max_pool(x, 2, 2);
//   ...
//   x = b.global_avg_pool(x);
//   x = b.linear(x, 10, fc_w, fc_b);
//   std::vector<uint8_t> bytes = b.finish(x);
//
// PreResNet block:   t = b.affine(x, scale, shift, gather_idx, true)   (bn1 + select + relu)
//                    t = b.conv2d(t, ...) x3 (bn2/bn3 folded);  x = b.add(t, residual)
//                    (finish() fuses the add into the last conv before it)
// DenseNet layer:    n = b.conv2d(b.affine(x, s, t, idx, true), 12, 3, 1, 1, w, {}, false)
//                    x = b.concat({x, n})    // planned in place: n is written into x's buffer
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace msprune::msm {

// A handle to an activation in the graph being built.
struct Tensor {
  uint32_t id = UINT32_MAX;
  bool valid() const { return id != UINT32_MAX; }
};

struct Shape {
  int c = 0, h = 0, w = 0;
};

// Conv weight layout (docs/model-format.md): CONV_PACKED broadcasts one input
// channel against 16 output channels per vector (outputs padded to 16);
// CONV_QUAD broadcasts 4 input channels against 4 output channels (outputs and
// inputs padded to 4). kAuto picks per conv with prefer_quad_layout().
enum class ConvLayout { kAuto, kPacked, kQuad };

struct FinishOptions {
  int conv_block = 64;             // CONV_PACKED output-channel block (16, 32, 48 or 64)
  bool concat_in_place = true;     // plan concatenations as views of one buffer
  bool reuse_buffers = true;       // share arena bytes between buffers with disjoint lifetimes
  ConvLayout conv_layout = ConvLayout::kAuto;  // per conv: CONV_PACKED or CONV_QUAD
  // Fold an add into the conv that produces one of its operands (the conv's
  // residual input, format version 3) where that is exact: see finish().
  bool fuse_residual_add = true;
};

namespace detail {
struct OpNode {  // one op as recorded by the builder
  int type = 0;
  bool relu = false;
  std::vector<uint32_t> in;
  uint32_t out = 0;
  int p[3] = {0, 0, 0};
  std::vector<float> w0, w1;  // conv: OIHW weight, bias; affine: scale, shift; linear: W, b
  std::vector<uint32_t> index;
};
}  // namespace detail

class Builder {
 public:
  // The model input: channels (1..4) × height × width, with the per-channel
  // normalisation applied by the runtime's invoke_u8 ((v/255 - mean) / std).
  Builder(int channels, int height, int width, std::vector<float> mean, std::vector<float> std);

  Tensor input() const { return Tensor{0}; }
  Shape shape(Tensor t) const;
  int num_ops() const { return int(ops_.size()); }

  // K×K convolution (K = 1 or 3, stride 1 or 2, pad <= K/2). `weight` is
  // [out_channels][in_channels][K][K] (PyTorch OIHW); `bias` is empty or
  // [out_channels].
  Tensor conv2d(Tensor x, int out_channels, int kernel, int stride, int pad,
                std::span<const float> weight, std::span<const float> bias, bool relu);
  // y[c] = relu?(scale[c] * x[gather[c]] + shift[c]); `gather` empty = identity.
  Tensor affine(Tensor x, std::span<const float> scale, std::span<const float> shift,
                std::span<const uint32_t> gather, bool relu);
  Tensor max_pool(Tensor x, int kernel, int stride);
  Tensor avg_pool(Tensor x, int kernel, int stride);
  Tensor global_avg_pool(Tensor x);  // avg_pool with kernel = H = W (must be square)
  Tensor add(Tensor a, Tensor b, bool relu = false);
  // Channel concatenation of 2..4 parts (nest for more).
  Tensor concat(std::span<const Tensor> parts);
  Tensor concat(std::initializer_list<Tensor> parts) {
    return concat(std::span<const Tensor>(parts.begin(), parts.size()));
  }
  // On a 1×1 activation; `weight` is [out_features][in_features] (PyTorch).
  Tensor linear(Tensor x, int out_features, std::span<const float> weight,
                std::span<const float> bias);
  Tensor softmax(Tensor x);

  // Plans, lays out, hashes and verifies; `output` must be [classes, 1, 1].
  std::vector<uint8_t> finish(Tensor output, const FinishOptions& opts = {}) const;


 private:
  struct Act {
    Shape s;
    int producer = -1;  // op index, -1 for the input
  };
  Tensor push(int type, std::vector<uint32_t> in, Shape out, bool relu);
  const Act& act(Tensor t, const char* what) const;
  static void fuse_residual_adds(std::vector<Act>& acts, std::vector<detail::OpNode>& ops,
                                 Tensor& output);

  std::vector<Act> acts_;
  std::vector<detail::OpNode> ops_;
  int in_c_, in_h_, in_w_;
  std::vector<float> mean_, std_;
};

// --- helpers for exporters -------------------------------------------------

// Inference-mode BatchNorm parameters (PyTorch BatchNorm2d: weight, bias,
// running_mean, running_var, eps).
struct BatchNorm {
  std::span<const float> gamma, beta, mean, var;
  float eps = 1e-5f;
};

// Folds a BatchNorm that follows a convolution into it: weight[o] *= g[o],
// bias[o] = beta[o] + (bias[o] - mean[o]) * g[o], g = gamma / sqrt(var + eps).
// `bias` may be empty on entry (no conv bias); it is [O] on return.
void fold_bn_into_conv(std::vector<float>& weight_oihw, std::vector<float>& bias,
                       const BatchNorm& bn);

// BatchNorm as an affine: scale = g, shift = beta - mean * g. With `gather`,
// the arrays are reordered to the selected channels (for Builder::affine).
void bn_to_affine(const BatchNorm& bn, std::span<const uint32_t> gather, std::vector<float>& scale,
                  std::vector<float>& shift);

// The CONV_QUAD output-channel block the writer uses (one AVX-512 sub-block).
inline constexpr int kQuadBlock = 16;

// ConvLayout::kAuto's choice for a K×K conv with these channel counts: true
// for CONV_QUAD, false for CONV_PACKED (measured rule: docs/runtime.md).
bool prefer_quad_layout(int out_channels, int in_channels, int kernel);

// Indices of the non-zero entries of a 0/1 channel-selection mask.
std::vector<uint32_t> mask_to_indices(std::span<const float> mask);

}  // namespace msprune::msm
