// A run's parameters: the aggregate of every component's own parameters, and
// the reading of a .prm file (deal.II's ParameterHandler) into it.
//
// Each subsection belongs to one component, which declares, documents and
// reads its entries (common/parameter_entries.h): Mesh (mesh/), Discretization
// (dg/), Attention (attention/), Initial condition (initial/), Mesh refinement
// (adaptation/), Time stepping (run/), Output (output/), Particles
// (particles/), Checkpoint (checkpoint/), Layers (attention/layers.h), Feed-forward (attention/feed_forward.h).
// This file only adds `dimension`, `subsection Masked attention` (which reshapes the mesh and the initial data)
// and the glue.
//
// Every entry is declared independently of the dimension, so a file is parsed
// once; `set dimension` then selects the templated code path and all vectors
// and matrices are checked against it. Every problem with the input becomes an
// InputError whose message is one line naming the file, the entry and what was
// expected (the executable prints it and exits with code 2).
#pragma once

#include "adaptation/refinement_parameters.h"
#include "attention/attention.h"
#include "attention/layers.h"
#include "checkpoint/checkpoint_parameters.h"
#include "common/errors.h"
#include "dg/dg_parameters.h"
#include "initial/initial_parameters.h"
#include "mesh/mesh_parameters.h"
#include "noise/noise_parameters.h"
#include "output/output_parameters.h"
#include "particles/particle_parameters.h"
#include "reference/gaussian_reference.h"
#include "run/time_parameters.h"

#include <deal.II/base/parameter_handler.h>

#include <memory>
#include <string>
#include <vector>

namespace tpde
{
  /// `subsection Masked attention` (attention type masked only).
  struct MaskedParameters
  {
    unsigned int        s_subdivisions = 2;
    std::vector<double> slices; // s values with their own statistics columns
    double              positional_decay = 0.; // lambda; also in every layer's attention parameters
  };

  struct Parameters
  {
    std::string  file;   // where the parameters came from (for messages)
    std::string  as_prm; // every entry as parsed, defaults included (written to the output folder)
    unsigned int dimension = 2;
    MeshParameters             mesh;
    DiscretizationParameters   discretization;
    std::string                attention_type = "softmax";
    attention::Parameters      attention; // the first layer's (layers.attention[0])
    attention::Layers          layers;    // subsection Layers: every layer's attention and feed-forward block
    InitialConditionParameters initial;
    MeshRefinementParameters   refinement;
    TimeSteppingParameters     time;
    OutputParameters           output;
    ParticleParameters         particles;
    CheckpointParameters       checkpoint;
    MaskedParameters           masked_attention;
    NoiseParameters            noise;

    /// Attention over positions (masked): the mesh has the extra first
    /// coordinate s in [0, 1] (read_parameters prepends it to the Mesh
    /// corners and subdivisions), so its dimension is d + 1.
    bool         masked() const { return attention::find_variant(attention_type).capabilities.positions; }
    unsigned int mesh_dimension() const
    {
      return MeshParameters::chart_dimension(dimension, mesh.on_sphere()) + (masked() ? 1 : 0);
    }
    /// S^2 (domain = sphere, dimension = 3): a surface mesh in R^3, where
    /// node points, velocities and normals have three components.
    bool on_surface() const { return mesh.on_sphere() && dimension == 3; }
  };

  /// Declares every entry with its default, pattern and documentation.
  void declare_parameters(dealii::ParameterHandler &prm);

  /// Parses a parameter file, applies `overrides` ("Subsection/entry=value",
  /// as given by `--set` on the command line) and validates everything except
  /// the output folder. Throws InputError.
  Parameters read_parameters(const std::string              &file,
                             const std::vector<std::string> &overrides = {});

  /// Same, from text (tests; `name` is used in messages).
  Parameters parse_parameters(const std::string              &text,
                              const std::string              &name,
                              const std::vector<std::string> &overrides = {});

  /// The grid of a run from its printed parameters (as a checkpoint stores
  /// them): only what rebuilds its mesh and DG space. The other subsections
  /// are not read, so files they name (weights, earlier checkpoints) need not
  /// exist any more. Throws InputError naming `name`.
  struct GridEntries
  {
    unsigned int             dimension = 1;
    MeshParameters           mesh;
    DiscretizationParameters discretization;
    std::string              attention_type; // Attention/type (masked runs have an extra mesh coordinate)
  };
  GridEntries read_grid_entries(const std::string &as_prm, const std::string &name);

  /// The interchangeable components by subsection and entry (attention
  /// variants, initial types, refinement indicators, time schemes, mesh
  /// domains), each with the first sentence of its documentation: the
  /// "components" part of `tpde --help`.
  std::string component_overview();

  /// The exact Gaussian moments of the run (the `ref_*` columns of the grid
  /// and the particles), with the diffusion's 2D*I; null where none is known:
  /// data not Gaussian, a variant without a moment model, layers that do not
  /// keep Gaussians, or common noise (a random path the moment ODEs ignore).
  std::unique_ptr<reference::GaussianReference> exact_gaussian_reference(const Parameters &parameters);

  /// Checks that the output folder exists and is writable, or can be created
  /// (without creating it). Throws InputError.
  void check_output_directory(const Parameters &parameters);
} // namespace tpde
