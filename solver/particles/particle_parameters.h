// `subsection Particles`: the finite-token run (`tpde particles`). The grid
// ignores these entries.
#pragma once

#include "common/parameter_entries.h"
#include "particles/particle_system.h"
#include "particles/sampling.h"

#include <string>

namespace tpde
{
  struct ParticleParameters : TabledParameters<ParticleParameters>
  {
    unsigned long                number_of_tokens  = 1000;
    unsigned long                seed              = 1;
    particles::Sampling          sampling          = particles::Sampling::random;
    particles::Integrator        integrator        = particles::Integrator::rk4;
    double                       time_step         = 0.01;
    std::string                  directory;        // <Output/directory>/particles unless set
    std::string                  import_file;      // CSV token positions instead of a run
    double                       import_time_scale = 1.;
    double                       slice_window      = 0.1; // masked attention: width of a slice's token window in s

    static const Choices<particles::Sampling>   &samplings();
    static const Choices<particles::Integrator> &integrators();
    static const EntryTable<ParticleParameters>  &entry_table();
    /// `output_directory`: the grid's Output/directory (the default folder's parent).
    static ParticleParameters read(const EntryReader &r, const std::string &output_directory);
  };
} // namespace tpde
