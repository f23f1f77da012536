// Sinkhorn attention (Sinkformer; physics.md §1.5):
//
//   X(x) = V sum_j w_j pi(x, y_j) y_j / W,   W = sum_j w_j,
//   pi(x, y) = exp((c(x, y) + f(x) + g(y)) / epsilon),   c(x, y) = beta <Qx, Ky>,
//
// where pi is the entropic optimal-transport plan of the token probability
// measure mu = sum_j (w_j / W) delta_{y_j} with itself: both marginals of pi
// against mu are 1. With beta = 1 this is physics.md §1.5 (the paper's code
// has epsilon = 1); the plan depends on beta / epsilon only.
//
// Parameters: Q and K (k x d, the same shape, any k >= 1), V (d x d), beta
// (finite), sinkhorn epsilon > 0 (temperature), sinkhorn tolerance > 0 (on
// the marginals, max-norm, relative to 1) and sinkhorn maximum iterations;
// d = 1, 2, 3.
//
// Evaluation, once per call (once per Runge-Kutta stage on the grid):
//  1. Two-sided log-domain Sinkhorn on the sources (sinkhorn.h): alternate
//     f <- row formula, g <- column formula until the column marginals are
//     within the tolerance (the row marginals are exact by construction, and
//     the row formula is what extends f to any target). It starts from the
//     previous call's g when the sources are the same points as then (the
//     stages of a step, and the steps between two mesh adaptations), and from
//     g = 0 otherwise. Failing to reach the tolerance within the maximum
//     number of iterations is an error (a physical failure of the run).
//  2. Velocity at the targets (which need not be sources): with f from the
//     row formula, X(x) = V sum_j p_j e^{c(x, y_j)/eps + g_j} y_j /
//     sum_j p_j e^{c(x, y_j)/eps + g_j}, i.e. softmax attention with
//     A = (beta / epsilon) K^T Q and the re-weighted sources p_j e^{g_j},
//     evaluated by create_exponential_kernel (direct or fast summation as
//     the `evaluation` entry says). Re-weighted sources below 1e-323 of the
//     largest underflow to 0 and are dropped.
// diagnostics(): sinkhorn_iterations and sinkhorn_marginal_error of the last
// evaluation, sinkhorn_max_marginal_error over all evaluations so far. The
// warm start and these figures are state kept by evaluate(): one kernel
// object must not be evaluated from two threads at once.
//
// Fast sums (`evaluation = fast`, or auto where fast_summation_pays, with
// the potentials' tolerance and auto's node allowance): every log-sum-exp of an iteration is
// interpolated in score space by the fast summation (fast_summation.h) with
// an absolute error bound of tolerance / 4 on the potentials; the reported
// marginal error is the one measured with these sums plus the bound of their
// errors (solve() says why), so the 1e-12 marginal test keeps its meaning.
// Auto bounds the node grids as the exponential kernels do.
//
// Direct sums: the iterations cost O(N^2) exponentials each, like one kernel evaluation
// with N targets. The log-sum-exp sweeps below are vectorised like the
// softmax kernel's (fixed 8-lane groups, two-level sums, simd exp, clones
// per instruction set) and threaded over the queries; each sum runs in one
// fixed order, so the result does not depend on the number of threads. Each
// log-sum-exp is shifted by the previous iteration's value when that keeps
// the exponentials in range, which saves the sweep for the maximum (~20%).
// Scores are formed in double (absolute error ~1e-16 |score|), which bounds
// the reachable marginal error at ~1e-14 for scores of size ~100.
#include "attention/sinkhorn.h"

