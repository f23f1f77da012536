#include "attention/feed_forward.h"

#include "attention/layers.h"

#include <algorithm>
#include <cmath>

namespace tpde::attention
{
  namespace
  {
    double activate(FeedForward::Activation activation, double z)
    {
      switch (activation)
        {
          case FeedForward::Activation::relu:
            return z > 0 ? z : 0.;
          case FeedForward::Activation::gelu:
            return 0.5 * z * (1 + std::erf(z / std::sqrt(2.)));
          default:
            return std::tanh(z);
        }
    }

    const Choices<FeedForward::Activation> &activations()
    {
      static const Choices<FeedForward::Activation> all({
        {"relu", FeedForward::Activation::relu, "max(z, 0) (Lipschitz, not smooth: the grid's order drops at the "
                                                "kinks);"},
        {"gelu", FeedForward::Activation::gelu, "z Phi(z), Phi the standard normal distribution function (erf form);"},
        {"tanh", FeedForward::Activation::tanh, "tanh(z)."},
      });
      return all;
    }

    /// One layer's block, its shapes checked against d (the readers refuse
    /// numbers that are not finite, so the field is finite everywhere).
    FeedForward read_block(const EntryReader &r, unsigned int dim, FeedForward::Type type)
    {
      FeedForward block;
      block.type           = type;
      block.residual_scale = r.real("residual scale");
      const std::string d  = std::to_string(dim);
      const auto required  = [&](const std::string &entry, const std::string &shape) {
        if (r.is_empty(entry))
          r.fail(entry, "expected a matrix of shape " + shape + " (rows separated by ';') for type = " +
                          feed_forward_types().name_of(type) + ", got nothing");
        return r.matrix(entry);
      };
      if (type == FeedForward::Type::affine)
        {
          block.A = required("A", d + " x " + d);
          if (block.A.rows != dim || block.A.cols != dim)
            r.fail("A", "expected a " + d + " x " + d + " matrix (d = " + d + "), got " + matrix_shape(block.A));
          block.b = r.vector("b", dim);
          return block;
        }
      block.activation = r.choice("activation", activations());
      block.W1         = required("W1", "h x " + d);
      if (block.W1.cols != dim)
        r.fail("W1", "expected an h x " + d + " matrix (h hidden units, d = " + d + " columns), got " +
                       matrix_shape(block.W1));
      const std::string h = std::to_string(block.W1.rows);
      block.W2            = required("W2", d + " x " + h);
      if (block.W2.rows != dim || block.W2.cols != block.W1.rows)
        r.fail("W2", "expected a " + d + " x " + h + " matrix (d rows, h = " + h + " columns as W1 has rows), got " +
                       matrix_shape(block.W2));
      block.b1 = r.vector("b1", block.W1.rows);
      block.b2 = r.vector("b2", dim);
      return block;
    }
  } // namespace

  void FeedForward::add(std::size_t n, unsigned int dim, const double *x, double factor, double *velocities) const
  {
    if (type == Type::affine)
      {
        for (std::size_t i = 0; i < n; ++i)
          for (unsigned int a = 0; a < dim; ++a)
            {
              double sum = b[a];
              for (unsigned int c = 0; c < dim; ++c)
                sum += A(a, c) * x[i * dim + c];
              velocities[i * dim + a] += factor * sum;
            }
        return;
      }
    if (type != Type::mlp)
      return;
    const std::size_t   h = W1.rows;
    std::vector<double> hidden(h);
    for (std::size_t i = 0; i < n; ++i)
      {
        for (std::size_t k = 0; k < h; ++k)
          {
            double z = b1[k];
            for (unsigned int c = 0; c < dim; ++c)
              z += W1(k, c) * x[i * dim + c];
            hidden[k] = activate(activation, z);
          }
        for (unsigned int a = 0; a < dim; ++a)
          {
            double sum = b2[a];
            for (std::size_t k = 0; k < h; ++k)
              sum += W2(a, k) * hidden[k];
            velocities[i * dim + a] += factor * sum;
          }
      }
  }

