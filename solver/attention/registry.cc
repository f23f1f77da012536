// The list of attention variants.
//
// Registration is explicit on purpose: self-registering static objects in a
// static library are dropped by the linker when nothing references their
// translation unit. Adding a variant = one new file defining
// `Variant make_<name>_variant()` plus one declaration and one line below.
#include "attention/attention.h"

#include <stdexcept>

namespace tpde::attention
{
  Variant make_softmax_variant();
  Variant make_multihead_variant();
  Variant make_l2_variant();
  Variant make_sinkhorn_variant();
  Variant make_sigmoid_variant();
  Variant make_unnormalized_variant();
  Variant make_masked_variant();

  namespace
  {
    std::vector<Variant> make_all_variants()
    {
      std::vector<Variant> all;
      all.push_back(make_softmax_variant());
      all.push_back(make_multihead_variant());
      all.push_back(make_l2_variant());
      all.push_back(make_sinkhorn_variant());
      all.push_back(make_sigmoid_variant());
      all.push_back(make_unnormalized_variant());
      all.push_back(make_masked_variant());
      return all;
    }

    std::string join(const std::string &separator)
    {
      std::string text;
      for (const Variant &variant : variants())
        text += (text.empty() ? "" : separator) + variant.name;
      return text;
    }
  } // namespace

  const std::vector<Variant> &variants()
  {
    // Built on first use (thread-safe), not during static initialisation.
    static const std::vector<Variant> all = make_all_variants();
    return all;
  }

  std::string variant_names()
  {
    return join("|");
  }

  const Variant &find_variant(const std::string &name)
  {
    for (const Variant &variant : variants())
      if (variant.name == name)
        return variant;
    throw std::invalid_argument("unknown attention type '" + name +
                                "'; expected one of: " + join(", "));
  }

  std::unique_ptr<Kernel> create(const std::string &name, const Parameters &parameters)
  {
    return find_variant(name).create(parameters);
  }

  std::optional<ScoreForm> score_form(const std::string &name, const Parameters &parameters)
  {
    const Variant &variant = find_variant(name);
    if (!variant.capabilities.score_form)
      return std::nullopt;
    return variant.capabilities.score_form(parameters);
  }
} // namespace tpde::attention
