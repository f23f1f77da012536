#include "mesh/gmsh_reader.h"

#include "mesh/mesh_topology.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

namespace tpde
{
  namespace
  {
    /// Whitespace-separated words of the file with their line numbers.
    class Tokens
    {
    public:
      explicit Tokens(const std::string &text)
        : text(text)
      {}

      /// Skips white space; true at the end of the file.
      bool at_end()
      {
        while (pos < text.size() && is_space(text[pos]))
          {
            if (text[pos] == '\n')
              ++line_number;
            ++pos;
          }
        return pos >= text.size();
      }

      std::string_view next(const std::string &what)
      {
        if (at_end())
          fail("expected " + what + ", got the end of the file");
        const std::size_t start = pos;
        while (pos < text.size() && !is_space(text[pos]))
          ++pos;
        token_line = line_number;
        return std::string_view(text).substr(start, pos - start);
      }

      /// A whole number in [lower, upper].
      long long integer(const std::string &what, long long lower, long long upper)
      {
        const std::string_view word = next(what);
        std::string_view       digits = word;
        if (!digits.empty() && digits[0] == '+')
          digits.remove_prefix(1);
        long long  value = 0;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (error != std::errc() || end != digits.data() + digits.size() || digits.empty())
          fail("expected " + what + " (a whole number), got '" + shown(word) + "'");
        if (value < lower || value > upper)
          fail("expected " + what + " from " + std::to_string(lower) + " to " + std::to_string(upper) + ", got " +
               std::to_string(value));
        return value;
      }

      /// A finite number.
      double real(const std::string &what)
      {
        const std::string_view word = next(what);
        std::string_view       digits = word;
        if (!digits.empty() && digits[0] == '+')
          digits.remove_prefix(1);
        double     value = 0;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (error != std::errc() || end != digits.data() + digits.size() || digits.empty() || !std::isfinite(value))
          fail("expected " + what + " (a finite number), got '" + shown(word) + "'");
        return value;
      }

      void expect(const std::string &word)
      {
        const std::string_view got = next("'" + word + "'");
        if (got != word)
          fail("expected '" + word + "', got '" + shown(got) + "'");
      }

      /// A count of items of at least `bytes_each` bytes that the rest of the
      /// file must hold (so that a damaged count allocates nothing).
      std::size_t count(const std::string &what, std::size_t bytes_each, long long lower = 0)
      {
        const long long n = integer(what, lower, (1LL << 53));
        if (static_cast<double>(n) * static_cast<double>(bytes_each) > static_cast<double>(text.size() - pos) + 1)
          fail(what + " is " + std::to_string(n) + ", more than the rest of the file can hold");
        return static_cast<std::size_t>(n);
      }

      unsigned long line() const { return token_line; }

      [[noreturn]] void fail(const std::string &why) const
      {
        throw std::invalid_argument("line " + std::to_string(token_line) + ": " + why);
      }

      /// A word as it may appear in a one-line message.
      static std::string shown(std::string_view word)
      {
        std::string out;
        for (unsigned char c : word.substr(0, 40))
          if (c >= 32 && c < 127)
            out += static_cast<char>(c);
          else
            {
              char hex[8];
              std::snprintf(hex, sizeof hex, "\\x%02x", c);
              out += hex;
            }
        return word.size() > 40 ? out + "..." : out;
      }

    private:
      static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

      const std::string &text;
      std::size_t        pos         = 0;
      unsigned long      line_number = 1;
      unsigned long      token_line  = 1;
    };

    struct ElementType
    {
      unsigned int nodes;
      unsigned int dim;
      const char  *name;
    };

