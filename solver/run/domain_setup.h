// What differs between the domains of a grid run (Mesh/domain): the
// attention kernel on the mesh's coordinates (on the circle, the ambient
// kernel seen through the angle chart) and the circle's statistics columns.
#pragma once

#include "attention/attention.h"
#include "output/sphere_statistics.h"
#include "parameters/parameters.h"

#include <memory>

namespace tpde
{
  /// The kernel of `p`'s attention in the mesh's coordinates.
  std::unique_ptr<attention::Kernel> create_kernel(const Parameters &p);

  /// Mesh/domain = sphere: the setup of the circle's statistics columns.
  SphereSetup sphere_setup(const Parameters &p);
} // namespace tpde
