// Run parameters: declaration (with documentation, for --print-parameters),
// parsing and validation of a .prm file.
//
// Every entry is declared independently of the dimension, so a file is parsed
// once; `set dimension` then selects the templated code path and all vectors
// and matrices are checked against it. Every problem with the input becomes an
// InputError whose message is one line naming the file, the entry and what was
// expected (the executable prints it and exits with code 2).
#pragma once

#include "attention/attention.h"
#include "common/matrix.h"

#include <deal.II/base/parameter_handler.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace tpde
{
  /// Bad input: the message is a complete, single-line explanation.
  class InputError : public std::runtime_error
  {
  public:
    using std::runtime_error::runtime_error;
  };

  struct MeshParameters
  {
    std::string               domain = "box"; // box | file
    std::vector<double>       lower_corner;
    std::vector<double>       upper_corner;
    std::vector<unsigned int> subdivisions;
    unsigned int              global_refinements = 0;
    std::string               file; // for domain = file (gmsh .msh)
  };

  struct DiscretizationParameters
  {
    unsigned int degree             = 2;
    bool         positivity_limiter = true;
    // Restore the global mass, mean and covariance after the cell-wise
    // limiter (see positivity_limiter in transport_operator.h).
    bool         limiter_keeps_moments = true;
    // Face velocities: the attention evaluated at every face point, or the
    // trace of the cell's nodal velocity (see attention_field.h).
    bool         interpolate_face_velocity = false;
  };

  struct InitialConditionParameters
  {
    std::string         type = "gaussian"; // gaussian | mixture | box | ball | expression
    std::string         projection = "l2"; // l2 | interpolation
    std::vector<double> mean;
    Matrix              covariance;
    std::vector<double>              mixture_weights;
    std::vector<std::vector<double>> mixture_means;
    std::vector<Matrix>              mixture_covariances;
    std::vector<double> box_lower, box_upper;
    std::vector<double> ball_center;
    double              ball_radius = 1.;
    std::string         expression;
    std::string         constants;
    // Masked attention: densities are functions of (s, x), s first (an
    // expression's variables are s, x[, y]); from s = upper_from < 1 on, the
    // data is N(upper_mean, upper_covariance) instead (subsection 'Masked attention').
    bool                s_coordinate = false;
    double              upper_from   = 1.;
    std::vector<double> upper_mean;
    Matrix              upper_covariance;
  };

  /// `subsection Masked attention` (attention type masked only).
  struct MaskedParameters
  {
    unsigned int        s_subdivisions = 2;
    std::vector<double> slices; // s values with their own statistics columns
  };

  struct MeshRefinementParameters
  {
    bool         adaptive             = false;
    unsigned int interval             = 5;          // adapt every `interval` steps
    std::string  indicator            = "combined"; // jump | mass | combined
    std::string  strategy             = "fraction"; // fraction | threshold
    double       refine_fraction      = 0.3;        // of the cells, by indicator
    double       coarsen_fraction     = 0.3;
    double       refine_threshold     = 1e-6;       // indicator values (strategy = threshold)
    double       coarsen_threshold    = 1e-8;
    unsigned int minimum_level        = 0;
    unsigned int maximum_level        = 10;
    unsigned int maximum_cells        = 0; // 0: no cap
    unsigned int initial_refinements  = 0; // adaptive pre-refinement cycles of the initial data
  };

  struct TimeSteppingParameters
  {
    double      end_time = 1.;
    double      cfl      = 0.5;
    std::string scheme   = "ssp-rk3"; // ssp-rk3 | ssp-rk2 | forward-euler
    double      maximum_time_step = 0.; // 0: no cap
    double      negligible_density = 1e-14; // relative; speeds there do not set dt (0: off)
  };

  struct OutputParameters
  {
    std::string directory = "output/default";
    double      interval  = 0.1; // 0: only initial and final state
    bool        write_vtu = true;
  };

  /// `tpde particles` (finite-token runs; the grid ignores these entries).
  struct ParticleParameters
  {
    unsigned long number_of_tokens = 1000;
    unsigned long seed             = 1;
    std::string   sampling         = "random"; // random | quasi-random
    std::string   integrator       = "rk4";    // rk4 | ssp-rk3
    double        time_step        = 0.01;
    std::string   directory;                   // empty: <Output/directory>/particles
    std::string   import_file;                 // CSV token positions instead of a run
    double        import_time_scale = 1.;
  };

  struct Parameters
  {
    std::string  file;   // where the parameters came from (for messages)
    std::string  as_prm; // every entry as parsed, defaults included (written to the output folder)
    unsigned int dimension = 2;
    MeshParameters             mesh;
    DiscretizationParameters   discretization;
    std::string                attention_type = "softmax";
    attention::Parameters      attention;
    InitialConditionParameters initial;
    MeshRefinementParameters   refinement;
    TimeSteppingParameters     time;
    OutputParameters           output;
    ParticleParameters         particles;
    MaskedParameters           masked_attention;

    /// Masked attention: the mesh has the extra first coordinate s in [0, 1]
    /// (read_parameters prepends it to the Mesh corners and subdivisions), so
    /// its dimension is d + 1.
    bool         masked() const { return attention_type == "masked"; }
    unsigned int mesh_dimension() const { return dimension + (masked() ? 1 : 0); }
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

  /// Checks that the output folder exists and is writable, or can be created
  /// (without creating it). Throws InputError.
  void check_output_directory(const Parameters &parameters);
} // namespace tpde
