#include "attention/layers.h"

#include "attention/weights_file.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace tpde::attention
{
  namespace
  {
    /// Whether t has reached the boundary b (steps land on it to round-off).
    bool reached(double t, double b)
    {
      return t >= b * (1 - 1e-12);
    }
  } // namespace

  unsigned int LayerTimes::layer_at(double t) const
  {
    unsigned int layer = 0;
    while (layer + 1 < count && reached(t, (layer + 1) * duration))
      ++layer;
    return layer;
  }

  double LayerTimes::next_boundary(double t) const
  {
    const unsigned int next = layer_at(t) + 1;
    return next < count ? next * duration : std::numeric_limits<double>::infinity();
  }

  std::vector<double> LayerTimes::boundaries(double end_time) const
  {
    std::vector<double> all;
    for (unsigned int l = 1; l < count && l * duration < end_time * (1 - 1e-12); ++l)
      all.push_back(l * duration);
    return all;
  }

  void declare_layer_entries(EntryDeclarations &entries)
  {
    entries.declare("count", "1", EntryPattern::integer(1, 100000),
                    "Number of layers L. Layer l (from 1) acts on [(l - 1) tau, l tau) with its own weights: every "
                    "entry of subsection Attention except type and masked kernel may hold L values separated by '|' "
                    "(multihead's head entries, whose heads are separated by '|', separate layers by '||'); one value "
                    "stands for every layer. The time steps (grid and particles) land on every boundary l tau. After "
                    "L tau the last layer holds (an end time beyond L tau repeats it). 1: one layer for the whole "
                    "run. With a weights file: its number of layers (leave count unset, or set it to that number).");
    entries.declare("duration", "1", EntryPattern::real(),
                    "Duration tau of each layer (> 0 when count > 1; not used when count = 1).");
    declare_weights_entry(entries);
  }

  LayerTimes read_layer_times(const EntryReader &r)
  {
    LayerTimes times;
    times.count    = static_cast<unsigned int>(r.integer("count"));
    times.duration = r.real("duration");
    if (times.count > 1 && !(times.duration > 0. && std::isfinite(times.duration)))
      r.fail("duration", "expected a positive duration of each layer with count = " + std::to_string(times.count) +
                           ", got " + r.trimmed("duration"));
    return times;
  }

  LayeredKernel::LayeredKernel(std::vector<std::unique_ptr<Kernel>> kernels)
    : kernels(std::move(kernels))
  {
    if (this->kernels.empty())
      throw std::logic_error("LayeredKernel: no layer");
    for (const auto &kernel : this->kernels)
      for (const auto &[name, value] : kernel->diagnostics())
        if (std::find(diagnostic_names.begin(), diagnostic_names.end(), name) == diagnostic_names.end())
          diagnostic_names.push_back(name);
  }

  std::vector<std::pair<std::string, double>> LayeredKernel::diagnostics() const
  {
    const auto                                  own = kernels[current]->diagnostics();
    std::vector<std::pair<std::string, double>> all;
    for (const std::string &name : diagnostic_names)
      {
        const auto it = std::find_if(own.begin(), own.end(), [&](const auto &d) { return d.first == name; });
        all.emplace_back(name, it != own.end() ? it->second : std::numeric_limits<double>::quiet_NaN());
      }
    return all;
  }

  bool LayeredKernel::select(unsigned int layer)
  {
    const unsigned int next = std::min<unsigned int>(layer, layers() - 1);
    const bool         changed = next != current;
    current                    = next;
    return changed;
  }
} // namespace tpde::attention