#include "attention/exponential_kernel.h"
#include "attention/fast_summation.h"
#include "attention/simd_exp.h"
#include "common/symmetric_eigen.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpde::attention
{
  namespace
  {
    constexpr std::size_t lanes = source_lanes;

    /// The sources with positive weight, padded with log-weight -inf (an
    /// exponential of 0).
    template <int dim>
    struct KeyArrays : PackedSources<dim>
    {
      AlignedVector log_weight; // set before each sweep
    };

    /// max_j <a, y_j> + l_j over the keys.
    template <int dim>
    TPDE_ATTENTION_CLONES double maximum_score(const KeyArrays<dim> &keys, const double a[dim])
    {
      const double *__restrict log_weight = keys.log_weight.data();
      const double *__restrict y[dim];
      for (int i = 0; i < dim; ++i)
        y[i] = keys.coordinate[i].data();
      alignas(64) double lane_maximum[lanes];
      std::fill(lane_maximum, lane_maximum + lanes, -std::numeric_limits<double>::infinity());
      for (std::size_t j0 = 0; j0 < keys.n_padded; j0 += lanes)
#pragma GCC unroll 1
        for (std::size_t l = 0; l < lanes; ++l)
          {
            double score = log_weight[j0 + l];
            for (int i = 0; i < dim; ++i)
              score = a[i] * y[i][j0 + l] + score;
            lane_maximum[l] = score > lane_maximum[l] ? score : lane_maximum[l];
          }
      return *std::max_element(lane_maximum, lane_maximum + lanes);
    }

    /// sum_j exp(<a, y_j> + l_j - shift) over the keys; `largest` gets the
    /// largest exponent <a, y_j> + l_j - shift (the sum is only accurate if
    /// it is <= 709, see simd_exp.h).
    template <int dim>
    TPDE_ATTENTION_CLONES double
    shifted_exponential_sum(const KeyArrays<dim> &keys, const double a[dim], double shift, double &largest)
    {
      const double *__restrict log_weight = keys.log_weight.data();
      const double *__restrict y[dim];
      for (int i = 0; i < dim; ++i)
        y[i] = keys.coordinate[i].data();
      alignas(64) double total[lanes]        = {};
      alignas(64) double lane_maximum[lanes];
      std::fill(lane_maximum, lane_maximum + lanes, -std::numeric_limits<double>::infinity());
      for (std::size_t chunk = 0; chunk < keys.n_padded; chunk += summation_chunk)
        {
          const std::size_t  chunk_end    = std::min(chunk + summation_chunk, keys.n_padded);
          alignas(64) double part[lanes] = {};
          for (std::size_t j0 = chunk; j0 < chunk_end; j0 += lanes)
            for (std::size_t l = 0; l < lanes; ++l)
              {
                double score = log_weight[j0 + l] - shift;
                for (int i = 0; i < dim; ++i)
                  score = a[i] * y[i][j0 + l] + score;
                lane_maximum[l] = score > lane_maximum[l] ? score : lane_maximum[l];
                part[l] += simd::exp_nonpositive(score);
              }
          for (std::size_t l = 0; l < lanes; ++l)
            total[l] += part[l];
        }
      largest = *std::max_element(lane_maximum, lane_maximum + lanes);
      return pairwise_sum(total);
    }

    /// log sum_j exp(<a, y_j> + l_j). `hint` (finite, or NaN for none) is a
    /// guess of the result, e.g. the previous iteration's: used as the shift
    /// it saves the sweep for the maximum. Accepted when the largest shifted
    /// exponent lies in [-600, 600]: no term overflows (N e^600 is far below
    /// the double range) and the terms flushed to 0 (exponents < -708) are
    /// below e^-108 of the largest. Otherwise the shift is the maximum.
    template <int dim>
    double log_sum_exp(const KeyArrays<dim> &keys, const double a[dim], double hint)
    {
      double largest;
      if (std::isfinite(hint))
        {
          const double sum = shifted_exponential_sum<dim>(keys, a, hint, largest);
          if (largest >= -600. && largest <= 600.)
            return hint + std::log(sum);
        }
      const double shift = maximum_score<dim>(keys, a);
      return shift + std::log(shifted_exponential_sum<dim>(keys, a, shift, largest));
    }

    /// result[q] = -log sum_j exp(<B x_q, y_j> + l_j) for the query points
    /// x_q (rows of `queries`, which is n_queries x dim); -hints[q] guesses
    /// result[q] (hints may be nullptr).
    template <int dim>
    void negative_log_sum_exp(const KeyArrays<dim> &keys,
                              const double          B[dim][dim],
                              std::size_t           n_queries,
                              const double         *queries,
                              const double         *hints,
                              double               *result)
    {
      parallel_for_each(
        n_queries,
        [&](std::size_t q) {
          double a[dim];
          multiply<dim>(B, queries + q * dim, a);
          const double hint = hints ? -hints[q] : std::numeric_limits<double>::quiet_NaN();
          result[q]         = -log_sum_exp<dim>(keys, a, hint);
        },
        16);
    }

    /// The first `count` keys of `keys` listed in `subset` (all if null),
    /// packed again.
    template <int dim>
    KeyArrays<dim> select_keys(const KeyArrays<dim>           &keys,
                               std::size_t                     count,
                               const std::vector<std::size_t> *subset)
    {
      const std::size_t n = subset ? subset->size() : count;
      KeyArrays<dim>    selected;
      selected.n_padded = padded_size(n, lanes);
      for (int i = 0; i < dim; ++i)
        selected.coordinate[i].assign(selected.n_padded, 0.);
      selected.log_weight.assign(selected.n_padded, -std::numeric_limits<double>::infinity());
      for (std::size_t k = 0; k < n; ++k)
        {
          const std::size_t j = subset ? (*subset)[k] : k;
          for (int i = 0; i < dim; ++i)
            selected.coordinate[i][k] = keys.coordinate[i][j];
          selected.log_weight[k] = keys.log_weight[j];
        }
      return selected;
    }

    /// negative_log_sum_exp by the fast summation: L(a) = log sum_j
    /// exp(<a, y_j> + l_j) interpolated in a = B x with absolute error <=
    /// tolerance (ExponentialSum::absolute_error; q = V (...) with V = 0).
    /// The first m keys are the sources. False (result untouched) if it gave
    /// up after max_interactions exact interactions.
    template <int dim>
    bool fast_negative_log_sum_exp(const KeyArrays<dim> &keys,
                                   std::size_t           m,
                                   const double          B[dim][dim],
                                   std::size_t           n_queries,
                                   const double         *queries,
                                   double                tolerance,
                                   double                max_interactions,
                                   double                node_allowance,
                                   double               *result)
    {
      std::vector<double> score_vectors(n_queries * dim), coordinates(m * dim);
      for (std::size_t q = 0; q < n_queries; ++q)
        multiply<dim>(B, queries + q * dim, &score_vectors[q * dim]);
      for (std::size_t j = 0; j < m; ++j)
        for (int i = 0; i < dim; ++i)
          coordinates[j * dim + i] = keys.coordinate[i][j];
      const double         zero_matrix[dim * dim] = {};
      fast::ExponentialSum sum;
      sum.dim            = dim;
      sum.log_scale      = true;
      sum.absolute_error = true;
      sum.n_sources      = m;
      sum.coordinate     = coordinates.data();
      sum.log_weight     = keys.log_weight.data();
      sum.V              = zero_matrix;
      sum.evaluate       = [&](std::size_t                      n_points,
                         const double                    *points,
                         const std::vector<std::size_t> *subset,
                         double                          *values) {
        const KeyArrays<dim> selected = select_keys<dim>(keys, m, subset);
        parallel_for_each(
          n_points,
          [&](std::size_t p) {
            std::fill(values + p * (dim + 1), values + p * (dim + 1) + dim, 0.);
            values[p * (dim + 1) + dim] = log_sum_exp<dim>(
              selected, points + p * dim, std::numeric_limits<double>::quiet_NaN());
          },
          16);
      };
      std::vector<double> values(n_queries * (dim + 1));
      if (fast::interpolate(
            sum, n_queries, score_vectors.data(), tolerance, values.data(), max_interactions, node_allowance)
            .abandoned)
        return false;
      for (std::size_t q = 0; q < n_queries; ++q)
        result[q] = -values[q * (dim + 1) + dim];
      return true;
    }

    /// What solve_sinkhorn was asked, checked.
    struct SinkhornProblem
    {
      Sources                    sources;
      const Matrix              &score_matrix;
      double                     tolerance;
      unsigned int               max_iterations;
      const std::vector<double> &initial_potential;
      SinkhornSummation          summation;
    };

    /// The two sums of every iteration, fast or direct (SinkhornSummation).
    template <int dim>
    struct IterationSums
    {
      const KeyArrays<dim> &keys;
      std::size_t           m;
      double                potential_tolerance;
      double                max_interactions; // per query
      double                node_allowance;   // per query
      bool                  fast;

      /// negative_log_sum_exp, by the fast summation while it pays.
      void operator()(const double B[dim][dim],
                      std::size_t  n_queries,
                      const double *queries,
                      const double *hints,
                      double       *result)
      {
        if (fast && fast_negative_log_sum_exp<dim>(keys,
                                                   m,
                                                   B,
                                                   n_queries,
                                                   queries,
                                                   potential_tolerance,
                                                   max_interactions * static_cast<double>(n_queries),
                                                   node_allowance * static_cast<double>(n_queries),
                                                   result))
          return;
        fast = false; // gave up: direct for the rest of the solve
        negative_log_sum_exp<dim>(keys, B, n_queries, queries, hints, result);
      }
    };

    template <int dim>
    SinkhornSolution solve(const SinkhornProblem &problem)
    {
      const std::size_t n_sources = problem.sources.n;
      const double     *sources   = problem.sources.points;
      const double     *weights   = problem.sources.weights;

      // The sources in use (p_j > 0), as queries (row-major) and as keys.
      KeyArrays<dim> keys{pack_sources<dim>(problem.sources, lanes), {}};
      const std::vector<std::size_t> &used = keys.index;
      const std::size_t               m    = used.size();
      std::vector<double>             used_points(m * dim), log_probability(m);
      const double log_total = static_cast<double>(std::log(problem.sources.total_weight));
      keys.log_weight.assign(keys.n_padded, -std::numeric_limits<double>::infinity());
      for (std::size_t k = 0; k < m; ++k)
        {
          for (int i = 0; i < dim; ++i)
            used_points[k * dim + i] = sources[used[k] * dim + i];
          log_probability[k] = std::log(weights[used[k]]) - log_total;
        }

      // s(x, y) = <S x, y>: rows update with S (query x), columns with S^T.
      double S[dim][dim], St[dim][dim];
      for (int p = 0; p < dim; ++p)
        for (int r = 0; r < dim; ++r)
          {
            S[p][r]  = problem.score_matrix(p, r);
            St[r][p] = problem.score_matrix(p, r);
          }

      SinkhornSolution solution;
      solution.potential = problem.initial_potential.size() == n_sources ?
                             problem.initial_potential :
                             std::vector<double>(n_sources, 0.);
      // Fast sums: each potential within tau = tolerance / 4 (absolute). The
      // marginal test measures r_j = |expm1(g_j - g_j(new))|; the exact
      // column marginal of g (f from g by the exact row formula, as the
      // velocity uses it) is exp(g_j - T(g)_j) with T the exact update, and
      // g(new) differs from T(g) by at most 2 tau: tau from the column sum
      // itself plus the row sum's tau, which log-sum-exp passes on with
      // Lipschitz constant 1 in the max norm. So the exact marginal error is
      // at most r + 2 tau (to first order), which is what is reported and
      // tested against the tolerance: the fast iterations stop at r <=
      // tolerance / 2. A smaller tau would cost more boxes and degrees; a
      // larger one more iterations (the residual must go further down).
      const double potential_tolerance = 0.25 * problem.tolerance;
      const double fast_error_bound    = problem.summation.fast ? 2. * potential_tolerance : 0.;
      IterationSums<dim> sums{keys,
                              m,
                              potential_tolerance,
                              problem.summation.max_fraction * static_cast<double>(m),
                              problem.summation.node_fraction * static_cast<double>(m),
                              problem.summation.fast};
      // The previous iteration's potentials guess the next ones (log_sum_exp).
      std::vector<double> row_potential(m, std::numeric_limits<double>::quiet_NaN());
      std::vector<double> next_potential(n_sources);
      solution.marginal_error = std::numeric_limits<double>::infinity();
      while (solution.iterations < problem.max_iterations)
        {
          ++solution.iterations;
          for (std::size_t k = 0; k < m; ++k)
            keys.log_weight[k] = solution.potential[used[k]] + log_probability[k];
          const bool fast_iteration = sums.fast;
          sums(S, m, used_points.data(), row_potential.data(), row_potential.data());
          for (std::size_t k = 0; k < m; ++k)
            keys.log_weight[k] = row_potential[k] + log_probability[k];
          sums(St, n_sources, sources, solution.potential.data(), next_potential.data());
          // Column j's marginal under (f, g) is exp(g_j - g_j(new)).
          double error = 0;
          for (std::size_t k = 0; k < m; ++k)
            error = std::max(
              error, std::abs(std::expm1(solution.potential[used[k]] - next_potential[used[k]])));
          solution.fast           = sums.fast;
          solution.marginal_error = std::isnan(error) ? std::numeric_limits<double>::infinity() :
                                                        error + (fast_iteration ? fast_error_bound : 0.);
          if (solution.marginal_error <= problem.tolerance)
            break;
          solution.potential.swap(next_potential);
        }
      return solution;
    }

    class SinkhornKernel : public CheckedKernel
    {
    public:
      explicit SinkhornKernel(const Parameters &parameters)
        : CheckedKernel("sinkhorn", parameters.dim)
        , tolerance(parameters.sinkhorn_tolerance)
        , max_iterations(parameters.sinkhorn_max_iterations)
        , score_matrix((parameters.beta / parameters.sinkhorn_epsilon) *
                       (transpose(parameters.K) * parameters.Q))
        , velocity_kernel(create_exponential_kernel(
            "sinkhorn", parameters, parameters.beta / parameters.sinkhorn_epsilon, 0., true))
        , evaluation(parameters.evaluation)
      {}

      std::vector<std::pair<std::string, double>> diagnostics() const override
      {
        return {{"sinkhorn_iterations", last_iterations},
                {"sinkhorn_marginal_error", last_marginal_error},
                {"sinkhorn_max_marginal_error", max_marginal_error}};
      }

    protected:
      void evaluate_checked(const Targets &targets,
                            const Sources &checked,
                            double        *velocities) const override
      {
        const std::size_t n_sources = checked.n;
        const double     *sources = checked.points, *weights = checked.weights;
        const bool        same_sources =
          previous_sources.size() == n_sources * point_dimension &&
          std::memcmp(previous_sources.data(), sources, n_sources * point_dimension * sizeof(double)) == 0;
        if (!same_sources)
          {
            previous_sources.assign(sources, sources + n_sources * point_dimension);
            potential.clear(); // cold start
          }
        const SinkhornSolution solution = solve_sinkhorn(point_dimension,
                                                         n_sources,
                                                         sources,
                                                         weights,
                                                         score_matrix,
                                                         tolerance,
                                                         max_iterations,
                                                         potential,
                                                         iteration_summation(checked.n_used));
        last_iterations     = solution.iterations;
        last_marginal_error = solution.marginal_error;
        max_marginal_error  = std::max(max_marginal_error, solution.marginal_error);
        if (!(solution.marginal_error <= tolerance))
          {
            potential.clear();
            std::ostringstream text;
            text << "sinkhorn attention: marginal error " << solution.marginal_error << " after "
                 << solution.iterations << " iterations, above the tolerance " << tolerance
                 << " (raise 'sinkhorn maximum iterations' or 'sinkhorn tolerance')";
            throw std::invalid_argument(text.str());
          }
        potential = solution.potential;

        // Re-weighted sources p_j e^{g_j}, scaled by the largest.
        double              largest = -std::numeric_limits<double>::infinity();
        std::vector<double> reweighted(n_sources, 0.);
        for (std::size_t j = 0; j < n_sources; ++j)
          if (weights[j] > 0.)
            largest = std::max(largest, std::log(weights[j]) + potential[j]);
        for (std::size_t j = 0; j < n_sources; ++j)
          if (weights[j] > 0.)
            reweighted[j] = std::exp(std::log(weights[j]) + potential[j] - largest);
        velocity_kernel->evaluate(
          targets.n, targets.points, n_sources, sources, reweighted.data(), velocities);
      }

    private:
      /// The iterations' sums as `evaluation` says: fast always with fast,
      /// with auto where the fast summation pays (the rule of the
      /// exponential kernels, exponential_kernel.h, for the potentials'
      /// tolerance), direct otherwise.
      SinkhornSummation iteration_summation(std::size_t n_used) const
      {
        SinkhornSummation summation;
        if (evaluation == Parameters::Evaluation::fast)
          summation.fast = true;
        else if (evaluation == Parameters::Evaluation::automatic &&
                 fast_summation_pays(n_used, n_used, 0.25 * tolerance))
          {
            summation.fast          = true;
            summation.node_fraction = fast_summation_node_fraction;
          }
        return summation;
      }

      double                  tolerance;
      unsigned int            max_iterations;
      Matrix                  score_matrix; // (beta / epsilon) K^T Q
      std::unique_ptr<Kernel> velocity_kernel;
      Parameters::Evaluation  evaluation; // of the iterations' sums (iteration_summation)

      // Warm start: the last call's sources and converged g.
      mutable std::vector<double> previous_sources;
      mutable std::vector<double> potential;
      mutable double last_iterations     = std::numeric_limits<double>::quiet_NaN();
      mutable double last_marginal_error = std::numeric_limits<double>::quiet_NaN();
      mutable double max_marginal_error  = 0.;
    };
  } // namespace

  SinkhornSolution solve_sinkhorn(unsigned int               dim,
                                  std::size_t                n_sources,
                                  const double              *sources,
                                  const double              *weights,
                                  const Matrix              &score_matrix,
                                  double                     tolerance,
                                  unsigned int               max_iterations,
                                  const std::vector<double> &initial_potential,
                                  const SinkhornSummation   &summation)
  {
    if (score_matrix.rows != dim || score_matrix.cols != dim)
      throw std::invalid_argument("solve_sinkhorn: the score matrix must be dim x dim");
    if (dim < 1 || dim > 3)
      throw std::invalid_argument("solve_sinkhorn: dim must be 1, 2 or 3");
    // Zero-weight sources get potentials too, so all coordinates must be finite.
    const SinkhornProblem problem{
      check_sources("sinkhorn", dim, n_sources, sources, weights, true),
      score_matrix,
      tolerance,
      max_iterations,
      initial_potential,
      summation};
    return dim == 1 ? solve<1>(problem) : dim == 2 ? solve<2>(problem) : solve<3>(problem);
  }

  namespace
  {
    /// The moment model (physics.md §2.5): X(x) = V (alpha + Gamma (x - alpha)), so
    ///   alpha' = V alpha,  Sigma' = B Sigma + Sigma B^T,  B = V Gamma.
    MomentDerivative make_sinkhorn_moments(const Parameters &p)
    {
      check_moment_parameters("sinkhorn", p);
      if (!(p.sinkhorn_epsilon > 0 && std::isfinite(p.sinkhorn_epsilon)))
        throw std::invalid_argument("Gaussian reference 'sinkhorn': epsilon must be finite and > 0");
      const Parameters parameters = p;
      return [parameters](const GaussianState &s) {
        const Matrix B      = parameters.V * sinkhorn_regression_matrix(s.covariance, parameters);
        const Matrix BSigma = B * s.covariance;
        return GaussianState{parameters.V * s.mean, BSigma + transpose(BSigma)};
      };
    }
  } // namespace

  Matrix sinkhorn_regression_matrix(const Matrix &Sigma, const Parameters &p)
  {
    // The plan is the Gaussian with covariance [Sigma, C; C^T, Sigma] whose
    // precision has the off-diagonal block -M, M = (beta / eps) Q^T K. With
    // D = Sigma^{-1/2} C Sigma^{-1/2} that reads D (I - D^T D)^{-1} = N,
    // N = Sigma^{1/2} M Sigma^{1/2}, solved (||D|| < 1) by D = N F with
    // F = 2 (I + (I + 4 N^T N)^{1/2})^{-1}. Gamma = C^T Sigma^{-1} =
    // Sigma^{1/2} F Sigma^{1/2} M^T: no inverse of Sigma or of M is needed.
    const Matrix M = (p.beta / p.sinkhorn_epsilon) * (transpose(p.Q) * p.K);
    const Matrix R = symmetric_square_root(Sigma);
    const Matrix N = R * M * R;
    const Matrix I = Matrix::identity(Sigma.rows);
    const Matrix F = 2. * inverse(I + symmetric_square_root(I + 4. * (transpose(N) * N)));
    return R * F * R * transpose(M);
  }

  Variant make_sinkhorn_variant()
  {
    Variant variant{"sinkhorn",
            "Sinkhorn attention (Sinkformer): X(x) = V sum_j w_j pi(x, y_j) y_j / sum_j w_j, "
            "pi = exp((beta <Qx, Ky> + f(x) + g(y)) / epsilon) the entropic optimal-transport "
            "plan of the token distribution with itself (both marginals 1). Q and K are k x d "
            "(same shape, any k >= 1), V is d x d, beta finite, 'sinkhorn epsilon' > 0; "
            "log-domain Sinkhorn iterations to 'sinkhorn tolerance' on both marginals (at most "
            "'sinkhorn maximum iterations', else the run fails), warm-started from the previous "
            "evaluation on the same mesh (d = 1, 2 or 3).",
            [](const Parameters &parameters) -> std::unique_ptr<Kernel> {
              check_attention_parameters("sinkhorn", parameters);
              std::ostringstream text;
              if (!(parameters.sinkhorn_epsilon > 0.) || !std::isfinite(parameters.sinkhorn_epsilon))
                text << "entry 'sinkhorn epsilon': expected a finite number > 0, got "
                     << parameters.sinkhorn_epsilon;
              else if (!(parameters.sinkhorn_tolerance > 0.))
                text << "entry 'sinkhorn tolerance': expected a number > 0, got "
                     << parameters.sinkhorn_tolerance;
              else if (parameters.sinkhorn_max_iterations < 1)
                text << "entry 'sinkhorn maximum iterations': expected at least 1";
              if (!text.str().empty())
                throw std::invalid_argument(text.str());
              return std::make_unique<SinkhornKernel>(parameters);
            }};
    Capabilities &can = variant.capabilities;
    can.moment_model      = make_sinkhorn_moments;
    can.fast_summation    = true; // the iterations' sums and the velocity sum
    can.float_exponential = true; // the velocity sum only (the iterations stay in double)
    variant.declare_entries = [](EntryDeclarations &entries) {
      entries.declare("sinkhorn epsilon", "1", EntryPattern::real(),
                      "sinkhorn: temperature epsilon > 0 of the plan exp((beta <Qx,Ky> + f(x) + g(y)) / epsilon).");
      entries.declare("sinkhorn tolerance", "1e-12", EntryPattern::real(),
                      "sinkhorn: iterate until both marginals of the plan are within this of 1 (max norm) at every "
                      "evaluation.");
      entries.declare("sinkhorn maximum iterations", "1000", EntryPattern::integer(1),
                      "sinkhorn: iterations allowed per evaluation; not converging is a physical failure (exit "
                      "code 3).");
    };
    variant.read_entries = [](const EntryReader &r, Parameters &p) {
      p.sinkhorn_epsilon        = r.real("sinkhorn epsilon");
      p.sinkhorn_tolerance      = r.real("sinkhorn tolerance");
      p.sinkhorn_max_iterations = r.integer("sinkhorn maximum iterations");
    };
    return variant;
  }
} // namespace tpde::attention
