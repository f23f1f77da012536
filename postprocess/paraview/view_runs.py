"""A grid run, a particle run or both in one ParaView view, saved as PNG.

    postprocess/paraview/tpde-pvbatch postprocess/paraview/view_runs.py \\
        --grid output/default/solution.pvd [--particles output/default/particles/particles.pvd] \\
        --output frame.png [--time 1.5 | --animation] [--range frame|run] [--warp 2] [--size 1200 900]

What is drawn (white background, black text, an axes grid with labelled coordinates):
  1D  the graph of the density over x (the vertical axis is labelled in units of density);
  2D  the density on the mesh seen from above, or with --warp W as a surface of height W x density
      (the vertical axis again labelled in density);
  3D  the mesh's outline and the density on its horizontal mid-plane z = const.
  Runs on the circle and on S^2 (every point at radius 1) are drawn by sphere_view.py: the ring
  coloured by the density (--warp W: the radial graph r = 1 + W x density), the sphere lit and seen
  from its densest point (or --view-direction X Y Z); --glyphs adds the tangent velocity as arrows.
The density is coloured with Viridis. Its colour range is stated in the legend, with its end
values: --range frame (default) takes each frame's own minimum and maximum of the drawn density, so
no frame saturates; --range run takes the minimum and maximum over all output times of the run, so
frames of an animation can be compared by colour. Tokens of a particle run are red points (not in
Viridis). Masked-attention runs label their first axis s.

Without --time the last output time is drawn; --time T draws the output time nearest to T.
--animation writes one PNG per output time (frame.0000.png, frame.0001.png, ...). Either run may be
left out. Exit codes: 0 written; 2 bad input (a missing or unreadable .pvd, a series without the
density, an unwritable output): one line on stderr; 1 ParaView failed (one line on stderr).
Runs under pvbatch (or pvpython); tpde-pvbatch sets up ParaView's Python modules and a virtual display.
"""
import argparse
import math
import os
import sys
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pvbatch does not add the script's folder
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import sphere_view  # noqa: E402 (needs the path above)

PROGRAM = "view_runs.py"
TOKEN_COLOUR = [0.9, 0.05, 0.05]  # not in Viridis, so tokens stay distinguishable
BACKGROUND = [1.0, 1.0, 1.0]
TEXT_COLOUR = [0.0, 0.0, 0.0]
GRID_COLOUR = [0.55, 0.55, 0.55]
DATA_FRACTION = 0.76  # the left part of the image holds the data, the right part the legend
DATA_CENTRE = 0.45  # where the data's centre goes (fraction of the image width)
DATA_WIDTH = 0.56  # the data's largest share of the image width ...
DATA_HEIGHT = 0.66  # ... and of its height (the rest: axes' labels and captions)


