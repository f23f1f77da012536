#include "attention/layers.h"

#include "attention/weights_file.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
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

  LayerTimes::Position LayerTimes::position_at(double t) const
  {
    if (phases == 1)
      {
        Position at;
        while (at.layer + 1 < count && reached(t, (at.layer + 1) * duration))
          ++at.layer;
        return at;
      }
    // The parts of duration tau / phases that t has reached (the same round-off as reached()).
    const double part    = duration / phases;
    const double parts = t > 0 ? std::floor(t / (part * (1 - 1e-12))) : 0.;
    const double layer = std::floor(parts / phases);
    return {static_cast<unsigned int>(std::min<double>(layer, count - 1)),
            static_cast<unsigned int>(parts - layer * phases)};
  }

  double LayerTimes::next_boundary(double t) const
  {
    if (phases == 1)
      {
        const unsigned int next = layer_at(t) + 1;
        return next < count ? next * duration : std::numeric_limits<double>::infinity();
      }
    const double part = duration / phases;
    return ((t > 0 ? std::floor(t / (part * (1 - 1e-12))) : 0.) + 1) * part;
  }

  std::vector<double> LayerTimes::boundaries(double end_time) const
  {
    std::vector<double> all;
    for (double b = next_boundary(0.); b < end_time * (1 - 1e-12); b = next_boundary(b))
      all.push_back(b);
    return all;
  }

  bool Layers::keeps_gaussians() const
  {
    return std::all_of(feed_forward.blocks.begin(), feed_forward.blocks.end(),
                       [](const FeedForward &block) { return block.type != FeedForward::Type::mlp; });
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

  namespace
  {
    /// `text` cut at every `separator`, each part trimmed.
    std::vector<std::string> split_layers(const std::string &text, const std::string &separator)
    {
      std::vector<std::string> parts;
      for (std::size_t start = 0;;)
        {
          const auto  at   = text.find(separator, start);
          std::string part = text.substr(start, at == std::string::npos ? std::string::npos : at - start);
          const auto  first = part.find_first_not_of(" \t");
          part = first == std::string::npos ? std::string() : part.substr(first, part.find_last_not_of(" \t") + 1 - first);
          parts.push_back(part);
          if (at == std::string::npos)
            return parts;
          start = at + separator.size();
        }
    }
  } // namespace

  std::vector<EntryReader> layer_readers(const EntryReader &r, const EntryDeclarations &declared,
                                         const std::function<bool(const std::string &)>        &per_layer,
                                         const std::function<std::string(const std::string &)> &separator,
                                         const LayerTimes                                       &times)
  {
    const std::string count = std::to_string(times.count);
    // The per-layer entries with more than one value; shared by the readers, which outlive this call.
    const auto values = std::make_shared<std::map<std::string, std::vector<std::string>>>();
    // A reader of layer l (from 0) whose messages name it, unless there is one layer.
    const auto layer_reader = [&](std::size_t l, std::size_t layers, EntryReader::Getter get) {
      return r.part(layers == 1 ? "" : "layer " + std::to_string(l + 1) + " of " + count, std::move(get));
    };
    for (const EntryDeclaration &entry : declared.entries())
      if (per_layer(entry.name))
        {
          const std::string cut   = separator(entry.name);
          auto              parts = split_layers(r.text(entry.name), cut);
          if (parts.size() != 1 && parts.size() != times.count)
            r.fail(entry.name, (times.count == 1 ? "expected one value (Layers/count = 1)" :
                                                   "expected 1 or " + count + " values separated by '" + cut +
                                                     "' (one per layer, Layers/count = " + count + ")") +
                                 ", got " + std::to_string(parts.size()) + " separated by '" + cut + "'");
          for (std::size_t l = 0; l < parts.size(); ++l)
            if (const std::string wrong = entry.pattern.mismatch(parts[l]); !wrong.empty())
              layer_reader(l, parts.size(), {}).fail(entry.name, wrong);
          if (parts.size() > 1)
            (*values)[entry.name] = std::move(parts);
        }
    std::vector<EntryReader> readers;
    for (unsigned int l = 0; l < times.count; ++l)
      readers.push_back(layer_reader(l, times.count, [r, values, l](const std::string &entry) {
        const auto it = values->find(entry);
        return it == values->end() ? r.text(entry) : it->second[l];
      }));
    return readers;
  }

  LayeredKernel::LayeredKernel(std::vector<std::unique_ptr<Kernel>> kernels, FeedForwardStack feed_forward)
    : kernels(std::move(kernels))
    , feed_forward(std::move(feed_forward))
  {
    if (this->kernels.empty())
      throw std::logic_error("LayeredKernel: no layer");
    if (!this->feed_forward.blocks.empty() && this->feed_forward.blocks.size() != this->kernels.size())
      throw std::logic_error("LayeredKernel: one feed-forward block per layer expected");
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

  bool LayeredKernel::select(unsigned int layer, unsigned int next_phase)
  {
    const unsigned int next    = std::min<unsigned int>(layer, layers() - 1);
    const bool         changed = next != current || next_phase != phase;
    current                    = next;
    phase                      = next_phase;
    return changed;
  }

  void LayeredKernel::compose(std::size_t n_targets, const double *targets, double *velocities,
                              const std::function<void()> &attend) const
  {
    if (feed_forward.blocks.empty())
      return attend(); // no block: the attention bit for bit
    const FeedForward &block = feed_forward.blocks[current];
    const double       scale = block.residual_scale;
    const unsigned int dim   = dimension();
    if (feed_forward.composition == Composition::split && phase == 1)
      {
        // The block's half: no attention to evaluate.
        std::fill(velocities, velocities + n_targets * dim, 0.);
        block.add(n_targets, dim, targets, 2 * scale, velocities);
        return;
      }
    attend();
    const bool   split  = feed_forward.composition == Composition::split;
    const double factor = split ? 2 * scale : scale;
    if (factor != 1.)
      for (std::size_t i = 0; i < n_targets * dim; ++i)
        velocities[i] *= factor;
    if (!split)
      block.add(n_targets, dim, targets, scale, velocities);
  }
} // namespace tpde::attention
