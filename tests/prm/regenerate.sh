#!/bin/bash
# Rewrites tests/prm/reference/*.csv from the short runs of tests/prm/cases.txt.
#
#   tests/prm/regenerate.sh BUILD_DIR [TPDE_BINARY] [CASE ...]
#
# BUILD_DIR holds the built prm_test_prm_regression; TPDE_BINARY (default
# BUILD_DIR/tpde) is the program whose numbers become the references; CASE
# names limit the rewrite to those cases (default: all). The cases run one at
# a time in file order, so an MPI case ('like X') is then compared with the
# fresh reference of X. Check `git diff tests/prm/reference` before committing,
# and say in the commit message why the numbers changed (tests/prm/README.md).
set -euo pipefail
if [ $# -lt 1 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
build=$(cd "$1" && pwd)
binary=${2:-$build/tpde}
shift $(( $# >= 2 ? 2 : 1 ))
program=$build/prm_test_prm_regression
[ -x "$program" ] || { echo "no $program (build the target prm_test_prm_regression)" >&2; exit 2; }
[ -x "$binary" ] || { echo "no executable $binary" >&2; exit 2; }
filter='Case/*'
if [ $# -gt 0 ]; then
  filter=$(printf 'Case/Regression.MatchesReference/%s:' "$@")
fi
echo "regenerating tests/prm/reference with $binary"
TPDE_REGENERATE_REFERENCES=1 TPDE_PRM_EXECUTABLE=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary") \
  "$program" --gtest_filter="$filter"
