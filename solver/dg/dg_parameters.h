// `subsection Discretization`: the DG space, the face velocities of the
// upwind flux and the positivity limiter.
#pragma once

#include "common/parameter_entries.h"

namespace tpde
{
  struct DiscretizationParameters : TabledParameters<DiscretizationParameters>
  {
    unsigned int degree             = 2;
    bool         positivity_limiter = true;
    // Restore the global mass, mean and covariance after the cell-wise
    // limiter (see limiter/positivity_limiter.h).
    bool limiter_keeps_moments = true;
    // Face velocities: the attention evaluated at every face point, or the
    // trace of the cell's nodal velocity (see dg/attention_field.h).
    bool interpolate_face_velocity = false;

    static const Choices<bool> &face_velocities();
    static const EntryTable<DiscretizationParameters> &entry_table();
  };
} // namespace tpde
