#include "attention/weights_file.h"

#include "common/input_file.h"
#include "common/json.h"

#include <cmath>
#include <filesystem>
#include <sstream>

namespace tpde::attention
{
  const std::vector<WeightsKey> &weights_keys()
  {
    using S = WeightsKey::Shape;
    using P = WeightsKey::Projection;
    // One row per key; the feed-forward block's type, activation and composition stay in the prm.
    static const std::vector<WeightsKey> all = {
      {"attention", "Q", "Attention", "Q", S::matrix, P::columns},
      {"attention", "K", "Attention", "K", S::matrix, P::columns},
      {"attention", "V", "Attention", "V", S::matrix, P::both},
      {"attention", "beta", "Attention", "beta", S::scalar, P::none},
      {"attention", "bias", "Attention", "bias", S::scalar, P::none},
      {"attention", "sinkhorn epsilon", "Attention", "sinkhorn epsilon", S::scalar, P::none},
      {"attention", "heads", "Attention", "heads", S::integer, P::none},
      {"attention", "head Q", "Attention", "head Q", S::matrix_list, P::columns},
      {"attention", "head K", "Attention", "head K", S::matrix_list, P::columns},
      {"attention", "head C", "Attention", "head C", S::matrix_list, P::both},
      {"attention", "head beta", "Attention", "head beta", S::scalar_list, P::none},
      {"feed-forward", "W1", "Feed-forward", "W1", S::matrix, P::columns},
      {"feed-forward", "b1", "Feed-forward", "b1", S::vector, P::none},
      {"feed-forward", "W2", "Feed-forward", "W2", S::matrix, P::rows},
      {"feed-forward", "b2", "Feed-forward", "b2", S::vector, P::rows},
      {"feed-forward", "A", "Feed-forward", "A", S::matrix, P::both},
      {"feed-forward", "b", "Feed-forward", "b", S::vector, P::rows},
      {"feed-forward", "residual scale", "Feed-forward", "residual scale", S::scalar, P::none},
    };
    return all;
  }

  Matrix project(const Matrix &m, WeightsKey::Projection projection, const Matrix &p)
  {
    using P = WeightsKey::Projection;
    if (p.rows == 0 || projection == P::none)
      return m;
    if (projection == P::columns)
      return m * transpose(p);
    if (projection == P::rows)
      return p * m;
    return p * m * transpose(p);
  }

  namespace
  {
    /// Where a value is, for messages: "FILE: layer 2 of 3, 'attention/V' (line 4, column 9)".
    struct Place
    {
      const std::string &file;
      std::string        what; // "layer 2 of 3, 'attention/V'" or "key 'projection'"

      [[noreturn]] void fail(const json::Value &v, const std::string &expected) const
      {
        throw InputError(file + ": " + what + " (" + v.where() + "): " + expected);
      }
    };

    std::string number_text(double x)
    {
      std::ostringstream out;
      out.precision(17);
      out << x;
      return out.str();
    }

    double finite_number(const json::Value &v, const Place &at)
    {
      if (v.type != json::Value::Type::number)
        at.fail(v, "expected a number, got " + v.type_name());
      if (!std::isfinite(v.number))
        at.fail(v, "expected a finite number, got " + number_text(v.number));
      return v.number;
    }

    std::vector<double> numbers(const json::Value &v, const Place &at, const std::string &expected)
    {
      if (v.type != json::Value::Type::array || v.items.empty())
        at.fail(v, "expected " + expected + ", got " + (v.items.empty() && v.type == json::Value::Type::array ?
                                                          std::string("an empty array") : v.type_name()));
      std::vector<double> out;
      for (const json::Value &item : v.items)
        out.push_back(finite_number(item, at));
      return out;
    }

    /// An array of equally long rows of finite numbers.
    Matrix matrix(const json::Value &v, const Place &at)
    {
      const std::string expected = "a matrix (an array of rows, each an array of numbers)";
      if (v.type != json::Value::Type::array || v.items.empty())
        at.fail(v, "expected " + expected + ", got " + v.type_name());
      Matrix m;
      for (const json::Value &row : v.items)
        {
          const auto values = numbers(row, at, "a row of numbers");
          if (m.rows > 0 && values.size() != m.cols)
            at.fail(row, "expected rows of equal length: row " + std::to_string(m.rows + 1) + " has " +
                           std::to_string(values.size()) + " numbers, row 1 has " + std::to_string(m.cols));
          m.cols = values.size();
          m.data.insert(m.data.end(), values.begin(), values.end());
          ++m.rows;
        }
      return m;
    }