    /// gmsh element types 1..19 (the first- and second-order ones).
    const ElementType *element_type(long long type)
    {
      static const std::array<ElementType, 19> types = {{
        {2, 1, "line"}, {3, 2, "triangle"}, {4, 2, "quadrilateral"}, {4, 3, "tetrahedron"}, {8, 3, "hexahedron"},
        {6, 3, "prism"}, {5, 3, "pyramid"}, {3, 1, "second-order line"}, {6, 2, "second-order triangle"},
        {9, 2, "second-order quadrilateral"}, {10, 3, "second-order tetrahedron"},
        {27, 3, "second-order hexahedron"}, {18, 3, "second-order prism"}, {14, 3, "second-order pyramid"},
        {1, 0, "point"}, {8, 2, "serendipity quadrilateral"}, {20, 3, "serendipity hexahedron"},
        {15, 3, "serendipity prism"}, {13, 3, "serendipity pyramid"},
      }};
      return type >= 1 && type <= 19 ? &types[type - 1] : nullptr;
    }

    /// The first-order hypercube of each dimension: gmsh type and the
    /// deal.II position of each gmsh node (gmsh numbers a quadrilateral's
    /// nodes around it, deal.II lexicographically).
    constexpr long long hypercube_type[4] = {15, 1, 3, 5};
    const char *const   hypercubes[4]     = {"points", "lines", "quadrilaterals", "hexahedra"};
    constexpr unsigned int gmsh_to_deal[8] = {0, 1, 3, 2, 4, 5, 7, 6};

    class Reader
    {
    public:
      Reader(const std::string &text, unsigned int dim)
        : tokens(text)
      {
        mesh.dim = dim;
      }

      GmshMesh read();

    private:
      void read_nodes(int version, const std::string &end);
      void add_node(long long tag, unsigned int parametric_coordinates);
      void read_elements(int version, const std::string &end);
      void add_element(long long type, unsigned long element);
      void skip_section(std::string_view name);

      Tokens                                  tokens;
      GmshMesh                                mesh;
      std::unordered_map<long long, unsigned> node_index; // gmsh tag -> index
      bool                                    have_nodes = false, have_elements = false;
    };

    void Reader::add_node(long long tag, unsigned int parametric_coordinates)
    {
      double x[3];
      for (double &c : x)
        c = tokens.real("a node coordinate");
      for (unsigned int k = 0; k < parametric_coordinates; ++k)
        tokens.real("a parametric node coordinate");
      if (!node_index.emplace(tag, static_cast<unsigned>(node_index.size())).second)
        tokens.fail("node " + std::to_string(tag) + " is defined twice");
      mesh.points.insert(mesh.points.end(), x, x + mesh.dim);
      mesh.tags.push_back(tag);
    }

    void Reader::read_nodes(int version, const std::string &end)
    {
      if (have_nodes)
        tokens.fail("a second node section");
      have_nodes = true;
      const long long max_tag = (1LL << 53);
      if (version < 40)
        {
          const std::size_t n = tokens.count("the number of nodes", 8);
          for (std::size_t i = 0; i < n; ++i)
            add_node(tokens.integer("a node number", 1, max_tag), 0);
        }
      else
        {
          const std::size_t blocks = tokens.count("the number of node blocks", 8);
          const std::size_t total  = tokens.count("the number of nodes", 8);
          if (version == 41)
            for (const char *what : {"the smallest node tag", "the largest node tag"})
              tokens.integer(what, 0, max_tag);
          std::size_t read = 0;
          for (std::size_t b = 0; b < blocks; ++b)
            {
              long long entity_dim = 0;
              if (version == 41)
                {
                  entity_dim = tokens.integer("an entity dimension", 0, 3);
                  tokens.integer("an entity tag", -max_tag, max_tag);
                }
              else
                {
                  tokens.integer("an entity tag", -max_tag, max_tag);
                  entity_dim = tokens.integer("an entity dimension", 0, 3);
                }
              const bool        parametric = tokens.integer("the parametric flag (0 or 1)", 0, 1) == 1;
              const std::size_t n          = tokens.count("the number of nodes in the block", 8);
              if (n > total - read)
                tokens.fail("the node blocks hold more than the " + std::to_string(total) + " nodes declared");
              const unsigned int extra = parametric ? static_cast<unsigned int>(entity_dim) : 0;
              if (version == 41)
                {
                  std::vector<long long> tags(n);
                  for (auto &tag : tags)
                    tag = tokens.integer("a node tag", 1, max_tag);
                  for (const long long tag : tags)
                    add_node(tag, extra);
                }
              else
                for (std::size_t i = 0; i < n; ++i)
                  add_node(tokens.integer("a node tag", 1, max_tag), extra);
              read += n;
            }
          if (read != total)
            tokens.fail("the node blocks hold " + std::to_string(read) + " nodes, not the " +
                        std::to_string(total) + " declared");
        }
      tokens.expect(end);
    }

