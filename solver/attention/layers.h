// Depth-dependent weights (`subsection Layers`): the run is a stack of
// `count` layers, layer l (from 0) acting on [l tau, (l + 1) tau) with its own
// attention parameters; the last layer holds after count * tau (a run may be
// longer than the stack: the last layer is then repeated, as a one-layer run
// repeats its only layer today). count = 1 is the layer-free run.
//
// Layers is the one per-layer structure: today its attention parameters come
// from the '|'-separated entries of `subsection Attention`
// (attention_entries.h); a weights file or a feed-forward block per layer
// would fill or extend the same vector. LayeredKernel holds one kernel per
// layer (each built by the registry) and evaluates the selected one, so the
// grid and the particles switch layers by selecting, not by rebuilding.
// Plain C++, like the kernels.
#pragma once

#include "attention/attention.h"

#include <memory>
#include <string>
#include <vector>

namespace tpde::attention
{
  /// When each layer acts; nothing about what it does.
  struct LayerTimes
  {
    unsigned int count    = 1;
    double       duration = 1.; // tau; not used when count = 1

    /// The layer of a step that starts at t: layer l once t has reached
    /// l tau to a relative 1e-12 (the time steps land on the boundaries to
    /// round-off), at most count - 1 (the last layer holds).
    unsigned int layer_at(double t) const;
    /// The first boundary l tau (1 <= l < count) that t has not reached;
    /// +infinity if none.
    double next_boundary(double t) const;
    /// The boundaries l tau (1 <= l < count) before `end_time`.
    std::vector<double> boundaries(double end_time) const;
  };

  /// The per-layer parameters of a run.
  struct Layers : LayerTimes
  {
    /// One per layer (size count); attention[0] is also Parameters::attention.
    std::vector<Parameters> attention;
  };

  /// `subsection Layers`: count and duration.
  void declare_layer_entries(EntryDeclarations &entries);
  /// Reads count and duration (attention is filled by read_layered_entries).
  LayerTimes read_layer_times(const EntryReader &r);

  /// One kernel per layer; evaluate() and diagnostics() are the selected one's.
  class LayeredKernel : public Kernel
  {
  public:
    /// `kernels` non-empty, all of one dimension.
    explicit LayeredKernel(std::vector<std::unique_ptr<Kernel>> kernels);

    /// Selects layer `layer` (clamped to the last); returns whether it changed.
    bool         select(unsigned int layer);
    unsigned int selected() const { return current; }
    unsigned int layers() const { return static_cast<unsigned int>(kernels.size()); }

    unsigned int dimension() const override { return kernels[current]->dimension(); }
    void evaluate(std::size_t n_targets, const double *targets, std::size_t n_sources, const double *sources,
                  const double *weights, double *velocities) const override
    {
      kernels[current]->evaluate(n_targets, targets, n_sources, sources, weights, velocities);
    }
    /// The diagnostics of every layer under one fixed list of names (the
    /// statistics header is built once): the selected layer's values, NaN for
    /// the names only other layers report (e.g. a circle layer off the Fourier path).
    std::vector<std::pair<std::string, double>> diagnostics() const override;
    bool uses_source_lines() const override { return kernels[current]->uses_source_lines(); }
    void evaluate_on_lines(std::size_t n_targets, const double *targets, std::size_t n_sources, const double *sources,
                           const double *weights, const SourceLines &lines, double *velocities) const override
    {
      kernels[current]->evaluate_on_lines(n_targets, targets, n_sources, sources, weights, lines, velocities);
    }

  private:
    std::vector<std::unique_ptr<Kernel>> kernels;
    unsigned int                         current = 0;
    std::vector<std::string>             diagnostic_names; // of all layers, in order of first appearance
  };
} // namespace tpde::attention
