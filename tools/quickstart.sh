#!/usr/bin/env bash
# quickstart.sh: from a fresh clone to generated text in one command.
#
#   tools/quickstart.sh ["prompt"]
#
# Installs what is missing (tools/setup.sh), builds agmodel-run for this
# machine (Release, build/host) and runs it on the bundled model (no -m: the
# tool finds it) with the prompt (default "Once upon a time"). Extra options
# for agmodel-run go in AGM_RUN_ARGS, e.g. AGM_RUN_ARGS="-n 64".
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
prompt=${1:-Once upon a time}
jobs=${AGM_JOBS:-2}

"$root/tools/setup.sh"
cmake -S "$root" -B build/host -DCMAKE_BUILD_TYPE=Release
cmake --build build/host --parallel "$jobs" --target agmodel-run

echo
echo "==== build/host/tools/agmodel-run -p \"$prompt\" ${AGM_RUN_ARGS:-}"
# shellcheck disable=SC2086  # AGM_RUN_ARGS is a word list by design
exec "$root/build/host/tools/agmodel-run" ${AGM_RUN_ARGS:-} -p "$prompt"