    void Reader::add_element(long long type, unsigned long element)
    {
      const ElementType *t = element_type(type);
      if (t == nullptr)
        tokens.fail("element " + std::to_string(element) + " has type " + std::to_string(type) +
                    ", which is not a gmsh element type of order 1 or 2");
      const unsigned int dim = mesh.dim;
      unsigned int       nodes[27];
      for (unsigned int k = 0; k < t->nodes; ++k)
        {
          const long long tag   = tokens.integer("a node of element " + std::to_string(element), 1, 1LL << 53);
          const auto      found = node_index.find(tag);
          if (found == node_index.end())
            tokens.fail("element " + std::to_string(element) + " refers to node " + std::to_string(tag) +
                        ", which is not in the node section");
          nodes[k] = found->second;
        }
      if (t->dim < dim)
        return; // a boundary element: TPDE has no boundary ids
      if (t->dim > dim)
        tokens.fail("element " + std::to_string(element) + " is a " + t->name + " (" + std::to_string(t->dim) +
                    "D), but the mesh is " + std::to_string(dim) + "D (entry 'dimension')");
      if (type != hypercube_type[dim])
        tokens.fail("element " + std::to_string(element) + " is a " + t->name + "; a " + std::to_string(dim) +
                    "D mesh must consist of " + hypercubes[dim]);
      for (unsigned int k = 0; k < t->nodes; ++k)
        mesh.cells.push_back(0);
      unsigned int *cell = &mesh.cells[mesh.cells.size() - t->nodes];
      for (unsigned int k = 0; k < t->nodes; ++k)
        cell[gmsh_to_deal[k]] = nodes[k];
      mesh.lines.push_back(tokens.line());
    }

    void Reader::read_elements(int version, const std::string &end)
    {
      if (!have_nodes)
        tokens.fail("the elements come before the nodes");
      if (have_elements)
        tokens.fail("a second element section");
      have_elements = true;
      const long long max_tag = (1LL << 53);
      if (version < 40)
        {
          const std::size_t n = tokens.count("the number of elements", 8);
          for (std::size_t i = 0; i < n; ++i)
            {
              const auto element = static_cast<unsigned long>(tokens.integer("an element number", 1, max_tag));
              const long long type = tokens.integer("an element type", 1, 1000);
              if (version == 10)
                {
                  tokens.integer("the physical region", -max_tag, max_tag);
                  tokens.integer("the elementary region", -max_tag, max_tag);
                  const long long nodes = tokens.integer("the number of nodes", 1, 27);
                  if (element_type(type) != nullptr && static_cast<unsigned>(nodes) != element_type(type)->nodes)
                    tokens.fail("element " + std::to_string(element) + " is a " + element_type(type)->name +
                                " with " + std::to_string(element_type(type)->nodes) + " nodes, not " +
                                std::to_string(nodes));
                }
              else
                for (long long k = tokens.integer("the number of tags", 0, 100); k > 0; --k)
                  tokens.integer("a tag", -max_tag, max_tag);
              add_element(type, element);
            }
        }
      else
        {
          const std::size_t blocks = tokens.count("the number of element blocks", 8);
          const std::size_t total  = tokens.count("the number of elements", 4);
          if (version == 41)
            for (const char *what : {"the smallest element tag", "the largest element tag"})
              tokens.integer(what, 0, max_tag);
          std::size_t read = 0;
          for (std::size_t b = 0; b < blocks; ++b)
            {
              if (version == 41)
                {
                  tokens.integer("an entity dimension", 0, 3);
                  tokens.integer("an entity tag", -max_tag, max_tag);
                }
              else
                {
                  tokens.integer("an entity tag", -max_tag, max_tag);
                  tokens.integer("an entity dimension", 0, 3);
                }
              const long long   type = tokens.integer("an element type", 1, 1000);
              const std::size_t n    = tokens.count("the number of elements in the block", 4);
              if (n > total - read)
                tokens.fail("the element blocks hold more than the " + std::to_string(total) + " elements declared");
              for (std::size_t i = 0; i < n; ++i)
                add_element(type, static_cast<unsigned long>(tokens.integer("an element tag", 1, max_tag)));
              read += n;
            }
          if (read != total)
            tokens.fail("the element blocks hold " + std::to_string(read) + " elements, not the " +
                        std::to_string(total) + " declared");
        }
      tokens.expect(end);
    }

