"""Runs on the circle S^1 and on the sphere S^2 for view_runs.py (imported by it, not run alone).

TPDE writes a circle run as a ring of Lagrange curves in the plane z = 0 (with the angle as the point
array 'theta') and an S^2 run as Lagrange quadrilaterals on the unit sphere; both carry 'density' and
the tangent 'velocity'. A run is taken for one on the unit circle or sphere when every point lies at
radius 1 (to RADIUS_TOLERANCE): nothing else in the writer's output says so, and a particle run's
.vtp carries only its points.

  circle  the ring as a thick line coloured by the density (unlit, so its colours are the legend's),
          seen from above with labelled x and y axes; --warp W draws the radial graph
          r = 1 + W x density instead, over a thin grey unit circle; tokens are red points on r = 1.
  sphere  the surface coloured by the density and lit (so its shape shows), seen in parallel
          projection from the densest point of the drawn output (of the last output for --animation,
          so the camera stays put) or from --view-direction, z upwards (y when looking along z); a
          caption states both (no orientation triad: its red x axis would pass for tokens). Tokens are
          red points lifted 1 % off the surface: the sphere hides those on the far hemisphere.
  --glyphs  the velocity as black arrows (at most GLYPH_COUNT), tangent to the ring or the sphere,
          the longest GLYPH_LENGTH long, rescaled every frame.
Without a grid run, tokens are drawn on a light grey unit circle or sphere.
"""
import math

RADIUS_TOLERANCE = 1e-6
REFERENCE_COLOUR = [0.7, 0.7, 0.7]  # the unit circle under a radial graph, the sphere under tokens alone
ARROW_COLOUR = [0.0, 0.0, 0.0]
GLYPH_COUNT = 400
GLYPH_LENGTH = 0.15  # the longest arrow, in units of the radius
TOKEN_LIFT = 1.01  # tokens just outside the surface: drawn over it, and hidden behind the sphere
RING_WIDTH = 6.0  # pixels at 800 x 600


def surface_of(pv, source, time, bounds):
    """'circle', 'sphere' or None: whether every point of `source` lies on the unit circle or sphere."""
    radius = pv.Calculator(Input=source, ResultArrayName="tpde_radius", Function="mag(coords)")
    radius.UpdatePipeline(time)
    low, high = radius.PointData["tpde_radius"].GetRange()
    pv.Delete(radius)
    if not (abs(low - 1) <= RADIUS_TOLERANCE and abs(high - 1) <= RADIUS_TOLERANCE):
        return None
    # the plane z = 0 makes the circle: tokens of S^2 may all share another z (a circle of latitude)
    return "circle" if max(abs(bounds[4]), abs(bounds[5])) <= RADIUS_TOLERANCE else "sphere"


def densest_direction(pv, source, time):
    """The unit vector to the point of highest density of `source` at `time`."""
    from paraview import servermanager
    source.UpdatePipeline(time)
    data = servermanager.Fetch(source)
    density = data.GetPointData().GetArray("density")
    best = max(range(data.GetNumberOfPoints()), key=density.GetValue)
    return normalised(data.GetPoint(best))


def normalised(vector):
    norm = math.sqrt(sum(c * c for c in vector))
    return [c / norm for c in vector]


def cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


