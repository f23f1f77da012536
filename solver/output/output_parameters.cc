#include "output/output_parameters.h"

namespace tpde
{
  const EntryTable<OutputParameters> &OutputParameters::entry_table()
  {
    static const EntryTable<OutputParameters> table = EntryTable<OutputParameters>()
      .add("directory", &OutputParameters::directory, "output/default", EntryPattern::anything(),
          "Output folder (created if missing): solution_*.vtu/.pvtu, solution.pvd, statistics.csv and "
          "parameters.prm.")
      .add("interval", &OutputParameters::interval, "0.1", EntryPattern::real(0),
          "Time between two ParaView outputs (0: only the initial and final state).")
      .add("write vtu", &OutputParameters::write_vtu, "true", EntryPattern::boolean(),
          "Write ParaView files (statistics.csv is always written).")
      .add("plots", &OutputParameters::plots, "false", EntryPattern::boolean(),
          "At the end of a successful run, draw statistics.csv against its references (mass balance, moments "
          "and their exact Gaussian solution, errors, dt) to statistics.png in the run's folder (tpde run: "
          "Output/directory; tpde particles: Particles/directory), with postprocess/plot_statistics.py of the "
          "source tree run by /usr/bin/python3 (needs python3-numpy and python3-matplotlib; the environment "
          "variable TPDE_PLOT_STATISTICS names another copy of the script). Only MPI rank 0 plots. A plot that "
          "fails is a one-line warning on stderr; the run still succeeds.")
      .add("modes", &OutputParameters::modes, "4", EntryPattern::integer(0, 64),
          "Mesh/domain = sphere: the columns mode_1 .. mode_<modes> of statistics.csv, the amplitude |int "
          "e^{i k theta} rho dtheta| of Fourier mode k of the density on the circle.")
      .add("cluster threshold", &OutputParameters::cluster_threshold, "0.25", EntryPattern::real(0, 1),
          "Mesh/domain = sphere: the column 'clusters' counts the local maxima of the cell averages of the "
          "density (around the circle) that exceed this fraction of the largest cell average. On S^2 the local "
          "maxima of the cell averages over neighbouring cells (particles: of a fixed density estimate on a "
          "Fibonacci lattice), adjacent maxima counted once; a density whose minimum exceeds this fraction of "
          "its maximum (the uniform law) has 0 (solver/sphere/surface_clusters.h).");
    return table;
  }

  void OutputParameters::check(const EntryReader &r) const
  {
    if (directory.empty())
      r.fail("directory", "expected a folder name");
  }
} // namespace tpde
