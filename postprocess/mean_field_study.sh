#!/usr/bin/env bash
# Mean-field study: how fast do N tokens approach the PDE?
#
#   postprocess/mean_field_study.sh [BUILD_DIR] [OUTPUT_DIR] [PRM] [MAX_N] [MIN_SEEDS]
#   (defaults: build output/mean-field parameters/gaussian-1d-collapse.prm 100000 1)
#
# The circle: PRM = parameters/circle-kuramoto.prm (T12 at t = 4; the distance
# is then w1_circle, the exact W1 on the circle). Its attention goes through
# the 2D kernel, whose fast summation takes over from 20000 tokens, so N = 10^5
# costs about 10 s per run there and MIN_SEEDS = 8 (at least 8 seeds at every
# N) is affordable (about 10 minutes on 2 loaded cores).
#
# Runs the grid solver once (PRM, written at the initial and final time), then
# `tpde particles` with i.i.d. tokens for N = 10^2, 10^2.5, ..., MAX_N and
# several seeds (fewer for large N, whose runs cost N^2 and fluctuate less;
# at least MIN_SEEDS),
# compares each final state with the grid run (tpde-compare: exact W1 in 1D,
# on the circle w1_circle, sliced W2 in 2D/3D), averages over the seeds, fits the slope of
# log(distance) against log(N) by least squares and plots both
# (gnuplot). Writes OUTPUT_DIR/mean_field.csv (N, seeds, distance,
# seconds_per_step) and OUTPUT_DIR/mean_field.png, and prints the slope.
set -euo pipefail
build=${1:-build}
out=${2:-output/mean-field}
prm=${3:-parameters/gaussian-1d-collapse.prm}
max_n=${4:-100000}
min_seeds=${5:-1}
for tool in "$build/tpde" "$build/tpde-compare"; do
  [ -x "$tool" ] || { echo "mean_field_study: $tool not found (build first)" >&2; exit 2; }
done
command -v gnuplot > /dev/null || { echo "mean_field_study: gnuplot not found (Debian package gnuplot-nox)" >&2; exit 2; }
[ -f "$prm" ] || { echo "mean_field_study: parameter file $prm not found" >&2; exit 2; }
mkdir -p "$out"

echo "== grid run: $prm"
"$build/tpde" run "$prm" --quiet --overwrite --set "Output/directory=$out/grid" --set Output/interval=0

# N and the number of seeds.
levels=("100 32" "316 16" "1000 8" "3162 4" "10000 3" "31623 2" "100000 1")
table="$out/mean_field.csv"
echo "N,seeds,distance,seconds_per_step" > "$table.tmp"
for level in "${levels[@]}"; do
  read -r n seeds <<< "$level"
  [ "$seeds" -ge "$min_seeds" ] || seeds=$min_seeds
  [ "$n" -le "$max_n" ] || continue
  sum=0
  step_seconds=0
  for seed in $(seq 1 "$seeds"); do
    run="$out/runs/N$n-seed$seed"
    log=$("$build/tpde" particles "$prm" --overwrite --set "Output/directory=$run" --set Output/interval=0 \
            --set "Particles/number of tokens=$n" --set "Particles/seed=$seed" --set Particles/sampling=random \
            --set "Particles/time step=0.1")
    step_seconds=$(echo "$log" | sed -n 's/.*(\([0-9.e+-]*\) s per step.*/\1/p')
    "$build/tpde-compare" "$out/grid/solution.pvd" "$run/particles/particles.pvd" --no-plot \
        --output "$run/compare.csv" > /dev/null
    # The distance column of the last row (w1 in 1D, w1_circle on the circle, sliced_w2 otherwise).
    distance=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "w1" || $i == "w1_circle" || $i == "sliced_w2") c = i }
                        END { print $c }' "$run/compare.csv")
    sum=$(awk -v a="$sum" -v b="$distance" 'BEGIN { printf "%.17g", a + b }')
  done
  mean=$(awk -v s="$sum" -v k="$seeds" 'BEGIN { printf "%.6e", s / k }')
  echo "N = $n  seeds = $seeds  mean distance = $mean  ($step_seconds s per step)"
  echo "$n,$seeds,$mean,$step_seconds" >> "$table.tmp"
done
mv "$table.tmp" "$table"

read -r slope intercept < <(awk -F, 'NR > 1 { x = log($1); y = log($3); n++; sx += x; sy += y; sxx += x * x; sxy += x * y }
  END { s = (n * sxy - sx * sy) / (n * sxx - sx * sx); printf "%.4f %.6f\n", s, (sy - s * sx) / n }' "$table")
echo "fitted slope of log(distance) against log(N): $slope"

gnuplot <<GNUPLOT
set terminal pngcairo size 900,640 noenhanced
set output '$out/mean_field.png.tmp'
set datafile separator ','
set logscale xy
set grid
set xlabel 'tokens N'
set ylabel 'distance to the grid solution at the end time (mean over seeds)'
set title 'Mean-field convergence: $(basename "$prm")'
set key top right
plot '$table' using 1:3 every ::1 with points pt 7 ps 1.5 title 'particles vs grid', \
     exp($intercept) * x**($slope) with lines lw 2 title sprintf('fit: slope %.3f', $slope), \
     exp($intercept) * 100**($slope + 0.5) * x**(-0.5) with lines dt 2 title 'N^(-1/2)'
GNUPLOT
mv "$out/mean_field.png.tmp" "$out/mean_field.png"
echo "wrote $table and $out/mean_field.png"