    /// The shape a projection needs of a model matrix (D: the model dimension).
    void check_shape(const Matrix &m, WeightsKey::Projection projection, unsigned int D, const json::Value &v,
                     const Place &at)
    {
      using P          = WeightsKey::Projection;
      const auto shape = matrix_shape(m);
      const auto Dt    = std::to_string(D);
      if (projection == P::columns && m.cols != D)
        at.fail(v, "expected a k x " + Dt + " matrix (model dimension " + Dt + "), got " + shape);
      if (projection == P::rows && m.rows != D)
        at.fail(v, "expected " + Dt + " rows (model dimension " + Dt + "), got " + shape);
      if (projection == P::both && (m.rows != D || m.cols != D))
        at.fail(v, "expected a " + Dt + " x " + Dt + " matrix (model dimension " + Dt + "), got " + shape);
    }

    /// One value of `key`, checked in the model's dimension, projected, in parameter-file syntax.
    std::string entry_text(const json::Value &v, const WeightsKey &key, const Weights &w, const Place &at)
    {
      using S = WeightsKey::Shape;
      switch (key.shape)
        {
          case S::scalar:
            return number_text(finite_number(v, at));
          case S::integer:
            {
              const double x = finite_number(v, at);
              if (!(x >= 1 && x <= 1e6 && x == std::floor(x)))
                at.fail(v, "expected a whole number >= 1, got " + number_text(x));
              return number_text(x);
            }
          case S::vector:
            {
              const auto x = numbers(v, at, "an array of numbers");
              Matrix     column(x.size(), 1);
              column.data = x;
              check_shape(column, key.projection, w.model_dimension, v, at);
              return transpose(project(column, key.projection, w.projection)).to_string();
            }
          case S::matrix:
            {
              const Matrix m = matrix(v, at);
              check_shape(m, key.projection, w.model_dimension, v, at);
              return project(m, key.projection, w.projection).to_string();
            }
          default: // lists, one item per head
            {
              if (v.type != json::Value::Type::array || v.items.empty())
                at.fail(v, "expected a non-empty array (one item per head), got " + v.type_name());
              WeightsKey item = key;
              item.shape      = key.shape == S::scalar_list ? S::scalar : S::matrix;
              std::string text;
              for (const json::Value &head : v.items)
                text += (text.empty() ? "" : " | ") + entry_text(head, item, w, at);
              return text;
            }
        }
    }

    const WeightsKey *find_key(const std::string &group, const std::string &key)
    {
      for (const WeightsKey &row : weights_keys())
        if (row.group == group && (key.empty() || row.key == key))
          return &row;
      return nullptr;
    }

    /// "Q, K, V, ..." of `group`.
    std::string keys_of(const std::string &group)
    {
      std::string list;
      for (const WeightsKey &row : weights_keys())
        if (row.group == group)
          list += (list.empty() ? "'" : ", '") + row.key + "'";
      return list;
    }

    /// Layer l's texts into `texts` ("Subsection/entry" -> one text per layer).
    void read_layer(const json::Value &layer, unsigned int l, Weights &w,
                    std::map<std::string, std::vector<std::string>> &texts)
    {
      const std::string name = "layer " + std::to_string(l + 1) + " of " + std::to_string(w.layers);
      if (layer.type != json::Value::Type::object)
        Place{w.file, name}.fail(layer, "expected an object such as {\"attention\": {...}}, got " + layer.type_name());
      for (const auto &[group, block] : layer.members)
        {
          if (!find_key(group, ""))
            Place{w.file, name + ", key '" + printable(group) + "'"}.fail(block, "unknown key (expected 'attention' or 'feed-forward')");
          if (block.type != json::Value::Type::object)
            Place{w.file, name + ", '" + printable(group) + "'"}.fail(block, "expected an object, got " + block.type_name());
          for (const auto &[key, value] : block.members)
            {
              const Place       at{w.file, name + ", '" + printable(group + "/" + key) + "'"};
              const WeightsKey *row = find_key(group, key);
              if (!row)
                at.fail(value, "unknown key (known keys of '" + group + "': " + keys_of(group) + ")");
              const std::string entry = row->section + "/" + row->entry;
              auto             &slot  = texts[entry];
              slot.resize(w.layers);
              slot[l] = entry_text(value, *row, w, at);
              if (!w.origins.count(entry))
                w.origins[entry] = name + ", '" + group + "/" + key + "' at " + value.where();
            }
        }
    }

