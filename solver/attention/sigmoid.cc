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
// softmax kernel does, and sigma(z) = e^{-|z|} / (1 + e^{-|z|}) for z < 0,
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
#include "attention/exponential_kernel.h"
#include "attention/simd_exp.h"

#include <tbb/blocked_range.h>
#include <tbb/cache_aligned_allocator.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpde::attention
{

  namespace
  {
    // As in softmax.cc: lanes fixed in the source (same summation order for
    // every instruction set), two-level sums for long source lists.
    constexpr std::size_t source_lanes    = 8;
    constexpr std::size_t summation_chunk = 512;

    using AlignedVector = std::vector<double, tbb::cache_aligned_allocator<double>>;

    /// Sources with positive weight in structure-of-arrays form, padded to a
    /// multiple of source_lanes with zero weight (and y = 0).
    template <int dim>
    struct SourceArrays
    {
      std::size_t   n_padded = 0;
      AlignedVector coordinate[dim];    // y
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

#define TPDE_ATTENTION_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

    /// sum_j u_j sigma(<a, y_j> + bias) y_j for one target (u = relative weights).
    template <int dim>
    TPDE_ATTENTION_CLONES void sigmoid_sums(const SourceArrays<dim> &sources,
                                            const double             a[dim],
                                            double                   bias,
                                            double                   sum[dim])
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

      static_assert(source_lanes == 8, "pairwise lane sum written for 8 lanes");
      for (int i = 0; i < dim; ++i)
        {
          const double *lane = total[i];
          sum[i]             = ((lane[0] + lane[4]) + (lane[2] + lane[6])) +
                   ((lane[1] + lane[5]) + (lane[3] + lane[7]));
        }
    }

#undef TPDE_ATTENTION_CLONES

    template <int dim>
    class SigmoidKernel : public Kernel
    {
    public:
      explicit SigmoidKernel(const Parameters &parameters)
          : bias(parameters.bias)
      {
        // A = beta K^T Q in long double, so that a = A x is rounded only once.
        for (int p = 0; p < dim; ++p)
          for (int q = 0; q < dim; ++q)
            {
              long double sum = 0;
              for (std::size_t r = 0; r < parameters.Q.rows; ++r)
                sum += static_cast<long double>(parameters.K(r, p)) * parameters.Q(r, q);
              A[p][q] = sum * parameters.beta;
            }
        for (int p = 0; p < dim; ++p)
          for (int q = 0; q < dim; ++q)
            V[p][q] = parameters.V(p, q);
      }

      unsigned int dimension() const override { return dim; }

      void evaluate(std::size_t   n_targets,
                    const double *targets,
                    std::size_t   n_sources,
                    const double *sources,
                    const double *weights,
                    double       *velocities) const override
      {
        if (n_targets == 0)
          return;
        for (std::size_t k = 0; k < n_targets * dim; ++k)
          if (!std::isfinite(targets[k]))
            throw std::invalid_argument("sigmoid attention: target coordinates must be finite");
        const SourceArrays<dim> source_arrays = make_source_arrays(n_sources, sources, weights);

        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_targets),
                          [&](const tbb::blocked_range<std::size_t> &range) {
                            for (std::size_t t = range.begin(); t != range.end(); ++t)
                              evaluate_target(
                                targets + t * dim, source_arrays, velocities + t * dim);
                          });
      }

    private:
      long double A[dim][dim];
      double      V[dim][dim];
      double      bias;

      static SourceArrays<dim>
      make_source_arrays(std::size_t n_sources, const double *sources, const double *weights)
      {
        double      maximum_weight = 0.;
        std::size_t n_used         = 0;
        for (std::size_t j = 0; j < n_sources; ++j)
          {
            if (!(weights[j] >= 0.) || !std::isfinite(weights[j]))
              throw std::invalid_argument("sigmoid attention: source weights must be finite and "
                                          "non-negative, got " +
                                          std::to_string(weights[j]) + " for source " +
                                          std::to_string(j));
            maximum_weight = std::max(maximum_weight, weights[j]);
            if (weights[j] > 0.)
              {
                ++n_used;
                for (int i = 0; i < dim; ++i)
                  if (!std::isfinite(sources[j * dim + i]))
                    throw std::invalid_argument(
                      "sigmoid attention: source coordinates must be finite");
              }
          }
        if (!(maximum_weight > 0.))
          throw std::invalid_argument(
            "sigmoid attention: the total source weight must be positive");

        SourceArrays<dim> result;
        result.n_padded = (n_used + source_lanes - 1) / source_lanes * source_lanes;
        for (int i = 0; i < dim; ++i)
          result.coordinate[i].assign(result.n_padded, 0.);
        result.relative_weight.assign(result.n_padded, 0.);
        long double total = 0;
        std::size_t k     = 0;
        for (std::size_t j = 0; j < n_sources; ++j)
          if (weights[j] > 0.)
            {
              for (int i = 0; i < dim; ++i)
                result.coordinate[i][k] = sources[j * dim + i];
              // Relative to the largest weight: no overflow or underflow of
              // w sigma y whatever the scale of the weights.
              result.relative_weight[k] = weights[j] / maximum_weight;
              total += result.relative_weight[k];
              ++k;
            }
        result.total_relative = static_cast<double>(total);
        return result;
      }

      void
      evaluate_target(const double *x, const SourceArrays<dim> &sources, double *velocity) const
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
        for (int p = 0; p < dim; ++p)
          {
            double v = 0.;
            for (int q = 0; q < dim; ++q)
              v += V[p][q] * mean[q];
            velocity[p] = v;
          }
      }
    };

    std::unique_ptr<Kernel> create_sigmoid_kernel(const Parameters &parameters)
    {
      check_attention_parameters("sigmoid", parameters);
      if (!std::isfinite(parameters.bias))
        {
          std::ostringstream text;
          text << "bias must be finite, got " << parameters.bias;
          throw std::invalid_argument(text.str());
        }
      switch (parameters.dim)
        {
          case 1:
            return std::make_unique<SigmoidKernel<1>>(parameters);
          case 2:
            return std::make_unique<SigmoidKernel<2>>(parameters);
          default:
            return std::make_unique<SigmoidKernel<3>>(parameters);
        }
    }
  } // namespace

  Variant make_sigmoid_variant()
  {
    return {"sigmoid",
            "Sigmoid self-attention: X(x) = V * sum_j w_j sigma(beta <Qx, K y_j> + b) y_j / "
            "sum_j w_j with sigma(z) = 1 / (1 + exp(-z)) and b = bias, the integral of "
            "sigma(beta <Qx, Ky> + b) V y against the token probability measure (no softmax "
            "normalisation). Q and K are k x d for any k >= 1 (same shape), V is d x d, beta "
            "and bias are any finite numbers (d = 1, 2 or 3). Overflow-safe sigma.",
            create_sigmoid_kernel};
  }
} // namespace tpde::attention