    void Reader::skip_section(std::string_view name)
    {
      const std::string end = "$End" + std::string(name.substr(1));
      while (!tokens.at_end())
        if (tokens.next(end) == end)
          return;
      tokens.fail("the section '" + Tokens::shown(name) + "' has no '" + Tokens::shown(end) + "'");
    }

    GmshMesh Reader::read()
    {
      const std::string_view first = tokens.next("'$MeshFormat' (or '$NOD', gmsh format 1)");
      if (first == "$NOD")
        {
          read_nodes(10, "$ENDNOD");
          tokens.expect("$ELM");
          read_elements(10, "$ENDELM");
        }
      else if (first == "$MeshFormat")
        {
          const double version = tokens.real("the format version");
          if (tokens.integer("the file type (0: ASCII)", 0, 1) != 0)
            tokens.fail("binary gmsh files cannot be read; save the mesh as ASCII");
          tokens.integer("the size of a double", 0, 64);
          tokens.expect("$EndMeshFormat");
          int v = 0;
          if (version >= 2 && version < 3)
            v = 20;
          else if (version == 4 || version == 4.1)
            v = version == 4 ? 40 : 41;
          else
            tokens.fail("gmsh format version " + std::to_string(version) + " cannot be read (expected 2.x, 4.0 or 4.1)");
          while (!tokens.at_end())
            {
              const std::string_view name = tokens.next("a section");
              if (name == "$Nodes")
                read_nodes(v, "$EndNodes");
              else if (name == "$Elements")
                read_elements(v, "$EndElements");
              else if (name.size() > 1 && name[0] == '$' && name.substr(0, 4) != "$End")
                skip_section(name);
              else
                tokens.fail("expected a section such as '$Nodes' or '$Elements', got '" + Tokens::shown(name) + "'");
            }
          if (!have_elements)
            tokens.fail("the file has no '$Elements' section");
        }
      else
        tokens.fail("expected '$MeshFormat' (or '$NOD', gmsh format 1) at the start, got '" + Tokens::shown(first) +
                    "'");
      if (mesh.n_cells() == 0)
        throw std::invalid_argument("the file has no " + std::to_string(mesh.dim) + "D cells (" +
                                    hypercubes[mesh.dim] + ")");
      check_topology(mesh);
      return std::move(mesh);
    }

  } // namespace

  GmshMesh parse_gmsh(const std::string &text, unsigned int dim)
  {
    if (dim < 1 || dim > 3)
      throw std::invalid_argument("a gmsh mesh has dimension 1, 2 or 3, not " + std::to_string(dim));
    return Reader(text, dim).read();
  }
} // namespace tpde
