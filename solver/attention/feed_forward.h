// Feed-forward blocks (`subsection Feed-forward`, issue 15): the local field a
// Transformer layer adds to the attention, F(x) = W2 sigma(W1 x + b1) + b2
// (mlp) or F(x) = A x + b (affine), one block per layer (subsection Layers).
//
// The field depends on the token only, so it is evaluated pointwise wherever
// the attention velocity is: LayeredKernel (layers.h) adds it to the
// attention's output at the kernel's targets, which are the grid's nodes and
// face points (dg/attention_field.h; with `face velocity = interpolated` the
// face values are the trace of the nodal sum, exact for affine blocks) and the
// tokens of the particle solver; one code path for both, and the grid's CFL
// step, computed from those velocities, includes the block.
//
// How the block and the attention share a layer's time [l tau, (l + 1) tau),
// with s = residual scale of layer l:
//   sum:   velocity = s (X_attention + F) throughout;
//   split: velocity = 2 s X_attention on the first half, 2 s F on the second,
//          so the layer maps the tokens by the F flow for time s tau after the
//          attention flow for time s tau (x + Attn(x), then + MLP(x), as the
//          residual stream does), and tends to sum as tau -> 0 (Lie splitting).
//          The time steps land on every half (LayerTimes::phases = 2); after
//          the last layer, its two halves repeat with period tau.
// The Gaussian references (reference/gaussian_reference.h) follow the same
// schedule; only affine blocks keep Gaussians Gaussian.
//
// The per-layer values are a plain struct filled by entry name (W1, b1, W2,
// b2, activation, A, b, residual scale), so a weights file can fill them too.
// Plain C++, like the kernels.
#pragma once

#include "attention/moment_model.h"
#include "common/matrix.h"
#include "common/parameter_entries.h"

#include <cstddef>
#include <vector>

namespace tpde::attention
{
  struct LayerTimes;

  /// One layer's block.
  struct FeedForward
  {
    enum class Type
    {
      none,
      mlp,
      affine
    };
    enum class Activation
    {
      relu,
      gelu, // x Phi(x), Phi the standard normal distribution function (the erf form)
      tanh
    };
    Type       type       = Type::none;
    Activation activation = Activation::tanh;
    Matrix              W1; // mlp: h x d
    std::vector<double> b1; // mlp: h
    Matrix              W2; // mlp: d x h
    std::vector<double> b2; // mlp: d
    Matrix              A;  // affine: d x d
    std::vector<double> b;  // affine: d
    double residual_scale = 1.; // multiplies the attention and the block (see above)

    /// velocities[i] += factor * F(x_i) for n points x (n x d, row-major).
    void add(std::size_t n, unsigned int dim, const double *x, double factor, double *velocities) const;

    /// The affine block's moment derivative on a Gaussian: (A m + b, A S + S A^T)
    /// times `factor` (type affine only).
    GaussianState moments(const GaussianState &state, double factor) const;
  };

  enum class Composition
  {
    sum,
    split
  };

  const Choices<FeedForward::Type> &feed_forward_types();
  const Choices<Composition>       &compositions();

  /// `subsection Feed-forward`.
  void declare_feed_forward_entries(EntryDeclarations &entries);
  /// Entries that may hold one value per layer: all but type and composition.
  bool feed_forward_per_layer(const std::string &entry);

  /// The blocks of a run (empty for type = none) and how they compose.
  struct FeedForwardStack
  {
    std::vector<FeedForward> blocks; // one per layer, or none
    Composition              composition = Composition::sum;
  };

  /// Reads the subsection for tokens of dimension `dim`, one block per layer of `times` ('|'-separated values as
  /// in subsection Attention). Shapes are checked against `dim`; messages name the layer when count > 1.
  FeedForwardStack read_feed_forward(const EntryReader &r, unsigned int dim, const LayerTimes &times);
} // namespace tpde::attention
