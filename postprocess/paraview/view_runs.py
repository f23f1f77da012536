"""Grid run and particle run together in one ParaView view, saved as PNG.

    postprocess/paraview/tpde-pvbatch postprocess/paraview/view_runs.py \
        --grid output/default/solution.pvd --particles output/default/particles/particles.pvd \
        --output frame.png [--time 1.5] [--warp 2] [--animation] [--size 1200 900]

The density is drawn as a surface coloured with Viridis (2D: seen from above,
optionally warped by --warp times the density; 1D: the graph of the density; 3D: the mesh's
outline and the density on its horizontal mid-plane), the tokens as red points. Without --time the
last time of the grid run is drawn. --animation writes one PNG per output time
of the grid run (frame.0000.png, frame.0001.png, ...). Either run may be left
out. Runs under pvbatch (or pvpython); tpde-pvbatch sets up ParaView's Python
modules and a virtual display.
"""
import argparse
import os
import sys

from paraview import simple as pv

TOKEN_COLOUR = [0.9, 0.05, 0.05]  # not in Viridis, so tokens stay distinguishable
BACKGROUND = [1.0, 1.0, 1.0]


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", help="solution.pvd of a grid run")
    parser.add_argument("--particles", help="particles.pvd of a particle run")
    parser.add_argument("--output", required=True, help="PNG file (the frame, or the stem of an animation)")
    parser.add_argument("--time", type=float, help="time to draw (default: the last one)")
    parser.add_argument("--animation", action="store_true", help="one PNG per output time")
    parser.add_argument("--warp", type=float, default=0.0,
                        help="2D: warp the surface by this times the density; 1D: height of the graph per unit density")
    parser.add_argument("--size", type=int, nargs=2, default=[1200, 900], metavar=("WIDTH", "HEIGHT"))
    parser.add_argument("--point-size", type=float, default=3.0)
    arguments = parser.parse_args()
    if not arguments.grid and not arguments.particles:
        parser.error("give --grid, --particles or both")
    return arguments


def main():
    arguments = parse_arguments()
    view = pv.CreateView("RenderView")
    view.ViewSize = arguments.size
    view.Background = BACKGROUND
    view.OrientationAxesVisibility = 0
    try:  # ParaView >= 5.10 uses a palette unless told otherwise
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass

    times = []
    lift = 0.0
    dimension = 2
    if arguments.grid:
        grid = pv.PVDReader(FileName=arguments.grid)
        grid.UpdatePipelineInformation()
        times = list(grid.TimestepValues) if grid.TimestepValues else [0.0]
        grid.UpdatePipeline(times[-1])
        bounds = grid.GetDataInformation().GetBounds()
        dimension = 1 if bounds[3] - bounds[2] == 0 else (2 if bounds[5] - bounds[4] == 0 else 3)
        source = grid
        if dimension == 1:  # the graph of the density over the x axis
            height = arguments.warp or 0.4 * (bounds[1] - bounds[0]) / max(grid.PointData["density"].GetRange()[1], 1e-300)
            source = pv.WarpByScalar(Input=grid, Scalars=["POINTS", "density"], ScaleFactor=height)
            source.Normal = [0.0, 1.0, 0.0]
            source.UseNormal = 1
        elif dimension == 2 and arguments.warp > 0:
            source = pv.WarpByScalar(Input=grid, Scalars=["POINTS", "density"], ScaleFactor=arguments.warp)
            lift = arguments.warp * grid.PointData["density"].GetRange()[1] * 1.01
        if dimension == 3:  # the mesh's outline and the density on the mid-plane z = const
            outline = pv.Show(grid, view)
            outline.SetRepresentationType("Outline")
            outline.ColorArrayName = ["POINTS", ""]
            outline.AmbientColor = outline.DiffuseColor = [0.0, 0.0, 0.0]
            source = pv.Slice(Input=grid)
            source.SliceType = "Plane"
            source.SliceType.Origin = [(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2,
                                       (bounds[4] + bounds[5]) / 2]
            source.SliceType.Normal = [0.0, 0.0, 1.0]
        display = pv.Show(source, view)
        display.SetRepresentationType("Surface" if dimension > 1 else "Wireframe")
        if dimension == 1:
            display.LineWidth = 3.0
        pv.ColorBy(display, ("POINTS", "density"))
        lut = pv.GetColorTransferFunction("density")
        lut.ApplyPreset("Viridis (matplotlib)", True)
        display.RescaleTransferFunctionToDataRange(True, False)
        display.SetScalarBarVisibility(view, True)
        try:  # Lagrange cells: subdivide so Q2-Q4 look smooth (level 2 crashes ParaView 5.11 on curves)
            display.NonlinearSubdivisionLevel = 1 if dimension == 1 else 2
        except AttributeError:
            pass

    if arguments.particles:
        tokens = pv.PVDReader(FileName=arguments.particles)
        tokens.UpdatePipelineInformation()
        if not times:
            times = list(tokens.TimestepValues) if tokens.TimestepValues else [0.0]
        source = tokens
        if lift > 0:  # keep the tokens above the warped surface
            source = pv.Transform(Input=tokens)
            source.Transform.Translate = [0.0, 0.0, lift]
        display = pv.Show(source, view)
        display.SetRepresentationType("Points")
        display.ColorArrayName = ["POINTS", ""]  # solid colour
        display.AmbientColor = TOKEN_COLOUR
        display.DiffuseColor = TOKEN_COLOUR
        display.PointSize = arguments.point_size

    label = pv.Text()
    label_display = pv.Show(label, view)
    label_display.Color = [0.0, 0.0, 0.0]
    label_display.WindowLocation = "Upper Left Corner"

    view.CameraPosition = [0, 0, 1] if dimension < 3 or lift == 0 else [1, -1, 1]
    view.CameraFocalPoint = [0, 0, 0]
    view.CameraViewUp = [0, 1, 0]
    if arguments.warp > 0 and dimension == 2:
        view.CameraPosition = [0.6, -1.2, 1.0]
        view.CameraViewUp = [0, 0, 1]
    if dimension == 3:
        view.CameraPosition = [1.2, -1.0, 0.8]
        view.CameraViewUp = [0, 0, 1]

    folder = os.path.dirname(os.path.abspath(arguments.output))
    os.makedirs(folder, exist_ok=True)

    def draw(time, path):
        view.ViewTime = time
        label.Text = "t = %.4g" % time
        view.ResetCamera()
        pv.Render(view)
        if os.path.exists(path):
            os.remove(path)
        pv.SaveScreenshot(path, view, ImageResolution=arguments.size, TransparentBackground=0)
        if not os.path.exists(path):
            raise RuntimeError("ParaView could not write " + path)

    if arguments.animation:
        stem = arguments.output[:-4] if arguments.output.endswith(".png") else arguments.output
        for index, time in enumerate(times):
            draw(time, "%s.%04d.png" % (stem, index))
        print("wrote %d frames %s.NNNN.png" % (len(times), stem))
    else:
        time = arguments.time if arguments.time is not None else times[-1]
        draw(time, arguments.output)
        print("wrote %s (t = %g)" % (arguments.output, time))
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    # pvbatch 5.11 (Debian 12) can crash while tearing down its render window
    # after everything is written; skip the interpreter's finalisation.
    os._exit(status)
