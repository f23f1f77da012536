// Depth-dependent weights (`subsection Layers`): the run is a stack of
// `count` layers, layer l (from 0) acting on [l tau, (l + 1) tau) with its own
// attention parameters; the last layer holds after count * tau (a run may be
// longer than the stack: the last layer is then repeated, as a one-layer run
// repeats its only layer today). count = 1 is the layer-free run.
//
// Layers is the one per-layer structure: its attention parameters come from
// the '|'-separated entries of `subsection Attention` (attention_entries.h),
// its feed-forward blocks from `subsection Feed-forward` (feed_forward.h),
// both read by layer_readers(); a weights file would fill the same vectors.
// LayeredKernel holds one kernel per layer (each built by the registry) and
// evaluates the selected one, plus the selected layer's block, so the grid and
// the particles switch layers by selecting, not by rebuilding.
// Plain C++, like the kernels.
#pragma once

#include "attention/attention.h"
#include "attention/feed_forward.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tpde::attention
{
  /// When each layer acts; nothing about what it does.
  struct LayerTimes
  {
    unsigned int count    = 1;
    double       duration = 1.; // tau; not used when count = 1 and phases = 1
    /// Equal parts of every layer with their own velocity: 2 with
    /// Feed-forward/composition = split (attention, then the block), else 1.
    /// With 2 the halves go on after count tau (the last layer repeats).
    unsigned int phases = 1;

    /// Where a step that starts at t is: layer l once t has reached l tau to
    /// a relative 1e-12 (the time steps land on the boundaries to
    /// round-off), at most count - 1 (the last layer holds); the phase alike.
    struct Position
    {
      unsigned int layer = 0, phase = 0;
    };
    Position     position_at(double t) const;
    unsigned int layer_at(double t) const { return position_at(t).layer; }
    /// The first boundary (l tau, 1 <= l < count; with phases = 2 every
    /// multiple of tau / 2) that t has not reached; +infinity if none.
    double next_boundary(double t) const;
    /// The boundaries before `end_time`.
    std::vector<double> boundaries(double end_time) const;
  };

  /// The per-layer parameters of a run.
  struct Layers : LayerTimes
  {
    /// One per layer (size count); attention[0] is also Parameters::attention.
    std::vector<Parameters> attention;
    /// One block per layer (size count), or none (Feed-forward/type = none).
    FeedForwardStack feed_forward;

    /// Whether Gaussian data stays Gaussian through the blocks (none or affine).
    bool keeps_gaussians() const;
  };

  /// `subsection Layers`: count and duration.
  void declare_layer_entries(EntryDeclarations &entries);
  /// Reads count and duration (attention is filled by read_layered_entries).
  LayerTimes read_layer_times(const EntryReader &r);

  /// One reader per layer of `times` for the subsection `r` reads: an entry
  /// with `per_layer(name)` holds one value (every layer) or `times.count`
  /// values separated by `separator(name)`, each checked here against the
  /// entry's pattern in `declared` (the file reader accepts anything for
  /// them). Messages name the layer ("layer 2 of 3") when count > 1.
  std::vector<EntryReader> layer_readers(const EntryReader &r, const EntryDeclarations &declared,
                                         const std::function<bool(const std::string &)>        &per_layer,
                                         const std::function<std::string(const std::string &)> &separator,
                                         const LayerTimes                                       &times);

  /// One kernel per layer; evaluate() is the selected one's composed with the
  /// selected layer's feed-forward block (feed_forward.h); diagnostics() the
  /// selected kernel's.
  class LayeredKernel : public Kernel
  {
  public:
    /// `kernels` non-empty, all of one dimension; `feed_forward`: no blocks,
    /// or one per kernel.
    explicit LayeredKernel(std::vector<std::unique_ptr<Kernel>> kernels, FeedForwardStack feed_forward = {});

    /// Selects layer `layer` (clamped to the last) and its phase (split: 0
    /// attention, 1 the block); returns whether either changed.
    bool         select(unsigned int layer, unsigned int phase = 0);
    /// The layer and phase of a step that starts at t.
    bool         select_at(const LayerTimes &times, double t)
    {
      const auto at = times.position_at(t);
      return select(at.layer, at.phase);
    }
    unsigned int selected() const { return current; }
    unsigned int layers() const { return static_cast<unsigned int>(kernels.size()); }

    unsigned int dimension() const override { return kernels[current]->dimension(); }
    void evaluate(std::size_t n_targets, const double *targets, std::size_t n_sources, const double *sources,
                  const double *weights, double *velocities) const override
    {
      compose(n_targets, targets, velocities, [&]() {
        kernels[current]->evaluate(n_targets, targets, n_sources, sources, weights, velocities);
      });
    }
    /// The diagnostics of every layer under one fixed list of names (the
    /// statistics header is built once): the selected layer's values, NaN for
    /// the names only other layers report (e.g. a circle layer off the Fourier path).
    std::vector<std::pair<std::string, double>> diagnostics() const override;
    void begin_step() const override
    {
      for (const auto &kernel : kernels)
        kernel->begin_step();
    }
    /// Every layer's (the attention field decides once per mesh, before the layers change).
    bool sums_distributed_sources() const override
    {
      for (const auto &kernel : kernels)
        if (!kernel->sums_distributed_sources())
          return false;
      return true;
    }
    void evaluate_distributed(std::size_t n_targets, const double *targets, std::size_t n_sources,
                              const double *sources, const double *weights, const fast::Collective &collective,
                              double *velocities) const override
    {
      compose(n_targets, targets, velocities, [&]() {
        kernels[current]->evaluate_distributed(n_targets, targets, n_sources, sources, weights, collective,
                                               velocities);
      });
    }
    bool uses_source_lines() const override { return kernels[current]->uses_source_lines(); }
    void evaluate_on_lines(std::size_t n_targets, const double *targets, std::size_t n_sources, const double *sources,
                           const double *weights, const SourceLines &lines, double *velocities) const override
    {
      compose(n_targets, targets, velocities, [&]() {
        kernels[current]->evaluate_on_lines(n_targets, targets, n_sources, sources, weights, lines, velocities);
      });
    }

  private:
    /// The attention (`attend` writes it to `velocities`) and the selected
    /// block as the composition says; without blocks, the attention alone.
    void compose(std::size_t n_targets, const double *targets, double *velocities,
                 const std::function<void()> &attend) const;

    std::vector<std::unique_ptr<Kernel>> kernels;
    FeedForwardStack                     feed_forward;
    unsigned int                         current = 0;
    unsigned int                         phase   = 0;
    std::vector<std::string>             diagnostic_names; // of all layers, in order of first appearance
  };
} // namespace tpde::attention
