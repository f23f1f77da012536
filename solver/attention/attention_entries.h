// `subsection Attention`: the entries every variant shares (type, beta, Q, K,
// V, how the sums are evaluated) and the variants' own entries (heads,
// Sinkhorn, sigmoid bias, masked kernel). Plain C++, like the kernels.
#pragma once

#include "attention/attention.h"
#include "attention/layers.h"
#include "common/parameter_entries.h"

namespace tpde::attention
{
  const Choices<Parameters::Evaluation> &evaluations();
  /// exponential = double | float: Parameters::float_exponential.
  const Choices<bool> &exponentials();

  void declare_entries(EntryDeclarations &entries);

  /// Reads the subsection for a token space of dimension `dim` and checks
  /// that the variant `type` can be built from it (shapes, values).
  Parameters read_entries(const EntryReader &r, unsigned int dim, const std::string &type);

  /// Whether `entry` may hold one value per layer (subsection Layers): all
  /// but type and masked kernel.
  bool per_layer(const std::string &entry);

  /// read_entries once per layer of `times`: a per-layer entry holds one
  /// value (every layer) or `times.count` values separated by '|' ('||' for
  /// the variants' list_entries). Messages name the layer ("layer 2 of 3")
  /// when count > 1.
  std::vector<Parameters> read_layered_entries(const EntryReader &r, unsigned int dim, const std::string &type,
                                               const LayerTimes &times);
} // namespace tpde::attention
