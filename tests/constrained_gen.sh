#!/usr/bin/env bash
# Constrained generation end to end (issue 10): agm-constrained-gen runs a
# model under every schema of SCHEMA_DIR, checking each step against the
# brute force, then tests/validate_outputs.py validates every completed
# output with python3-jsonschema (Draft 2020-12, formats asserted).
#
#   constrained_gen.sh PROG KIND SCHEMA_DIR OUT_DIR RUNS_PER_TEMP MIN_VALID [EMULATOR...]
#
# MIN_VALID: the fewest completed, validated outputs that pass (a run cut
# at the position budget under the recursive schema is not one).
set -uo pipefail
prog=$1 kind=$2 schemas=$3 out=$4 per_temp=$5 min_valid=$6
shift 6
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Debian's interpreter, where python3-jsonschema is installed (a python3
# earlier on PATH, from pyenv say, may not see it).
py=python3
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then py=/usr/bin/python3; fi

rm -rf "$out" && mkdir -p "$out" || exit 2
"$@" "$prog" --unbounded 07-recursion.json "$kind" "$schemas" "$out" "$per_temp" || {
  echo "FAIL: agm-constrained-gen $kind exited $?"; exit 1; }
"$py" "$here/validate_outputs.py" "$out/$kind.manifest" "$min_valid" || exit 1
rm -rf "$out"
