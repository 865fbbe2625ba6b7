#!/usr/bin/env bash
# purity-build.sh: configure and build the project's libraries for the
# Raspberry Pi Zero with toolchains/armv6-linux-gnueabihf.cmake (hard-float
# ARMv6KZ, libraries only) and run tools/armv6-purity-check.sh over every
# object and archive of ours that the build produced, then
# tools/check-undefined-symbols.sh over the engine's two archives.
#
# Usage: purity-build.sh SOURCE_DIR BUILD_DIR [CMAKE]
#   CMAKE defaults to `cmake`; AGM_JOBS (default 2) sets the parallelism.
# The build directory is reused, so a second run only rebuilds what changed.
set -euo pipefail

src=$(cd "${1:?source dir}" && pwd)
build=${2:?build dir}
cmake_bin=${3:-cmake}
jobs=${AGM_JOBS:-2}

# Host flags in the environment would leak into the cross build's
# CMAKE_<LANG>_FLAGS (CMake initialises them from CFLAGS/CXXFLAGS/LDFLAGS).
unset CC CXX CFLAGS CXXFLAGS CPPFLAGS LDFLAGS ASMFLAGS

"$cmake_bin" -S "$src" -B "$build" \
  -DCMAKE_TOOLCHAIN_FILE="$src/toolchains/armv6-linux-gnueabihf.cmake" \
  -DCMAKE_BUILD_TYPE=Release \
  -DAGM_LIBRARY_ONLY=ON -DAGM_BUILD_TESTS=OFF -DAGM_BUILD_BENCH=OFF -DAGM_SANITIZE=OFF
"$cmake_bin" --build "$build" --parallel "$jobs"

# Our objects: the libraries (*.a) and the objects under CMakeFiles/<target>.dir.
"$src/tools/armv6-purity-check.sh" "$build"

# What the hard-float libraries need from outside: the allow-list of
# tools/check-undefined-symbols.sh (no C++ runtime).
nm_bin=$(sed -n 's/^CMAKE_NM:FILEPATH=//p' "$build/CMakeCache.txt")
exec bash "$src/tools/check-undefined-symbols.sh" --nm "${nm_bin:-arm-linux-gnueabihf-nm}" "$build"