class SurfaceView:
    """What view_runs.Scene does differently for a run on the circle or the sphere."""

    def __init__(self, scene, kind):
        self.scene = scene
        self.pv = scene.pv
        self.kind = kind
        self.glyphs = None
        self.glyph_source = None
        given = scene.arguments.view_direction
        self.direction = normalised(given) if given else None  # the sphere is seen from this point's side
        self.direction_caption = None

    # --- pipeline -----------------------------------------------------------------------------
    def show_grid(self, grid, time):
        """Draws the density of `grid`; returns the source whose density is coloured."""
        pv, scene = self.pv, self.scene
        source = grid
        if self.kind == "circle" and scene.arguments.warp > 0:
            # the radial graph: every point moved from r = 1 to r = 1 + W x density
            source = pv.Calculator(Input=grid, ResultArrayName="graph", CoordinateResults=1,
                                   Function="coords*(1+%.17g*density)" % scene.arguments.warp)
            self.show_reference(grid)
        elif self.kind == "sphere":  # the sphere's own normals: smooth shading, not the subdivision's facets
            source = pv.Calculator(Input=grid, ResultArrayName="Normals", ResultNormals=1, Function="coords")
        display = pv.Show(source, scene.view)
        display.NonlinearSubdivisionLevel = 1 if self.kind == "circle" else 2  # 2 crashes 5.11 on curves
        if self.kind == "circle":
            display.SetRepresentationType("Wireframe")
            display.LineWidth = RING_WIDTH * scene.font_scale
            display.Ambient, display.Diffuse = 1.0, 0.0  # unlit: the colours are the legend's exactly
        else:
            display.SetRepresentationType("Surface")
            display.Ambient, display.Diffuse = 0.15, 0.85  # the light shows the shape
            display.Specular, display.SpecularPower = 0.15, 40.0
            self.direction = self.view_direction(grid, time)
        if scene.arguments.glyphs:
            self.show_glyphs(grid)
        return source, display

    def view_direction(self, grid, time):
        given = self.scene.arguments.view_direction
        if given:
            return normalised(given)
        at = self.scene.times[-1] if self.scene.arguments.animation else time
        return densest_direction(self.pv, grid, at)

    def show_reference(self, source=None):
        """A light grey unit circle (thin) or sphere (lit), under a radial graph or tokens alone."""
        pv = self.pv
        if source is None and self.kind == "circle":
            source = pv.Ellipse(MajorRadiusVector=[1.0, 0.0, 0.0], Ratio=1.0, Resolution=360)
        elif source is None:
            source = pv.Sphere(Radius=1.0, ThetaResolution=96, PhiResolution=48)
        display = pv.Show(source, self.scene.view)
        display.ColorArrayName = ["POINTS", ""]
        display.AmbientColor = display.DiffuseColor = REFERENCE_COLOUR
        if self.kind == "circle":
            display.SetRepresentationType("Wireframe")
            display.LineWidth = 1.5 * self.scene.font_scale
            display.Ambient, display.Diffuse = 1.0, 0.0
        self.scene.displays.append(display)

    def show_glyphs(self, grid):
        pv = self.pv
        glyphs = pv.Glyph(Input=grid, GlyphType="Arrow")
        glyphs.OrientationArray = ["POINTS", "velocity"]
        glyphs.ScaleArray = ["POINTS", "velocity"]
        glyphs.GlyphMode = "Every Nth Point"
        display = pv.Show(glyphs, self.scene.view)
        display.ColorArrayName = ["POINTS", ""]
        display.AmbientColor = display.DiffuseColor = ARROW_COLOUR
        self.scene.displays.append(display)
        self.glyphs = glyphs
        self.glyph_source = grid

    def lift_tokens(self, tokens):
        """Tokens just off the surface, so the ring or the sphere does not cover them."""
        lifted = self.pv.Transform(Input=tokens)
        if self.kind == "circle":  # seen from +z in parallel projection: in front, in the same place
            lifted.Transform.Translate = [0.0, 0.0, 0.5]
        else:
            lifted.Transform.Scale = [TOKEN_LIFT] * 3
        return lifted

    def style_tokens(self, display):
        display.Ambient, display.Diffuse = 1.0, 0.0  # unlit: the same red on the whole sphere

    # --- frames -------------------------------------------------------------------------------
    def update(self, time):
        """The arrows of this frame: the fastest GLYPH_LENGTH long, about GLYPH_COUNT of them."""
        if self.glyphs is None:
            return
        information = self.glyph_source.GetDataInformation()
        fastest = self.glyph_source.PointData["velocity"].GetRange(-1)[1]
        self.glyphs.ScaleFactor = GLYPH_LENGTH / fastest if fastest > 0 else 0.0
        self.glyphs.Stride = max(1, information.GetNumberOfPoints() // GLYPH_COUNT)

    def add_axes(self):
        """The sphere: the viewing direction and the axis drawn upwards instead of a box of axes (and no
        orientation triad: its x axis is red, the tokens' colour)."""
        if self.kind == "circle":
            return False
        scene = self.scene
        direction = self.direction or [0.0, 0.0, 1.0]
        text = "seen from (%.3g, %.3g, %.3g)" % tuple(direction)
        if self.direction is not None and not scene.arguments.view_direction:
            text += ", the densest point"
        text += "\n%s upwards" % ("z" if abs(direction[2]) < 0.99 else "y")
        label, display = scene.caption(text, "Upper Right Corner", 14)
        display.Justification = "Right"
        return True

    def place_camera(self, data_centre, data_height):
        """The sphere: parallel projection along the viewing direction, the unit disc filling the data
        area's height, its centre at `data_centre` of the image width."""
        scene = self.scene
        view = scene.view
        direction = self.direction or [0.0, 0.0, 1.0]
        up = [0.0, 0.0, 1.0] if abs(direction[2]) < 0.99 else [0.0, 1.0, 0.0]  # as add_axes says
        right = normalised(cross([-c for c in direction], up))
        up = cross(right, [-c for c in direction])
        width, height = scene.arguments.size
        half_height = TOKEN_LIFT / data_height
        shift = (0.5 - data_centre) * 2 * half_height * width / height
        focal = [shift * r for r in right]
        view.CameraParallelProjection = 1
        view.CameraFocalPoint = focal
        view.CameraPosition = [f + 5 * d for f, d in zip(focal, direction)]
        view.CameraViewUp = up
        view.CameraParallelScale = half_height
