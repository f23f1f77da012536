// The attention interface: plain arrays in, velocities out.
//
// A kernel evaluates the mean-field attention velocity X[mu](x_i) at targets
// x_i for a discrete measure mu = sum_j w_j delta_{y_j}. On the grid, the y_j
// are the quadrature points of all cells and w_j = rho(y_j) JxW_j; in the
// particle solver they are the tokens with w_j = 1/N. Nothing here knows about
// deal.II, so kernels can be vectorised, benchmarked and reused.
//
// Adding a variant: write one file with a class derived from Kernel (usually
// CheckedKernel, kernel_base.h) and a function `Variant make_<name>_variant()`
// that also states the variant's Capabilities, and list that function once in
// registry.cc. Nothing else names variants: the grid, the references and the
// tests ask the registry.
#pragma once

#include "attention/moment_model.h"
#include "common/matrix.h"
#include "common/parameter_entries.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tpde::attention
{
  namespace fast
  {
    struct Collective; // fast_summation.h
  }

  /// Everything a variant may read from `subsection Attention`.
  struct Parameters
  {
    unsigned int dim  = 2;
    double       beta = 1.;
    double       bias = 0.; // sigmoid attention: sigma(beta <Qx, Ky> + bias)
    Matrix       Q; // k x dim
    Matrix       K; // k x dim
    Matrix       V; // dim x dim
    // How the exponential variants (softmax, l2, unnormalized; multihead per
    // head and sinkhorn's velocity, which use them; and sinkhorn's iterations) sum over the
    // sources: all pairs (direct), interpolation in score space to a
    // relative tolerance (fast, see fast_summation.h), or fast where it pays
    // (automatic, rule in exponential_kernel.h). Other variants are direct.
    enum class Evaluation
    {
      direct,
      fast,
      automatic
    };
    Evaluation evaluation = Evaluation::automatic;
    double     tolerance  = 1e-10; // fast: max |error| <= tolerance * max |velocity|
    // `exponential = float`: the direct sums of the exponential variants
    // evaluate exp in float (16 lanes per AVX-512 register) and accumulate
    // in double; relative error ~1e-7 instead of ~1e-15, for more speed.
    // The fast summation's exact evaluations stay in double (they must meet
    // the tolerance). See exponential_sums_float in softmax.cc.
    bool float_exponential = false;
    // `fast summation across ranks = distributed`: with evaluation = fast on
    // several MPI ranks, kernels that can (Kernel::sums_distributed_sources)
    // sum only each rank's own sources and combine node sums across ranks.
    bool distributed_sources = true;
    // multihead: X = sum_h C_h * (softmax mean of head h); see multihead.cc.
    struct Head
    {
      double beta = 1.;
      Matrix Q; // k_h x dim
      Matrix K; // k_h x dim
      Matrix C; // dim x dim, output-value matrix W_h^T V_h
    };
    std::vector<Head> heads;
    // sinkhorn: temperature, tolerance on both marginals, iteration cap; see sinkhorn.cc.
    double       sinkhorn_epsilon        = 1.;
    double       sinkhorn_tolerance      = 1e-12;
    unsigned int sinkhorn_max_iterations = 1000;
    // masked: the variant applied to the tokens at or before each position; see masked.cc.
    std::string masked_kernel = "softmax";
    // masked: lambda >= 0 of `Masked attention/positional decay` (set there for every layer).
    double positional_decay = 0.;
  };

  /// Sources that are the nodes of tensor-product cells, seen along
  /// coordinate 0: runs of `points_per_line` consecutive sources share all
  /// other coordinates and sit at reference_nodes[a] (in [0, 1], increasing)
  /// of their cell's extent [lower[l], upper[l]] in coordinate 0, line l
  /// being sources l * points_per_line ... The weights are density times the
  /// nodes' weights of that (interpolatory) rule. Only kernels that depend on
  /// where mass lies inside a cell along coordinate 0 use this (masked).
  struct SourceLines
  {
    unsigned int  points_per_line = 0;
    const double *reference_nodes = nullptr;
    const double *lower           = nullptr;
    const double *upper           = nullptr;
  };

  class Kernel
  {
  public:
    virtual ~Kernel() = default;

    virtual unsigned int dimension() const = 0;

    /// targets:    n_targets x dim, row-major
    /// sources:    n_sources x dim, row-major
    /// weights:    n_sources, non-negative (zero weights contribute nothing)
    /// velocities: n_targets x dim, row-major, overwritten
    /// The total source weight must be positive.
    virtual void evaluate(std::size_t   n_targets,
                          const double *targets,
                          std::size_t   n_sources,
                          const double *sources,
                          const double *weights,
                          double       *velocities) const = 0;

    /// Figures of the last evaluate() for statistics.csv, as (column name,
    /// value); the names never change between calls (values may be NaN before
    /// the first evaluation). Default: none.
    virtual std::vector<std::pair<std::string, double>> diagnostics() const { return {}; }

    /// A time step starts: until the next call, a kernel may reuse the
    /// choices made at the step's first evaluation for the step's later
    /// stages (auto's fast-or-direct plan, per target and source count).
    /// The time steppers call it before the velocity at the start of each
    /// step, which a resumed run evaluates too, so restarts choose alike;
    /// a kernel on which it is never called decides at every evaluation.
    /// Wrappers forward it to the kernels they hold.
    virtual void begin_step() const {}

    /// Whether evaluate_distributed() can take only this process's share of
    /// the sources (distributed fast summation, fast_summation.h).
    virtual bool sums_distributed_sources() const { return false; }

    /// evaluate() with the sources split among the processes of `collective`,
    /// which all call it together (same kernel, same order of calls); each
    /// passes its own targets and sources and gets the velocity of the sum
    /// over all processes' sources at its targets. Only where
    /// sums_distributed_sources().
    virtual void evaluate_distributed(std::size_t             n_targets,
                                      const double           *targets,
                                      std::size_t             n_sources,
                                      const double           *sources,
                                      const double           *weights,
                                      const fast::Collective &collective,
                                      double                 *velocities) const
    {
      (void)n_targets, (void)targets, (void)n_sources, (void)sources, (void)weights, (void)collective,
        (void)velocities;
      throw std::logic_error("evaluate_distributed: this kernel needs all sources on every process");
    }

    /// Whether evaluate_on_lines() needs the cell structure of the sources.
    virtual bool uses_source_lines() const { return false; }

    /// evaluate() for sources described by `lines`; the default ignores them.
    virtual void evaluate_on_lines(std::size_t        n_targets,
                                   const double      *targets,
                                   std::size_t        n_sources,
                                   const double      *sources,
                                   const double      *weights,
                                   const SourceLines &lines,
                                   double            *velocities) const
    {
      (void)lines;
      evaluate(n_targets, targets, n_sources, sources, weights, velocities);
    }
  };

  /// The log attention weight of a source at y for a query at x, up to terms
  /// that depend on x only: s(x, y) = <A x, y> + c |K y|^2. Softmax-type
  /// variants tilt the density by exp(s) (used by the mesh adaptation).
  struct ScoreForm
  {
    Matrix A;     // dim x dim
    Matrix KtK;   // K^T K, dim x dim
    double c = 0; // coefficient of |K y|^2
  };

  /// What the variant is, for the code that treats variants differently.
  struct Capabilities
  {
    /// The variant's ScoreForm for these parameters; null, or nothing
    /// returned, if its weights are not of that form.
    std::function<std::optional<ScoreForm>(const Parameters &)> score_form;
    /// The right-hand side of the moment ODE of a Gaussian (the velocity is
    /// affine on Gaussians, physics.md §2); null if there is none. Stated in
    /// the variant's file (moment_model.h); reference/gaussian_reference.h
    /// integrates it.
    std::function<MomentDerivative(const Parameters &)> moment_model;
    /// Whether it may be the base of masked attention (`masked kernel`).
    bool masked_base = false;
    /// Whether `evaluation = fast | automatic` can change how it sums.
    bool fast_summation = false;
    /// Whether `exponential = float` applies to its sums.
    bool float_exponential = false;
    /// Whether tokens carry their position s in the sequence: the mesh gets
    /// s in [0, 1] as its first coordinate, a frozen label (masked attention).
    bool positions = false;
  };

  struct Variant
  {
    std::string name;
    std::string documentation;
    /// Checks the shapes in `parameters` (throws std::invalid_argument naming
    /// the entry and what was expected) and builds the kernel.
    std::function<std::unique_ptr<Kernel>(const Parameters &)> create;
    Capabilities capabilities = {};
    /// The variant's own entries in `subsection Attention`, beside the shared
    /// ones (type, beta, Q, K, V, evaluation, ...; attention_entries.h);
    /// null: none. Names must differ from every other variant's.
    std::function<void(EntryDeclarations &)> declare_entries = {};
    /// Reads them into `parameters` (only for the variant chosen).
    std::function<void(const EntryReader &, Parameters &)> read_entries = {};
    /// Those of its entries whose values are lists separated by '|' (per
    /// head): their layers (subsection Layers) are separated by '||'.
    std::vector<std::string> list_entries = {};
  };

  /// All registered variants, in registration order.
  const std::vector<Variant> &variants();

  /// The registered variant `name`; throws std::invalid_argument naming the
  /// known variants otherwise.
  const Variant &find_variant(const std::string &name);

  /// find_variant(name).capabilities.score_form(parameters), nothing if the
  /// variant has none. Throws std::invalid_argument for an unknown name.
  std::optional<ScoreForm> score_form(const std::string &name, const Parameters &parameters);

  /// The names joined by '|', for parameter patterns.
  std::string variant_names();

  /// Builds the named variant; throws std::invalid_argument for an unknown
  /// name or inconsistent parameters.
  std::unique_ptr<Kernel> create(const std::string &name, const Parameters &parameters);
} // namespace tpde::attention
