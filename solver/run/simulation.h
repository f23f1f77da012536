// One run of the Transformer PDE: mesh and DG space, attention kernel,
// initial data, SSP Runge-Kutta time loop with CFL control and positivity
// limiting, statistics.csv and ParaView output.
#pragma once

#include "attention/attention.h"
#include "attention/layers.h"
#include "checkpoint/checkpoint_file.h"
#include "checkpoint/run_state.h"
#include "dg/attention_field.h"
#include "dg/diffusion_operator.h"
#include "dg/dg_space.h"
#include "dg/transport_operator.h"
#include "limiter/positivity_limiter.h"
#include "noise/attach_noise.h"
#include "output/statistics.h"
#include "output/run_output.h"
#include "output/vtk_output.h"
#include "parameters/parameters.h"
#include "run/run_clock.h"
#include "run/run_options.h"
#include "run/run_size.h"

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpde
{
  struct RunSummary
  {
    unsigned long            steps          = 0;
    unsigned long            rejected_steps = 0;
    double                   time           = 0;
    double                   wall_seconds   = 0;
    double                   max_mass_defect = 0; // max |mass + outflow - 1| over all steps
    double                   min_check_value = 0; // min of rho at check points over all stages
    std::vector<std::string> header;
    std::vector<double>      last_row;
    double                   first_dt     = 0;     // the first step's CFL dt (the step shrink rule)
    unsigned int             shrunk_steps = 0;     // consecutive steps below step shrink x first_dt
    bool                     mass_warning = false; // the mass fell below 10 x minimum mass
    double                   diffusion_clipped_mass = 0; // mass of negative cell means removed after diffusion solves
  };

  template <int dim, int spacedim = dim>
  class Simulation
  {
  public:
    Simulation(const Parameters &parameters, MPI_Comm communicator, RunOptions options = {});

    /// Mesh, DoFs, kernel, initial data (or, with RunOptions::resume, the
    /// mesh and state of the newest checkpoint); throws InputError.
    void initialize();

    /// initialize() if needed, then the whole time loop. Throws PhysicalFailure.
    RunSummary run();

    /// One step of size dt from the current state. Returns false (state
    /// unchanged) if a stage produced a negative cell mean: dt too large.
    bool step(double dt);

    /// Mesh adaptation: `flag` sets refine/coarsen flags (in 1D identically
    /// on every rank: the mesh is shared); the density is transferred
    /// conservatively (refinement: exact, coarsening: L2 projection), limited
    /// again, and everything mesh-dependent is rebuilt.
    void adapt_mesh(const std::function<void(DGSpace<dim, spacedim> &)> &flag);
    /// One adaptation driven by `subsection Mesh refinement`; returns false
    /// (and changes nothing) when no cell is flagged.
    bool adapt_mesh();

    /// Velocity of the current state (at nodes and face points).
    void update_velocity();
    double stable_time_step() const;

    std::vector<std::string> statistics_header() const { return statistics->header(); }
    std::vector<double>      statistics_row(unsigned long step, double dt, double wall_seconds);

    DGSpace<dim, spacedim>             &space() { return *dg_space; }
    AttentionField<dim, spacedim>      &field() { return *attention_field; }
    VectorType               &solution() { return density; }
    const attention::Kernel  &kernel() const { return *attention_kernel; }
    double                    time() const { return current_time; }
    double                    outflow() const { return outflow_mass; }
    double                    min_check_value() const { return lowest_check_value; }

  private:
    /// The SSP-RK transport step (the whole step without diffusion); the
    /// velocity of the result is evaluated if `update_velocity_at_end`.
    bool transport_step(double dt, bool update_velocity_at_end);
    /// Diffusion over h (simulation_diffusion.cc): SDIRK2 then the limiter;
    /// false if a cell mean became negative.
    bool diffuse(double h);
    void evaluate_velocity(const VectorType &values);
    void rebuild_after_mesh_change();
    void project_initial_data();

    // The steps of run():
    /// Output folder, parameters.prm and statistics.csv (rank 0; collective
    /// error handling) and the ParaView output.
    void open_outputs();
    /// The first line of the progress output.
    void print_run_line() const;
    /// One accepted step: the stable step limited by `schedule`, halved after
    /// every rejection (at most 30 times). Returns its size.
    double advance(const OutputSchedule &schedule, RunSummary &summary);
    /// The statistics row of the current state, into `summary` and statistics.csv.
    void record(unsigned long step, double dt, const RunClock &clock, RunSummary &summary);
    /// Blow-up rule (Time stepping/step shrink, shrink steps) on the CFL step dt: PhysicalFailure.
    void check_step_shrink(double dt, RunSummary &summary) const;
    /// Step budget and the mass left in the domain (warning once at 10 x the minimum): PhysicalFailure.
    void check_budget_and_mass(unsigned long step, RunSummary &summary, bool root) const;
    /// The progress line of a step (every 2 s and at the end).
    void report_progress(unsigned long step, double dt, RunClock &clock, const RunSummary &summary) const;
    /// The ParaView output of the current state, if written.
    void write_vtk();

    // Checkpoint and resume (simulation_checkpoint.cc):
    /// --resume: reads the newest checkpoint of the output folder into
    /// `resumed` and checks it belongs to these parameters.
    void read_checkpoint();
    /// After the mesh is rebuilt: the density and the scalar state.
    void restore_state();
    /// In run(): the statistics, output schedule and clock where the
    /// checkpoint left them; returns the step count.
    unsigned long resume_run(RunSummary &summary, OutputSchedule &schedule, RunClock &clock) const;
    /// Collective: writes a checkpoint of the current state (a failure to
    /// write it is a warning: the run goes on).
    void write_checkpoint(unsigned long step, const RunSummary &summary, const OutputSchedule &schedule,
                          const RunClock &clock);

    Parameters                             parameters;
    MPI_Comm                               communicator;
    RunOptions                             options;
    bool                                   initialized = false;
    std::unique_ptr<DGSpace<dim, spacedim>>           dg_space;
    std::unique_ptr<attention::LayeredKernel>         attention_kernel; // one kernel per layer
    std::unique_ptr<AttentionField<dim, spacedim>>    attention_field;
    std::unique_ptr<TransportOperator<dim, spacedim>> transport;
    std::unique_ptr<noise::CommonNoise>               common_noise; // steps cut at its path nodes
    std::unique_ptr<Statistics<dim, spacedim>>        statistics;
    std::unique_ptr<DiffusionOperator<dim, spacedim>> diffusion; // Noise/diffusion > 0
    double                                 diffusion_clipped_mass = 0; // see RunSummary
    VectorType                             density, ghosted_density, stage_start, stage, rate;
    std::vector<double>                    extended;
    std::vector<double>                    stage_coefficients;
    std::vector<double>                    indicator; // per owned cell, last adaptation
    std::unique_ptr<VtkOutput<dim, spacedim>>        vtk;
    std::unique_ptr<StatisticsFile>        statistics_file;
    double                                 current_time       = 0;
    double                                 outflow_mass       = 0;
    double                                 lowest_check_value = 0;
    bool                                   velocity_is_current = false;
    std::unique_ptr<Checkpoint>            resumed;  // --resume: the checkpoint read
    std::optional<RunProgress>             progress; // --resume: its time and output state
  };

  /// Runs the dimension named in the parameters.
  RunSummary run_simulation(const Parameters &parameters, MPI_Comm communicator, RunOptions options);

  /// --validate: everything but the run (parameters, size, mesh, initial
  /// data, output folder); returns the size of the run (cells, DoFs, memory).
  RunSize validate_run(const Parameters &parameters, MPI_Comm communicator, bool overwrite = false);
} // namespace tpde
