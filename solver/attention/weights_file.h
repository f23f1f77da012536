// Weights read from a trained model (`Layers/weights file`, issue 15): a plain
// JSON file whose values fill per-layer parameter entries, as if they had been
// written in the parameter file with '|' between the layers.
//
// Format (documented for users in README.md, "Weights from a trained model"):
//   {
//     "format": "tpde-weights", "version": 1,
//     "model dimension": D,
//     "projection": [[...D numbers...], ...d rows...],   required iff D != d
//     "layers": [ {"attention": {"Q": [[...]], "K": [[...]], "V": [[...]], "beta": 1.0}}, ... ]
//   }
// Matrices are arrays of rows. The layer count is the length of "layers".
// Every layer must give the same keys (a key in some layers but not others is
// a missing value, not a silent fallback to the parameter file).
//
// Projection. A model of width D > d is viewed through a fixed d x D matrix P
// with orthonormal rows (checked: |P P^T - I| <= 1e-10), e.g. the top d
// principal directions of the model's tokens: a token x in R^D becomes
// z = P x. Weights act on the lifted token x = P^T z, and the result is
// projected back with P, so
//   Q -> Q P^T,  K -> K P^T  (k x d),   V -> P V P^T  (d x d),
// and, for the feed-forward block: W1 -> W1 P^T, W2 -> P W2, b2 -> P b2.
// The d-dimensional dynamics is the exact image of the D-dimensional one
// when the tokens lie in span(P^T) and that span is invariant under V (then
// V P^T = P^T (P V P^T) and the scores <Q x, K y> only see P^T z); otherwise
// it is the Galerkin projection of the model onto that span. Tokens given to
// the solver (Particles/import file) must be in the same coordinates z = P x
// (postprocess/export_weights.py writes both with one P).
//
// Each JSON key maps to one entry "Subsection/entry" through weights_keys()
// (one row per key, with its shape and projection), so a new per-layer entry
// (e.g. the feed-forward block's W1, b1, W2, b2) is one row there. Plain C++.
#pragma once

#include "attention/layers.h"
#include "common/matrix.h"
#include "common/parameter_entries.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace tpde::attention
{
  /// One JSON key of a layer and the parameter entry it fills.
  struct WeightsKey
  {
    enum class Shape
    {
      scalar,      // a number
      integer,     // a whole number (e.g. heads)
      vector,      // an array of numbers (the feed-forward biases)
      matrix,      // an array of rows
      scalar_list, // an array of numbers, one per head ('|' in the entry)
      matrix_list  // an array of matrices, one per head
    };
    /// How the projection P (d x D) acts on a matrix M of the model.
    enum class Projection
    {
      none,    // not in token space (beta, bias, b1)
      columns, // M P^T: M reads a token (Q, K, W1)
      rows,    // P M: M writes a token (W2; a vector: b2)
      both     // P M P^T: token to token (V, head C)
    };
    std::string group;    // the layer object's key: "attention"
    std::string key;      // the key inside it: "Q"
    std::string section;  // the prm subsection: "Attention"
    std::string entry;    // the prm entry: "Q"
    Shape       shape      = Shape::scalar;
    Projection  projection = Projection::none;
  };

  /// The keys a weights file may hold, one row each.
  const std::vector<WeightsKey> &weights_keys();

  /// A model matrix m seen through the projection p (d x D): m p^T, p m or p m p^T (a vector is a D x 1
  /// matrix); m itself when p is empty or the projection is none.
  Matrix project(const Matrix &m, WeightsKey::Projection projection, const Matrix &p);

  /// The entries a weights file sets.
  struct Weights
  {
    std::string  file;   // as opened (for messages)
    unsigned int layers = 0;
    unsigned int model_dimension = 0;
    Matrix       projection; // d x D; empty when D = d and the file has none
    /// "Subsection/entry" -> the entry's text in parameter-file syntax, the
    /// layers separated by '|' ('||' for per-head lists), projected, every
    /// number with 17 digits (parsed back exactly).
    std::map<std::string, std::string> entries;
    /// "Subsection/entry" -> where the first layer gives it ("layer 1, line L, column C").
    std::map<std::string, std::string> origins;
  };

  /// Parses `text` (the contents of `file`) for tokens of dimension `dim`.
  /// Throws InputError "FILE: layer L of N, 'attention/Q' (line, column):
  /// what was expected" (or "FILE: line, column: ..." for bad JSON).
  Weights parse_weights(const std::string &text, const std::string &file, unsigned int dim);

  /// Reads `file`; as parse_weights.
  Weights read_weights(const std::string &file, unsigned int dim);

  /// `subsection Layers`: the entry `weights file` (declared with count and duration).
  void declare_weights_entry(EntryDeclarations &entries);

  /// Reads `weights file` of the Layers reader `r` (a path relative to the
  /// parameter file's folder, recorded as absolute) and sets `times.count` to
  /// its layers. `explicit_entries` are the "Subsection/entry" keys the
  /// parameter file (or --set) sets: an explicit Layers/count other than the
  /// file's, or an entry set both there and by the file, is an InputError
  /// naming both. No file: nothing read, empty Weights.
  Weights read_layer_weights(const EntryReader &r, unsigned int dim, const std::set<std::string> &explicit_entries,
                             LayerTimes &times);

  /// The reader `r` of one subsection with the entries `w` sets in it read
  /// from `w` (and recorded in parameters.prm, so that the record shows the
  /// values the run used). An entry of `explicit_entries` that the file sets
  /// to another text is an InputError naming the entry, both files and where
  /// the weights file sets it.
  EntryReader with_weights(const EntryReader &r, const Weights &w, const std::set<std::string> &explicit_entries);
} // namespace tpde::attention