  GaussianState FeedForward::moments(const GaussianState &state, double factor) const
  {
    // x' = A x + b moves the mean by A m + b and the covariance by A S + S A^T (exactly symmetric as M + M^T).
    GaussianState rate;
    rate.mean = A * state.mean;
    for (std::size_t a = 0; a < rate.mean.size(); ++a)
      rate.mean[a] = factor * (rate.mean[a] + b[a]);
    const Matrix M  = factor * (A * state.covariance);
    rate.covariance = M + transpose(M);
    return rate;
  }

  const Choices<FeedForward::Type> &feed_forward_types()
  {
    static const Choices<FeedForward::Type> all({
      {"none", FeedForward::Type::none, "attention only (the run as without this subsection);"},
      {"mlp", FeedForward::Type::mlp,
       "F(x) = W2 act(W1 x + b1) + b2 with h hidden units (W1 h x d, b1 h, W2 d x h, b2 d): no Gaussian "
       "reference (the ref_* columns are absent);"},
      {"affine", FeedForward::Type::affine,
       "F(x) = A x + b (A d x d, b d): Gaussians stay Gaussian, the references add A m + b to the mean's "
       "and A S + S A^T to the covariance's rate."},
    });
    return all;
  }

  const Choices<Composition> &compositions()
  {
    static const Choices<Composition> all({
      {"sum", Composition::sum, "velocity = s (attention + F) throughout each layer;"},
      {"split", Composition::split,
       "each layer [l tau, (l + 1) tau) is cut in halves: velocity 2 s attention on the first, 2 s F on the "
       "second, i.e. the attention flow for time s tau then the block's flow for time s tau, as the residual "
       "stream applies attention then the MLP (Lie splitting of sum). The steps land on every half; after "
       "Layers/count x tau the last layer's halves repeat with period tau (also with count = 1, which needs "
       "Layers/duration > 0)."},
    });
    return all;
  }

  void declare_feed_forward_entries(EntryDeclarations &entries)
  {
    entries.declare_choice("type", "none", feed_forward_types(),
                           "Feed-forward block added to the attention in every layer (subsection Layers), "
                           "evaluated pointwise at the grid's nodes and face points and at the tokens.");
    entries.declare_choice("composition", "sum", compositions(), "How block and attention share a layer's time.");
    entries.declare("residual scale", "1", EntryPattern::real(),
                    "s: multiplies the attention velocity and the block (type mlp or affine; 1 with type = none).");
    entries.declare_choice("activation", "tanh", activations(), "mlp: the activation act of every hidden unit.");
    entries.declare("W1", "", EntryPattern::anything(), "mlp: first weight matrix, h x d (any h >= 1).");
    entries.declare("b1", "0", EntryPattern::anything(), "mlp: first bias, h numbers (one stands for all).");
    entries.declare("W2", "", EntryPattern::anything(), "mlp: second weight matrix, d x h.");
    entries.declare("b2", "0", EntryPattern::anything(), "mlp: second bias, d numbers (one stands for all).");
    entries.declare("A", "", EntryPattern::anything(), "affine: the matrix of F(x) = A x + b, d x d.");
    entries.declare("b", "0", EntryPattern::anything(), "affine: the vector b, d numbers (one stands for all).");
  }

  bool feed_forward_per_layer(const std::string &entry)
  {
    return entry != "type" && entry != "composition";
  }

  FeedForwardStack read_feed_forward(const EntryReader &r, unsigned int dim, const LayerTimes &times)
  {
    FeedForwardStack  stack;
    const auto        type = r.choice("type", feed_forward_types());
    stack.composition      = r.choice("composition", compositions());
    EntryDeclarations declared;
    declare_feed_forward_entries(declared);
    const auto layers = layer_readers(r, declared, &feed_forward_per_layer,
                                      [](const std::string &) { return std::string("|"); }, times);
    if (type == FeedForward::Type::none)
      {
        for (const EntryReader &layer : layers)
          if (layer.real("residual scale") != 1.)
            layer.fail("residual scale", "expected 1 with type = none (no block), got " +
                                           layer.trimmed("residual scale"));
        return stack;
      }
    for (const EntryReader &layer : layers)
      stack.blocks.push_back(read_block(layer, dim, type));
    return stack;
  }
} // namespace tpde::attention
