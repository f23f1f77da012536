#!/usr/bin/env bash
# Mean-field study, kept for existing command lines: the study is postprocess/mean_field_study.py
# (the same arguments: [BUILD] [OUTPUT_DIR] [PRM] [MAX_N] [MIN_SEEDS]), which runs the grid, the
# particles and the comparison in one process through the tpde Python module of BUILD.
exec /usr/bin/python3 "$(dirname "$0")/mean_field_study.py" "$@"