    /// The projection P (d x D) or nothing when D = d and the file has none.
    void read_projection(const json::Value *v, const json::Value &root, unsigned int dim, Weights &w)
    {
      const Place  at{w.file, "key 'projection'"};
      const auto   D = std::to_string(w.model_dimension), d = std::to_string(dim);
      if (!v)
        {
          if (w.model_dimension != dim)
            at.fail(root, "missing: a model of dimension " + D + " needs a " + d + " x " + D +
                            " projection onto the tokens' dimension " + d);
          return;
        }
      w.projection = matrix(*v, at);
      if (w.projection.rows != dim || w.projection.cols != w.model_dimension)
        at.fail(*v, "expected a " + d + " x " + D + " matrix (dimension x model dimension), got " +
                      matrix_shape(w.projection));
      const double defect = max_abs(w.projection * transpose(w.projection) - Matrix::identity(dim));
      if (!(defect <= 1e-10))
        at.fail(*v, "expected orthonormal rows (P P^T = I to 1e-10), got max |P P^T - I| = " + number_text(defect));
    }

    /// The top-level keys other than "layers".
    void read_header(const json::Value &root, unsigned int dim, Weights &w)
    {
      for (const auto &[key, value] : root.members)
        if (key != "format" && key != "version" && key != "model dimension" && key != "projection" &&
            key != "layers" && key != "description")
          Place{w.file, "key '" + printable(key) + "'"}.fail(value, "unknown key (expected 'format', 'version', 'model "
                                                         "dimension', 'projection', 'layers', 'description')");
      const auto required = [&](const std::string &key) -> const json::Value & {
        const json::Value *v = root.find(key);
        if (!v)
          Place{w.file, "key '" + key + "'"}.fail(root, "missing");
        return *v;
      };
      const json::Value &format = required("format");
      if (format.type != json::Value::Type::string || format.string != "tpde-weights")
        Place{w.file, "key 'format'"}.fail(format, "expected \"tpde-weights\"");
      const json::Value &version = required("version");
      if (version.type != json::Value::Type::number || version.number != 1)
        Place{w.file, "key 'version'"}.fail(version, "expected 1 (the only version this tpde reads)");
      const json::Value &D = required("model dimension");
      const double       n = finite_number(D, Place{w.file, "key 'model dimension'"});
      if (!(n >= dim && n <= 1e5 && n == std::floor(n)))
        Place{w.file, "key 'model dimension'"}.fail(D, "expected a whole number D >= dimension " +
                                                         std::to_string(dim) + ", got " + number_text(n));
      w.model_dimension = static_cast<unsigned int>(n);
      if (const json::Value *description = root.find("description");
          description && description->type != json::Value::Type::string)
        Place{w.file, "key 'description'"}.fail(*description, "expected a string");
      read_projection(root.find("projection"), root, dim, w);
    }
  } // namespace

