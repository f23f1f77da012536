// `subsection Attention`: the entries every variant shares (type, beta, Q, K,
// V, how the sums are evaluated) and the variants' own entries (heads,
// Sinkhorn, sigmoid bias, masked kernel). Plain C++, like the kernels.
#pragma once

#include "attention/attention.h"
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
} // namespace tpde::attention
