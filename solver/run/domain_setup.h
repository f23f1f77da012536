// What differs between the domains of a grid run (Mesh/domain): the
// attention kernel on the mesh's coordinates (on the circle, the ambient
// kernel seen through the angle chart) and the circle's statistics columns.
#pragma once

#include "attention/attention.h"
#include "attention/layers.h"
#include "output/sphere_statistics.h"
#include "parameters/parameters.h"

#include <memory>

namespace tpde
{
  /// The kernels of `p`'s attention layers in the mesh's coordinates.
  std::unique_ptr<attention::LayeredKernel> create_kernel(const Parameters &p);

  /// Mesh/domain = sphere: the setup of the circle's statistics columns.
  SphereSetup sphere_setup(const Parameters &p);
} // namespace tpde
