#!/usr/bin/env bash
# test-all.sh: THE test command. From a fresh clone:
#
#   tools/test-all.sh
#
# 1. tools/setup.sh (installs missing Debian packages; quick when none are)
# 2. host:   Release build in build/host, all tests (includes the
#            armv6-purity tests: the hard-float ARMv6 library build is
#            disassembled and checked instruction by instruction)
# 3. asan:   ASan+UBSan build in build/host-asan (-DAGM_SANITIZE=ON), the
#            tests whose label matches AGM_ASAN_LABELS
# 4. armel:  static ARMv6KZ cross build in build/armv6-armel
#            (toolchains/armv6-linux-gnueabi.cmake), every test run by ctest
#            under `qemu-arm -cpu arm1176`
# 5. baremetal: the bare-metal build in build/armv6-baremetal
#            (toolchains/armv6-none-eabihf.cmake): the libraries and the
#            Raspberry Pi Zero image (qemu/raspi0), whose golden generations
#            run under `qemu-system-arm -M raspi0` (ctest label raspi0)
# and, only when AGM_CONFIGS names it:
#    thumb:  Debian's armhf compiler with its own defaults (ARMv7, Thumb-2:
#            what a Pi 2/3/4 user's native compiler builds) in
#            build/armv7-thumb, its kernels and golden tests under qemu-arm
#            (the ARM-state assembly is not built there: the portable
#            fallbacks must link and agree)
# then prints a summary and exits non-zero if any step failed. A failing
# configuration does not stop the others.
#
# Environment:
#   AGM_JOBS=2                          build and ctest parallelism
#   AGM_CONFIGS="host asan armel baremetal"  which configurations to run
#                                       (add thumb for the ARMv7 Thumb-2 check)
#   AGM_ASAN_LABELS=all
#                                       ctest -L regex for the sanitizer run;
#                                       "all" (or empty) runs every test
#   AGM_SKIP_SETUP=1                    do not run tools/setup.sh
#   AGM_CTEST_ARGS="..."                extra ctest arguments for every run
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

jobs=${AGM_JOBS:-2}
configs=${AGM_CONFIGS:-host asan armel baremetal}
asan_labels=${AGM_ASAN_LABELS-all}
[ "$asan_labels" = all ] && asan_labels=""
# shellcheck disable=SC2206  # a word list by design
extra_ctest=(${AGM_CTEST_ARGS:-})

# Host flags in the environment would leak into the cross build.
unset CC CXX CFLAGS CXXFLAGS CPPFLAGS LDFLAGS

# Sanitizers: stop at the first report, with a stack.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}

names=(); results=(); times=()
failed=0

# step NAME CMD...: run, time and record one step.
step() {
  local name=$1; shift
  local t0 rc
  echo
  echo "==== [$name] $*"
  t0=$(date +%s)
  "$@"
  rc=$?
  names+=("$name"); times+=($(( $(date +%s) - t0 )))
  if [ $rc -eq 0 ]; then results+=(PASS); else results+=("FAIL($rc)"); failed=1; fi
  return $rc
}
skip() { names+=("$1"); results+=("SKIP ($2)"); times+=(0); }

# config NAME BUILDDIR CTEST_ARGS -- CMAKE_ARGS...
config() {
  local name=$1 dir=$2 ctest_args=$3; shift 4
  if step "$name: configure" cmake -S "$root" -B "$dir" "$@"; then
    if step "$name: build" cmake --build "$dir" --parallel "$jobs"; then
      # shellcheck disable=SC2086  # ctest_args is a word list
      step "$name: ctest" ctest --test-dir "$dir" --output-on-failure --no-tests=error \
        -j "$jobs" $ctest_args "${extra_ctest[@]}"
    else
      skip "$name: ctest" "build failed"
    fi
  else
    skip "$name: build" "configure failed"; skip "$name: ctest" "configure failed"
  fi
}

start=$(date +%s)
if [ -z "${AGM_SKIP_SETUP:-}" ]; then
  step "setup" "$root/tools/setup.sh"
fi

for c in $configs; do
  case "$c" in
    host)
      config host build/host "" -- -DCMAKE_BUILD_TYPE=Release ;;
    asan)
      labels_arg=""
      [ -n "$asan_labels" ] && labels_arg="-L $asan_labels"
      config asan build/host-asan "$labels_arg" -- -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DAGM_SANITIZE=ON -DAGM_BUILD_BENCH=OFF ;;
    armel)
      config armel build/armv6-armel "" -- -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/armv6-linux-gnueabi.cmake" \
        -DAGM_BUILD_BENCH=OFF ;;
    baremetal)
      # The images' snapshots are made by a host agmodel-run: this run's host
      # build's if it built, else the bare-metal build makes its own.
      host_run=""
      for i in "${!names[@]}"; do
        if [ "${names[$i]}" = "host: build" ] && [ "${results[$i]}" = PASS ]; then
          host_run="-DAGM_HOST_AGMODEL_RUN=$root/build/host/tools/agmodel-run"
        fi
      done
      config baremetal build/armv6-baremetal "" -- -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/armv6-none-eabihf.cmake" ${host_run:+"$host_run"} ;;
    thumb)
      config thumb build/armv7-thumb "-R ^(kernels|golden_ids)$" -- -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=arm \
        -DCMAKE_C_COMPILER=arm-linux-gnueabihf-gcc -DCMAKE_CXX_COMPILER=arm-linux-gnueabihf-g++ \
        "-DCMAKE_CROSSCOMPILING_EMULATOR=qemu-arm;-L;/usr/arm-linux-gnueabihf" -DAGM_BUILD_BENCH=OFF ;;
    *) echo "test-all.sh: unknown configuration '$c' (host, asan, armel, baremetal, thumb)" >&2
       skip "$c" "unknown"; failed=1 ;;
  esac
done

echo
echo "==== test-all summary ($(( $(date +%s) - start )) s, -j$jobs)"
for i in "${!names[@]}"; do
  printf '  %-22s %-12s %5ss\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
done
if [ $failed -ne 0 ]; then
  echo "==== FAILED"
  exit 1
fi
echo "==== ALL PASSED"