  Weights parse_weights(const std::string &text, const std::string &file, unsigned int dim)
  {
    Weights     w;
    w.file = file;
    json::Value root;
    try
      {
        root = json::parse(text);
      }
    catch (const std::invalid_argument &e)
      {
        throw InputError(file + ": " + e.what());
      }
    if (root.type != json::Value::Type::object)
      Place{file, "the file"}.fail(root, "expected an object {\"format\": \"tpde-weights\", ...}, got " +
                                           root.type_name());
    read_header(root, dim, w);
    const json::Value *layers = root.find("layers");
    if (!layers || layers->type != json::Value::Type::array || layers->items.empty())
      Place{file, "key 'layers'"}.fail(layers ? *layers : root, layers ? "expected a non-empty array of layers, got " +
                                                                           layers->type_name() : "missing");
    w.layers = static_cast<unsigned int>(layers->items.size());
    std::map<std::string, std::vector<std::string>> texts;
    for (unsigned int l = 0; l < w.layers; ++l)
      read_layer(layers->items[l], l, w, texts);
    for (const auto &[entry, per_layer] : texts)
      {
        const WeightsKey *row = nullptr;
        for (const WeightsKey &k : weights_keys())
          if (k.section + "/" + k.entry == entry)
            row = &k;
        std::string joined;
        for (unsigned int l = 0; l < w.layers; ++l)
          {
            if (per_layer[l].empty())
              Place{file, "layer " + std::to_string(l + 1) + " of " + std::to_string(w.layers)}.fail(
                layers->items[l], "missing '" + row->group + "/" + row->key + "' (" + w.origins[entry] +
                                    " gives it; every layer must)");
            const bool list = row->shape == WeightsKey::Shape::matrix_list ||
                              row->shape == WeightsKey::Shape::scalar_list;
            joined += (l == 0 ? "" : list ? " || " : " | ") + per_layer[l];
          }
        w.entries[entry] = joined;
      }
    return w;
  }

  Weights read_weights(const std::string &file, unsigned int dim)
  {
    return parse_weights(read_input_file(file, "weights file"), file, dim);
  }

  void declare_weights_entry(EntryDeclarations &entries)
  {
    entries.declare("weights file", "", EntryPattern::anything(),
                    "Weights of a trained model (JSON, relative to the parameter file's folder; format in README.md, "
                    "'Weights from a trained model'). Sets count (its number of layers) and, per layer, the "
                    "Attention entries it holds (Q, K, V, beta, ...), projected onto the tokens' dimension by the "
                    "file's projection P (Q -> Q P^T, K -> K P^T, V -> P V P^T). An entry it sets must not be set "
                    "in this file too. Empty: no weights file.");
  }

  Weights read_layer_weights(const EntryReader &r, unsigned int dim, const std::set<std::string> &explicit_entries,
                             LayerTimes &times)
  {
    namespace fs            = std::filesystem;
    const std::string given = r.trimmed("weights file");
    if (given.empty())
      return {};
    fs::path f(given);
    if (f.is_relative())
      f = fs::path(r.file()).parent_path() / f;
    std::error_code ec;
    if (!fs::exists(f, ec))
      r.fail("weights file", "weights file '" + given + "' does not exist (looked for '" + f.string() + "')");
    Weights w;
    try
      {
        w = read_weights(f.string(), dim);
      }
    catch (const InputError &e)
      {
        r.fail("weights file", e.what());
      }
    // parameters.prm in the output folder names the same file and the count it gave.
    r.record("weights file", fs::absolute(f).string());
    if (explicit_entries.count("Layers/count") && times.count != w.layers)
      r.fail("count", "expected " + std::to_string(w.layers) + " (the layers of the weights file '" + given +
                        "') or no count, got " + std::to_string(times.count));
    times.count = w.layers;
    r.record("count", std::to_string(w.layers));
    if (times.count > 1 && !(times.duration > 0. && std::isfinite(times.duration)))
      r.fail("duration", "expected a positive duration of each layer with count = " + std::to_string(times.count) +
                           " (from the weights file), got " + r.trimmed("duration"));
    return w;
  }

  EntryReader with_weights(const EntryReader &r, const Weights &w, const std::set<std::string> &explicit_entries)
  {
    if (w.entries.empty())
      return r;
    for (const auto &[entry, text] : w.entries)
      {
        const auto slash = entry.find('/');
        if (entry.substr(0, slash) != r.subsection())
          continue;
        const std::string name = entry.substr(slash + 1);
        // The file's own value (parameters.prm of a run with weights) is no conflict.
        if (explicit_entries.count(entry) && r.trimmed(name) != text)
          throw InputError(r.file() + ": entry '" + entry + "' is set both in the parameter file and by the "
                           "weights file '" + w.file + "' (" + w.origins.at(entry) + "); expected it in one place");
        r.record(name, text);
      }
    const std::string section = r.subsection();
    return r.part("", [r, &w, section](const std::string &entry) {
      const auto it = w.entries.find(section + "/" + entry);
      return it == w.entries.end() ? r.text(entry) : it->second;
    });
  }
} // namespace tpde::attention
