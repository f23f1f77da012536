#include "mesh/mesh_topology.h"

#include <algorithm>
#include <array>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpde
{
  namespace
  {
    /// A set of a cell's vertices (deal.II's lexicographic numbers: bit k is
    /// the side along axis k) is a vertex, edge, face or the cell itself if
    /// it has 2^(number of bits in which its members differ) members.
    bool is_subcube(const unsigned int *local, std::size_t size)
    {
      unsigned int all = ~0u, any = 0;
      for (std::size_t i = 0; i < size; ++i)
        {
          all &= local[i];
          any |= local[i];
        }
      return size == (std::size_t(1) << __builtin_popcount(all ^ any));
    }

    bool is_edge(unsigned int a, unsigned int b)
    {
      return __builtin_popcount(a ^ b) == 1;
    }

    class UnionFind
    {
    public:
      explicit UnionFind(std::size_t n)
        : parent(n)
      {
        std::iota(parent.begin(), parent.end(), std::size_t(0));
      }
      std::size_t find(std::size_t i)
      {
        while (parent[i] != i)
          i = parent[i] = parent[parent[i]];
        return i;
      }
      void unite(std::size_t a, std::size_t b) { parent[find(a)] = find(b); }

    private:
      std::vector<std::size_t> parent;
    };

    /// Faces by their vertices in deal.II's lexicographic numbering.
    const std::vector<std::vector<unsigned int>> &faces_of(unsigned int dim)
    {
      static const std::vector<std::vector<unsigned int>> faces[4] = {
        {},
        {{0}, {1}},
        {{0, 2}, {1, 3}, {0, 1}, {2, 3}},
        {{0, 2, 4, 6}, {1, 3, 5, 7}, {0, 1, 4, 5}, {2, 3, 6, 7}, {0, 1, 2, 3}, {4, 5, 6, 7}}};
      return faces[dim];
    }

    std::array<unsigned int, 2> edge_key(unsigned int a, unsigned int b)
    {
      return {{std::min(a, b), std::max(a, b)}};
    }

    constexpr unsigned int hex_edges[12][2] = {{0, 1}, {2, 3}, {4, 5}, {6, 7}, {0, 2}, {1, 3},
                                               {4, 6}, {5, 7}, {0, 4}, {1, 5}, {2, 6}, {3, 7}};

    class TopologyCheck
    {
    public:
      explicit TopologyCheck(const GmshMesh &mesh)
        : mesh(mesh)
        , dim(mesh.dim)
        , n(1u << mesh.dim)
      {}

      void run()
      {
        check_cells_and_faces();
        index_cells_at_nodes();
        index_cells_at_edges();
        for (std::size_t c = 0; c < mesh.n_cells(); ++c)
          compare_with_neighbours(c);
        check_fans();
      }

    private:
      unsigned int node(std::size_t c, unsigned int v) const { return mesh.cells[c * n + v]; }
      std::string  where(std::size_t c) const { return "line " + std::to_string(mesh.lines[c]) + ": "; }
      [[noreturn]] void fail(std::size_t c, const std::string &why) const
      {
        throw std::invalid_argument(where(c) + why);
      }

      void check_cells_and_faces() const;
      void index_cells_at_nodes();
      void index_cells_at_edges();
      void compare_with_neighbours(std::size_t c);
      void join_across_face(std::size_t c, std::size_t d, const unsigned int *in_c, const unsigned int *in_d,
                            std::size_t shared);
      std::size_t node_slot(unsigned int p, std::size_t c) const;
      std::size_t edge_slot(unsigned int a, unsigned int b, std::size_t c) const;
      void check_fans();

      const GmshMesh    &mesh;
      const unsigned int dim, n;
      std::vector<std::size_t> first, cells_at; // cells of node p: cells_at[first[p] .. first[p + 1])
      std::vector<std::pair<std::array<unsigned int, 2>, std::size_t>> edge_cells; // 3D: (edge, cell), sorted
      std::unique_ptr<UnionFind> node_fans, edge_fans; // groups of the cells at a node / an edge
    };

    void TopologyCheck::check_cells_and_faces() const
    {
      using Key = std::array<unsigned int, 8>; // sorted nodes, unused places ~0u
      std::vector<std::pair<Key, std::size_t>> cell_keys, face_keys;
      for (std::size_t c = 0; c < mesh.n_cells(); ++c)
        {
          Key key;
          key.fill(~0u);
          for (unsigned int v = 0; v < n; ++v)
            key[v] = node(c, v);
          std::sort(key.begin(), key.begin() + n);
          if (std::adjacent_find(key.begin(), key.begin() + n) != key.begin() + n)
            fail(c, "a cell uses the same node twice");
          cell_keys.emplace_back(key, c);
          for (const auto &face : faces_of(dim))
            {
              Key f;
              f.fill(~0u);
              for (std::size_t k = 0; k < face.size(); ++k)
                f[k] = node(c, face[k]);
              std::sort(f.begin(), f.begin() + face.size());
              face_keys.emplace_back(f, c);
            }
        }
      std::sort(cell_keys.begin(), cell_keys.end());
      for (std::size_t i = 1; i < cell_keys.size(); ++i)
        if (cell_keys[i].first == cell_keys[i - 1].first)
          fail(cell_keys[i].second, "a cell has the same nodes as the cell on line " +
                                      std::to_string(mesh.lines[cell_keys[i - 1].second]));
      std::sort(face_keys.begin(), face_keys.end());
      for (std::size_t i = 2; i < face_keys.size(); ++i)
        if (face_keys[i].first == face_keys[i - 2].first)
          fail(face_keys[i].second, std::string("a ") + (dim == 1 ? "node" : dim == 2 ? "edge" : "face") +
                                      " of this cell belongs to two other cells as well");
    }

    void TopologyCheck::index_cells_at_nodes()
    {
      const std::size_t max_cells_at_node = 1000;
      first.assign(mesh.n_points() + 1, 0);
      cells_at.resize(mesh.n_cells() * n);
      for (std::size_t c = 0; c < mesh.n_cells(); ++c)
        for (unsigned int v = 0; v < n; ++v)
          if (++first[node(c, v) + 1] > max_cells_at_node)
            fail(c, "node " + std::to_string(mesh.tags[node(c, v)]) + " belongs to more than " +
                      std::to_string(max_cells_at_node) + " cells");
      for (std::size_t p = 0; p < mesh.n_points(); ++p)
        first[p + 1] += first[p];
      std::vector<std::size_t> next(first.begin(), first.end() - 1);
      for (std::size_t c = 0; c < mesh.n_cells(); ++c)
        for (unsigned int v = 0; v < n; ++v)
          cells_at[next[node(c, v)]++] = c;
      node_fans = std::make_unique<UnionFind>(cells_at.size());
    }

    void TopologyCheck::index_cells_at_edges()
    {
      if (dim != 3)
        return;
      for (std::size_t c = 0; c < mesh.n_cells(); ++c)
        for (const auto &e : hex_edges)
          edge_cells.push_back({edge_key(node(c, e[0]), node(c, e[1])), c});
      std::sort(edge_cells.begin(), edge_cells.end());
      edge_fans = std::make_unique<UnionFind>(edge_cells.size());
    }

    std::size_t TopologyCheck::node_slot(unsigned int p, std::size_t c) const
    {
      return static_cast<std::size_t>(std::find(cells_at.begin() + first[p], cells_at.begin() + first[p + 1], c) -
                                      cells_at.begin());
    }

    std::size_t TopologyCheck::edge_slot(unsigned int a, unsigned int b, std::size_t c) const
    {
      const std::pair<std::array<unsigned int, 2>, std::size_t> key{edge_key(a, b), c};
      return static_cast<std::size_t>(std::lower_bound(edge_cells.begin(), edge_cells.end(), key) -
                                      edge_cells.begin());
    }

    /// Every cell d > c that shares nodes with c: the shared nodes must be
    /// one whole vertex, edge or face of both, with the same edges.
    void TopologyCheck::compare_with_neighbours(std::size_t c)
    {
      std::vector<std::size_t> neighbours;
      for (unsigned int v = 0; v < n; ++v)
        for (std::size_t k = first[node(c, v)]; k < first[node(c, v) + 1]; ++k)
          if (cells_at[k] > c)
            neighbours.push_back(cells_at[k]);
      std::sort(neighbours.begin(), neighbours.end());
      neighbours.erase(std::unique(neighbours.begin(), neighbours.end()), neighbours.end());
      for (const std::size_t d : neighbours)
        {
          unsigned int in_c[8], in_d[8];
          std::size_t  shared = 0;
          for (unsigned int i = 0; i < n; ++i)
            for (unsigned int j = 0; j < n; ++j)
              if (node(c, i) == node(d, j))
                {
                  in_c[shared]   = i;
                  in_d[shared++] = j;
                }
          bool conforming = shared < 2 || (is_subcube(in_c, shared) && is_subcube(in_d, shared));
          for (std::size_t a = 0; a < shared && conforming; ++a)
            for (std::size_t b = a + 1; b < shared; ++b)
              if (is_edge(in_c[a], in_c[b]) != is_edge(in_d[a], in_d[b]))
                conforming = false;
          if (!conforming)
            fail(d, "this cell and the cell on line " + std::to_string(mesh.lines[c]) +
                      " share nodes that are not one whole edge or face of both (the cells overlap or are twisted)");
          if (shared == n / 2)
            join_across_face(c, d, in_c, in_d, shared);
        }
    }

    /// c and d share a face: they are in one group at each node of the face
    /// and (3D) at each edge of it.
    void TopologyCheck::join_across_face(std::size_t c, std::size_t d, const unsigned int *in_c,
                                         const unsigned int * /*in_d*/, std::size_t shared)
    {
      for (std::size_t k = 0; k < shared; ++k)
        {
          const unsigned int p = node(c, in_c[k]);
          node_fans->unite(node_slot(p, c), node_slot(p, d));
        }
      if (dim == 3)
        for (std::size_t a = 0; a < shared; ++a)
          for (std::size_t b = a + 1; b < shared; ++b)
            if (is_edge(in_c[a], in_c[b]))
              {
                const unsigned int p = node(c, in_c[a]), q = node(c, in_c[b]);
                edge_fans->unite(edge_slot(p, q, c), edge_slot(p, q, d));
              }
    }

    void TopologyCheck::check_fans()
    {
      for (std::size_t p = 0; p < mesh.n_points(); ++p)
        for (std::size_t k = first[p] + 1; k < first[p + 1]; ++k)
          if (node_fans->find(k) != node_fans->find(first[p]))
            fail(cells_at[k], "the cells at node " + std::to_string(mesh.tags[p]) + " are not connected through " +
                                (dim == 2 ? "edges" : "faces") + " at that node (the mesh is pinched there; cells "
                                "of different groups would touch only at the node)");
      for (std::size_t i = 1; i < edge_cells.size(); ++i)
        {
          std::size_t start = i - 1;
          while (i < edge_cells.size() && edge_cells[i].first == edge_cells[start].first)
            {
              if (edge_fans->find(i) != edge_fans->find(start))
                fail(edge_cells[i].second, "the cells at the edge from node " +
                                             std::to_string(mesh.tags[edge_cells[i].first[0]]) + " to node " +
                                             std::to_string(mesh.tags[edge_cells[i].first[1]]) +
                                             " are not connected through faces at that edge (the mesh is pinched "
                                             "there)");
              ++i;
            }
        }
    }
  } // namespace

  void check_topology(const GmshMesh &mesh)
  {
    TopologyCheck(mesh).run();
  }
} // namespace tpde
