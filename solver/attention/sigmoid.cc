// Sigmoid self-attention (physics.md §1.6):
//
//   X(x) = V * sum_j w_j sigma(beta <Qx, K y_j> + b) y_j / W,   W = sum_j w_j,
//   sigma(z) = 1 / (1 + e^{-z}),
//
// i.e. the integral of sigma(beta <Qx, Ky> + b) V y against the probability
// measure mu = sum_j (w_j / W) delta_{y_j} (the particle form with the 1/n).
// There is no softmax normalisation; the weights sigma lie in (0, 1).
//
// Parameters: beta and the bias b = Parameters::bias (any finite numbers),
// Q and K (k x d, the same shape, any k >= 1), V (d x d); d = 1, 2, 3.
// Sources with w_j = 0 are ignored; W must be positive.
//
// Evaluation. sigma is bounded, so there is no log-sum-exp and no shift: with
// a = beta K^T Q x (long double, rounded once), each target sweeps the
// sources (structure of arrays, weights divided by the largest one) in
// fixed-width lane groups with per-lane partial sums in chunks, as the
// exponential kernels do (kernel_base.h), and sigma(z) = e^{-|z|} / (1 + e^{-|z|}) for z < 0,
// 1 / (1 + e^{-|z|}) otherwise, with the branch-free simd::exp_nonpositive,
// so it never overflows and keeps its relative accuracy in both tails.
// Targets are distributed with tbb::parallel_for; each target is summed in
// one fixed order, so results do not depend on the number of threads.
//
// Accuracy. The score z is formed in double, so each sigma carries a
// relative error of at most |dz| ~ 1e-16 (|b| + sum_i |a_i y_i|)
// (d log sigma / dz = 1 - sigma <= 1): ~1e-14 at scores of 50, growing
// linearly with the size of the scores. The exact coarse scores of
// softmax.cc would remove that; they are not used here because the
// kernel meets 1e-13 at the scores of interest without them.
#include "attention/kernel_base.h"
#include "attention/simd_exp.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace tpde::attention
{
  namespace
  {
    /// The sources with positive weight (padded with weight 0) and their
    /// weights relative to the largest one: no overflow or underflow of
    /// w sigma y whatever the scale of the weights.
    template <int dim>
    struct SigmoidSources : PackedSources<dim>
    {
      AlignedVector relative_weight;    // w / w_max, in (0, 1]
      double        total_relative = 0; // sum of relative_weight
    };

    /// sigma(z) for any z, without overflow, to a few ulp in both tails.
    inline double sigmoid(double z)
    {
      const double e = simd::exp_nonpositive(-std::abs(z)); // in (0, 1]
      const double r = 1. / (1. + e);
      // numerator = e if z < 0 (sign bit set), else 1; chosen with integer
      // masks so that GCC vectorises it (see simd_exp.h for why not ?:).
      std::uint64_t z_bits, e_bits, one_bits;
      const double  one = 1.;
      std::memcpy(&z_bits, &z, sizeof z_bits);
      std::memcpy(&e_bits, &e, sizeof e_bits);
      std::memcpy(&one_bits, &one, sizeof one_bits);
      const std::uint64_t negative       = std::uint64_t(0) - (z_bits >> 63);
      const std::uint64_t numerator_bits = (e_bits & negative) | (one_bits & ~negative);
      double              numerator;
      std::memcpy(&numerator, &numerator_bits, sizeof numerator);
      return numerator * r;
    }

    /// sum_j u_j sigma(<a, y_j> + bias) y_j for one target (u = relative weights).
    template <int dim>
    TPDE_ATTENTION_CLONES void sigmoid_sums(const SigmoidSources<dim> &sources,
                                            const double               a[dim],
                                            double                     bias,
                                            double                     sum[dim])
    {
      alignas(64) double total[dim][source_lanes] = {};

      const double *__restrict u = sources.relative_weight.data();
      const double *__restrict y[dim];
      for (int i = 0; i < dim; ++i)
        y[i] = sources.coordinate[i].data();

      for (std::size_t chunk = 0; chunk < sources.n_padded; chunk += summation_chunk)
        {
          const std::size_t  chunk_end = std::min(chunk + summation_chunk, sources.n_padded);
          alignas(64) double partial[dim][source_lanes] = {};
          for (std::size_t j0 = chunk; j0 < chunk_end; j0 += source_lanes)
            for (std::size_t l = 0; l < source_lanes; ++l)
              {
                const std::size_t j     = j0 + l;
                double            score = bias;
                for (int i = 0; i < dim; ++i)
                  score = a[i] * y[i][j] + score;
                const double weight = u[j] * sigmoid(score);
                for (int i = 0; i < dim; ++i)
                  partial[i][l] += weight * y[i][j];
              }
          for (int i = 0; i < dim; ++i)
            for (std::size_t l = 0; l < source_lanes; ++l)
              total[i][l] += partial[i][l];
        }

      for (int i = 0; i < dim; ++i)
        sum[i] = pairwise_sum(total[i]);
    }

    template <int dim>
    class SigmoidKernel : public CheckedKernel
    {
    public:
      explicit SigmoidKernel(const Parameters &parameters)
        : CheckedKernel("sigmoid", dim)
        , bias(parameters.bias)
      {
        score_matrix<dim>(parameters, parameters.beta, A);
        square_array<dim>(parameters.V, V);
      }

    protected:
      void evaluate_checked(const Targets &targets,
                            const Sources &sources,
                            double        *velocities) const override
      {
        if (targets.n == 0)
          return;
        SigmoidSources<dim> packed{pack_sources<dim>(sources, source_lanes), {}, 0.};
        packed.relative_weight.assign(packed.n_padded, 0.);
        long double total = 0;
        for (std::size_t k = 0; k < packed.index.size(); ++k)
          {
            packed.relative_weight[k] = sources.weights[packed.index[k]] / sources.maximum_weight;
            total += packed.relative_weight[k];
          }
        packed.total_relative = static_cast<double>(total);
        parallel_for_each(targets.n, [&](std::size_t t) {
          evaluate_target(targets.points + t * dim, packed, velocities + t * dim);
        });
      }

    private:
      long double A[dim][dim];
      double      V[dim][dim];
      double      bias;

      void
      evaluate_target(const double *x, const SigmoidSources<dim> &sources, double *velocity) const
      {
        double a[dim];
        for (int p = 0; p < dim; ++p)
          {
            long double sum = 0;
            for (int q = 0; q < dim; ++q)
              sum += A[p][q] * x[q];
            a[p] = static_cast<double>(sum);
          }
        double sum[dim];
        sigmoid_sums<dim>(sources, a, bias, sum);
        double mean[dim];
        for (int i = 0; i < dim; ++i)
          mean[i] = sum[i] / sources.total_relative;
        multiply<dim>(V, mean, velocity);
      }
    };

    std::unique_ptr<Kernel> create_sigmoid_kernel(const Parameters &parameters)
    {
      check_attention_parameters("sigmoid", parameters);
      check_finite_entry("bias", parameters.bias);
      return create_for_dimension<SigmoidKernel>(parameters.dim, parameters);
    }
  } // namespace

  Variant make_sigmoid_variant()
  {
    Variant variant{"sigmoid",
            "Sigmoid self-attention: X(x) = V * sum_j w_j sigma(beta <Qx, K y_j> + b) y_j / "
            "sum_j w_j with sigma(z) = 1 / (1 + exp(-z)) and b = bias, the integral of "
            "sigma(beta <Qx, Ky> + b) V y against the token probability measure (no softmax "
            "normalisation). Q and K are k x d for any k >= 1 (same shape), V is d x d, beta "
            "and bias are any finite numbers (d = 1, 2 or 3). Overflow-safe sigma.",
            create_sigmoid_kernel};
    variant.capabilities.masked_base = true;
    variant.declare_entries = [](EntryDeclarations &entries) {
      entries.declare("bias", "0", EntryPattern::real(),
                      "Bias b of sigmoid attention, sigma(beta <Qx, Ky> + b) (unused by the others).");
    };
    variant.read_entries = [](const EntryReader &r, Parameters &p) { p.bias = r.real("bias"); };
    return variant;
  }
} // namespace tpde::attention