class InputError(Exception):
    """Bad input: one line on stderr, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise InputError(message)


def parse_arguments(argv):
    parser = Parser(prog=PROGRAM, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", help="solution.pvd of a grid run")
    parser.add_argument("--particles", help="particles.pvd of a particle run")
    parser.add_argument("--output", required=True, help="PNG file (the frame, or the stem of an animation)")
    parser.add_argument("--time", type=float, help="time to draw (default: the last one)")
    parser.add_argument("--animation", action="store_true", help="one PNG per output time")
    parser.add_argument("--range", choices=("frame", "run"), default="frame",
                        help="colour range: each frame's own (default) or the whole run's")
    parser.add_argument("--warp", type=float, default=0.0,
                        help="2D: draw a surface of height WARP x density; 1D: height of the graph per unit "
                             "density (default: half the x extent at the top of the colour range)")
    parser.add_argument("--size", type=int, nargs=2, default=[1200, 900], metavar=("WIDTH", "HEIGHT"))
    parser.add_argument("--point-size", type=float, default=3.0)
    parser.add_argument("--glyphs", action="store_true",
                        help="circle and S^2 runs: the tangent velocity as arrows")
    parser.add_argument("--view-direction", type=float, nargs=3, metavar=("X", "Y", "Z"),
                        help="S^2 runs: look at the sphere from this direction (default: from the densest point)")
    arguments = parser.parse_args(argv)
    if not arguments.grid and not arguments.particles:
        raise InputError("give --grid, --particles or both")
    if arguments.time is not None and arguments.animation:
        raise InputError("--time and --animation exclude each other")
    if arguments.size[0] < 100 or arguments.size[1] < 100 or max(arguments.size) > 8192:
        raise InputError("--size: expected a width and a height between 100 and 8192 pixels")
    if arguments.warp < 0 or not math.isfinite(arguments.warp):
        raise InputError("--warp: expected a non-negative number")
    if arguments.point_size <= 0:
        raise InputError("--point-size: expected a positive number")
    if arguments.view_direction and not (all(math.isfinite(c) for c in arguments.view_direction)
                                         and any(c != 0 for c in arguments.view_direction)):
        raise InputError("--view-direction: expected three finite numbers, not all zero")
    if arguments.glyphs and not arguments.grid:
        raise InputError("--glyphs: needs --grid (the velocity of a grid run)")
    return arguments


def check_series(path, option):
    """The .pvd at `path` exists, parses and lists files that exist; returns {time: [file, ...]}."""
    where = "%s '%s'" % (option, path)
    if not os.path.exists(path):
        raise InputError(where + ": no such file")
    if not os.path.isfile(path):
        raise InputError(where + ": not a file")
    try:
        with open(path, "rb") as stream:
            root = ElementTree.parse(stream).getroot()
    except OSError as e:
        raise InputError(where + ": cannot be read (%s)" % e.strerror)
    except ElementTree.ParseError as e:
        raise InputError(where + ": not a ParaView .pvd file (%s)" % e)
    collection = root.find("Collection")
    if root.tag != "VTKFile" or collection is None:
        raise InputError(where + ": not a ParaView .pvd file (expected <VTKFile type=\"Collection\">)")
    files = {}
    folder = os.path.dirname(os.path.abspath(path))
    for data_set in collection.findall("DataSet"):
        name = data_set.get("file")
        if not name:
            raise InputError(where + ": a DataSet without a file")
        if not os.path.isfile(os.path.join(folder, name)):
            raise InputError(where + ": lists '%s', which does not exist" % name)
        try:
            time = float(data_set.get("timestep", "0"))
        except ValueError:
            raise InputError(where + ": DataSet '%s' has the time '%s'" % (name, data_set.get("timestep")))
        files.setdefault(time, []).append(name)
    if not files:
        raise InputError(where + ": lists no data files")
    return files


def check_output(path):
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise InputError("--output '%s': cannot create the folder (%s)" % (path, e.strerror))
    if not os.access(folder, os.W_OK):
        raise InputError("--output '%s': the folder is not writable" % path)


def run_label(path):
    """The path as given, shortened from the left to fit a caption."""
    return path if len(path) <= 70 else "..." + path[-67:]


class Scene:
    """The pipeline, the colour map, the axes and the captions of one view."""

    def __init__(self, pv, arguments, times):
        self.pv = pv
        self.arguments = arguments
        self.times = times
        self.view = pv.CreateView("RenderView")
        self.view.ViewSize = arguments.size
        self.view.Background = BACKGROUND
        self.view.OrientationAxesVisibility = 0
        try:  # ParaView >= 5.10 uses a palette unless told otherwise
            self.view.UseColorPaletteForBackground = 0
        except AttributeError:
            pass
        self.dimension = 2
        self.coloured = None  # the source whose density is coloured
        self.height = 1.0  # 1D: graph height per unit density; 2D warped: surface height per unit density
        self.stretch = [1.0, 1.0, 1.0]  # 2D seen from above: a thin domain is drawn stretched to a square
        self.displays = []  # everything drawn in data coordinates (scaled together)
        self.warped = False
        self.lifted_tokens = None
        self.surface = None  # a sphere_view.SurfaceView for runs on the circle or S^2
        self.axis_names = ["x", "y", "z"]
        self.lut = None
        self.bar = None
        self.run_range = None
        self.readers = []  # (reader, option, path, {time: files})
        # font sizes are chosen for 800 x 600 pixels and grow with the image
        self.font_scale = max(1.0, min(arguments.size[0] / 800, arguments.size[1] / 600))

    def font(self, size):
        return int(round(size * self.font_scale))

    # --- pipeline -----------------------------------------------------------------------------
    def add_grid(self, path, time, files):
        pv = self.pv
        grid = pv.PVDReader(FileName=path)
        grid.UpdatePipelineInformation()
        self.readers.append((grid, "--grid", path, files))
        self.read(time)
        information = grid.GetDataInformation()
        if "density" not in grid.PointData.keys():
            raise InputError("--grid '%s': no point array 'density' (expected a TPDE grid run's solution.pvd)" % path)
        if "s" in list(grid.PointArrays):  # masked attention: coordinate 0 is the position s
            self.axis_names = ["s", "x", "y"]
        self.set_extent(information.GetBounds())
        bounds = information.GetBounds()
        kind = sphere_view.surface_of(pv, grid, time, bounds) if self.dimension > 1 else None
        if kind:
            self.surface = sphere_view.SurfaceView(self, kind)
            source, display = self.surface.show_grid(grid, time)
        elif self.arguments.glyphs:
            raise InputError("--glyphs: '%s' is no run on the circle or S^2" % path)
        else:
            source, display = self.show_flat_grid(grid, bounds)
        pv.ColorBy(display, ("POINTS", "density"))
        self.displays.append(display)
        self.lut = pv.GetColorTransferFunction("density")
        self.lut.ApplyPreset("Viridis (matplotlib)", True)
        self.lut.AutomaticRescaleRangeMode = "Never"  # the range is ours, set for every frame
        self.coloured = source
        self.add_colour_legend()

    def show_flat_grid(self, grid, bounds):
        """A Euclidean run: its source whose density is coloured, and that source's display."""
        pv = self.pv
        source = grid
        if self.dimension == 1:  # the graph y = density, drawn stretched by self.height
            source = pv.WarpByScalar(Input=grid, Scalars=["POINTS", "density"], ScaleFactor=1.0)
            source.Normal = [0.0, 1.0, 0.0]
            source.UseNormal = 1
        elif self.dimension == 2 and self.arguments.warp > 0:
            source = pv.WarpByScalar(Input=grid, Scalars=["POINTS", "density"], ScaleFactor=1.0)
            source.Normal = [0.0, 0.0, 1.0]
            source.UseNormal = 1
            self.warped = True
            self.height = self.arguments.warp
        if self.dimension == 3:  # the mesh's outline and the density on the mid-plane z = const
            outline = pv.Show(grid, self.view)
            outline.SetRepresentationType("Outline")
            outline.ColorArrayName = ["POINTS", ""]
            outline.AmbientColor = outline.DiffuseColor = TEXT_COLOUR
            self.displays.append(outline)
            source = pv.Slice(Input=grid)
            source.SliceType = "Plane"
            source.SliceType.Origin = [(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2,
                                       (bounds[4] + bounds[5]) / 2]
            source.SliceType.Normal = [0.0, 0.0, 1.0]
        display = pv.Show(source, self.view)
        display.SetRepresentationType("Surface" if self.dimension > 1 else "Wireframe")
        if self.dimension == 1:
            display.LineWidth = 3.0
        if self.dimension == 1 or (self.dimension == 2 and not self.warped):
            display.Ambient, display.Diffuse = 1.0, 0.0  # unlit: the colours are the legend's exactly
        try:  # Lagrange cells: subdivide so Q2-Q4 look smooth (level 2 crashes ParaView 5.11 on curves)
            display.NonlinearSubdivisionLevel = 1 if self.dimension == 1 else 2
        except AttributeError:
            pass
        return source, display

    def add_particles(self, path, time, files):
        pv = self.pv
        tokens = pv.PVDReader(FileName=path)
        tokens.UpdatePipelineInformation()
        self.readers.append((tokens, "--particles", path, files))
        self.read(time)
        information = tokens.GetDataInformation()
        if self.coloured is None:
            self.set_extent(information.GetBounds())
            kind = sphere_view.surface_of(pv, tokens, time, information.GetBounds()) if self.dimension > 1 else None
            if kind:  # tokens alone: drawn on a grey circle or sphere
                self.surface = sphere_view.SurfaceView(self, kind)
                self.surface.show_reference()
        source = tokens
        if self.surface is not None:
            source = self.surface.lift_tokens(tokens)
        elif self.warped:  # keep the tokens above the warped surface (moved with every frame)
            source = pv.Transform(Input=tokens)
            source.Transform.Translate = [0.0, 0.0, 0.0]
            self.lifted_tokens = source
        display = pv.Show(source, self.view)
        display.SetRepresentationType("Points")
        display.ColorArrayName = ["POINTS", ""]  # solid colour
        display.AmbientColor = TOKEN_COLOUR
        display.DiffuseColor = TOKEN_COLOUR
        display.PointSize = self.arguments.point_size
        if self.surface is not None:
            self.surface.style_tokens(display)
        self.displays.append(display)

    def read(self, time):
        """Reads every run at `time`; a file that VTK cannot read is an InputError naming it."""
        for reader, option, path, files in self.readers:
            reader.UpdatePipeline(time)
            if reader.GetDataInformation().GetNumberOfPoints() == 0:
                listed = min(files, key=lambda t: abs(t - time))  # the series' time ParaView reads
                raise InputError("%s '%s': no points could be read at t = %g (%s)" %
                                 (option, path, listed, ", ".join(files[listed])))

    def set_extent(self, bounds):
        """The dimension, and the stretch that draws a thin 2D domain (e.g. masked: s in [0, 1],
        x in [-10, 10]) as a square; the axes still give the data's coordinates."""
        extents = [bounds[1] - bounds[0], bounds[3] - bounds[2], bounds[5] - bounds[4]]
        self.dimension = 1 if extents[1] == 0 else (2 if extents[2] == 0 else 3)
        self.x_extent = extents[0]
        self.x_bounds = bounds[0:2]
        if self.dimension == 2 and not self.arguments.warp and min(extents[:2]) > 0:
            longer = max(extents[:2])
            if longer > 3 * min(extents[:2]):
                self.stretch = [longer / extents[0], longer / extents[1], 1.0]

    def geometry_scale(self):
        """How the drawn geometry is scaled from the data's coordinates."""
        if self.dimension == 1 and self.coloured is not None:
            return [1.0, self.height, 1.0]
        if self.warped:
            return [1.0, 1.0, self.height]
        return list(self.stretch)

    # --- legend, axes, captions -------------------------------------------------------------------
    def add_colour_legend(self):
        bar = self.pv.GetScalarBar(self.lut, self.view)
        bar.Title = "density"
        bar.ComponentTitle = ""
        bar.HorizontalTitle = 1
        bar.TitleColor = bar.LabelColor = TEXT_COLOUR
        bar.TitleFontSize = self.font(18)
        bar.LabelFontSize = self.font(16)
        bar.TitleBold = 1
        bar.AddRangeLabels = 1  # the two ends of the range, always
        bar.RangeLabelFormat = "%-#.3g"
        bar.AutomaticLabelFormat = 1
        bar.DrawTickLabels = 1
        bar.WindowLocation = "Any Location"
        bar.Orientation = "Vertical"
        bar.Position = [DATA_FRACTION + 0.06, 0.12]
        bar.ScalarBarLength = 0.62
        bar.ScalarBarThickness = self.font(20)
        bar.Visibility = 1
        self.bar = bar
        self.range_caption, display = self.caption("", "Any Location", 15)
        display.Position = [DATA_FRACTION + 0.03, 0.80]

    def caption(self, text, location, size):
        label = self.pv.Text(Text=text)
        display = self.pv.Show(label, self.view)
        display.Color = TEXT_COLOUR
        display.FontSize = self.font(size)
        display.WindowLocation = location
        display.Justification = "Left"
        return label, display

    def add_axes(self):
        if self.surface is not None and self.surface.add_axes():
            return
        axes = self.view.AxesGrid
        axes.Visibility = 1
        names = self.axis_names
        axes.XTitle, axes.YTitle, axes.ZTitle = names[0], names[1], names[2]
        if self.dimension == 1 and self.coloured is not None:
            axes.YTitle = "density   "  # the spaces keep the title off the tick labels
        elif self.dimension == 1:  # tokens on the x axis alone: a flat box, only x labelled
            axes.UseCustomBounds = 1
            axes.CustomBounds = [self.x_bounds[0], self.x_bounds[1], -0.05 * self.x_extent, 0.05 * self.x_extent,
                                 0.0, 0.0]
            axes.YTitle = ""
        elif self.warped:
            axes.ZTitle = "density"
        for axis in "XYZ":
            setattr(axes, axis + "TitleColor", TEXT_COLOUR)
            setattr(axes, axis + "LabelColor", TEXT_COLOUR)
            setattr(axes, axis + "TitleFontSize", self.font(18))
            setattr(axes, axis + "LabelFontSize", self.font(15))
            setattr(axes, axis + "TitleBold", 1)
        axes.GridColor = GRID_COLOUR
        if self.dimension < 3 and not self.warped:
            # the edges at min y (bottom: x labels) and min x (left: y labels), vtkGridAxesHelper's masks
            axes.AxesToLabel = 0x02 if axes.UseCustomBounds else 0x01 | 0x02
            axes.FacesToRender = 0x04  # the x-y face only (vtkGridAxesHelper: MIN_XY)

    def add_captions(self):
        self.time_caption = self.caption("", "Upper Left Corner", 20)[0]
        runs = []
        if self.arguments.grid:
            runs.append("grid run: " + run_label(self.arguments.grid))
        if self.arguments.particles:
            runs.append("tokens (red points): " + run_label(self.arguments.particles))
        self.caption("\n".join(runs), "Lower Left Corner", 14)

    # --- colour range ---------------------------------------------------------------------------
    def density_range(self, time):
        self.coloured.UpdatePipeline(time)
        low, high = self.coloured.PointData["density"].GetRange()
        return low, high

    def colour_range(self, time):
        if self.arguments.range == "run":
            if self.run_range is None:
                ranges = []
                for t in self.times:
                    self.read(t)
                    ranges.append(self.density_range(t))
                self.run_range = (min(r[0] for r in ranges), max(r[1] for r in ranges))
            return self.run_range
        return self.density_range(time)

    def set_frame(self, index, time):
        """Colour range, heights and captions of the frame at `time`."""
        self.view.ViewTime = time
        self.read(time)
        self.time_caption.Text = "t = %.6g   (output %d of %d)" % (time, index + 1, len(self.times))
        if self.coloured is not None:
            self.set_colour_range(time)
        if self.surface is not None:
            self.surface.update(time)
        scale = self.geometry_scale()
        for display in self.displays:
            display.Scale = scale
        self.view.AxesGrid.DataScale = scale  # the labels give data values, not the stretched geometry

    def set_colour_range(self, time):
        low, high = self.colour_range(time)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise InputError("--grid '%s': the density at t = %g is not finite" % (self.arguments.grid, time))
        shown_high = high if high > low else low + max(abs(low), 1.0) * 1e-12
        self.lut.RescaleTransferFunction(low, shown_high)
        try:
            self.pv.GetOpacityTransferFunction("density").RescaleTransferFunction(low, shown_high)
        except AttributeError:
            pass
        if self.arguments.range == "frame":
            self.range_caption.Text = "colour range:\nmin to max\nof this frame"
        else:
            self.range_caption.Text = "colour range:\nmin to max over\nall %d outputs" % len(self.times)
        top = max(high, 1e-300)
        if self.dimension == 1:  # the graph half as high as the x extent at the top of the colour range
            self.height = self.arguments.warp or 0.5 * self.x_extent / top
        if self.lifted_tokens is not None:
            self.lifted_tokens.Transform.Translate = [0.0, 0.0, 1.02 * top]

    # --- camera ---------------------------------------------------------------------------------
    def place_camera(self):
        """Fits the drawn data into the left part of the image (the legend is on the right)."""
        view = self.view
        legend = self.coloured is not None
        if self.surface is not None and self.surface.kind == "sphere":
            self.surface.place_camera(DATA_CENTRE if legend else 0.5, DATA_HEIGHT)
            return
        parallel = self.dimension < 3 and not self.warped
        view.CameraParallelProjection = 1 if parallel else 0
        view.CameraFocalPoint = [0, 0, 0]
        if parallel:
            view.CameraPosition, view.CameraViewUp = [0, 0, 1], [0, 1, 0]
        elif self.warped:
            view.CameraPosition, view.CameraViewUp = [0.6, -1.2, 1.0], [0, 0, 1]
        else:
            view.CameraPosition, view.CameraViewUp = [1.2, -1.0, 0.8], [0, 0, 1]
        self.pv.Render(view)  # the geometry of this frame (heights, lifted tokens)
        view.ResetCamera()
        camera = view.GetActiveCamera()
        width, height = self.arguments.size
        aspect = width / height
        data_centre = DATA_CENTRE if legend else 0.5
        data_width = DATA_WIDTH if legend else DATA_WIDTH + 0.14
        if self.dimension == 1:  # the vertical axis' title "density" needs room on the left
            data_centre += 0.03
            data_width -= 0.06
        if parallel:  # the data's box spans DATA_WIDTH of the width or DATA_HEIGHT of the height
            bounds = view.GetRenderer().ComputeVisiblePropBounds()
            half_height = max(max(bounds[1] - bounds[0], 1e-300) / (2 * data_width * aspect),
                              (bounds[3] - bounds[2]) / (2 * DATA_HEIGHT))
            camera.SetParallelScale(half_height)
            centre = [(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, 0.0]
            # the box's centre at DATA_CENTRE of the width and a little above the middle
            centre[0] += (0.5 - data_centre) * 2 * half_height * aspect
            centre[1] -= 0.03 * 2 * half_height
            camera.SetFocalPoint(centre[0], centre[1], 0.0)
            camera.SetPosition(centre[0], centre[1], camera.GetDistance())
            return
        camera.Zoom(0.8)  # room for the axes' labels
        half_height = camera.GetDistance() * math.tan(math.radians(camera.GetViewAngle()) / 2)
        shift = (0.5 - data_centre) * 2 * half_height * aspect
        direction = camera.GetDirectionOfProjection()
        up = camera.GetViewUp()
        right = [direction[1] * up[2] - direction[2] * up[1], direction[2] * up[0] - direction[0] * up[2],
                 direction[0] * up[1] - direction[1] * up[0]]
        norm = math.sqrt(sum(c * c for c in right)) or 1.0
        position, focal = list(camera.GetPosition()), list(camera.GetFocalPoint())
        for i in range(3):
            position[i] += shift * right[i] / norm
            focal[i] += shift * right[i] / norm
        camera.SetPosition(position)
        camera.SetFocalPoint(focal)

    def draw(self, index, time, path):
        self.set_frame(index, time)
        self.place_camera()
        self.pv.Render(self.view)
        if os.path.exists(path):
            os.remove(path)
        self.pv.SaveScreenshot(path, self.view, ImageResolution=self.arguments.size, TransparentBackground=0)
        if not os.path.exists(path):
            raise RuntimeError("ParaView could not write " + path)


def main(argv):
    arguments = parse_arguments(argv)
    grid_files = check_series(arguments.grid, "--grid") if arguments.grid else None
    token_files = check_series(arguments.particles, "--particles") if arguments.particles else None
    check_output(arguments.output)
    times = sorted(grid_files or token_files)
    index = len(times) - 1
    if arguments.time is not None:
        index = min(range(len(times)), key=lambda i: abs(times[i] - arguments.time))

    from paraview import simple as pv  # only now: the checks above need no ParaView
    pv._DisableFirstRenderCameraReset()  # the camera is placed by Scene.place_camera
    scene = Scene(pv, arguments, times)  # opens the display: tpde-pvbatch retries on its errors
    from vtkmodules.vtkCommonCore import vtkLogger
    vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)  # a file VTK cannot read: one line below
    if arguments.grid:
        scene.add_grid(arguments.grid, times[index], grid_files)
    if arguments.particles:
        scene.add_particles(arguments.particles, times[index], token_files)
    scene.add_axes()
    scene.add_captions()

    if arguments.animation:
        stem = arguments.output[:-4] if arguments.output.endswith(".png") else arguments.output
        for index, time in enumerate(times):
            scene.draw(index, time, "%s.%04d.png" % (stem, index))
        print("wrote %d frames %s.NNNN.png (colour range: %s)" % (len(times), stem, arguments.range))
    else:
        scene.draw(index, times[index], arguments.output)
        print("wrote %s (t = %g, colour range: %s)" % (arguments.output, times[index], arguments.range))
    return 0


def run(argv):
    try:
        return main(argv)
    except InputError as e:
        sys.stderr.write("%s: error: %s\n" % (PROGRAM, e))
        return 2
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    except Exception as e:  # ParaView failed: one line, not a traceback
        sys.stderr.write("%s: ParaView failed: %s: %s\n" % (PROGRAM, type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
        return 1


if __name__ == "__main__":
    status = run(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # pvbatch 5.11 (Debian 12) can crash while tearing down its render window
    # after everything is written; skip the interpreter's finalisation.
    os._exit(status)
