#!/usr/bin/env bash
# check-undefined-symbols.sh: what the engine needs from the outside world.
#
# Lists the undefined symbols of BUILD/engine/libagm_engine.a and
# BUILD/formats/libagm_formats.a (the two archives firmware links), leaves
# out those defined inside the two archives, and checks the rest against
# the allow-list below. Fails (exit 1) on anything else: a C++ runtime
# symbol (operator new, __cxa_*, _Unwind_*, std::...), a stdio or locale
# function, a new libc dependency.
#
# Usage: check-undefined-symbols.sh [--nm NM] BUILD_DIR [EXTRA_ALLOWED...]
#   --nm NM         the toolchain's nm (default: nm); e.g. arm-none-eabi-nm
#   EXTRA_ALLOWED   more allowed names or shell patterns ('__aeabi_*'), for
#                   a build with needs of its own
# Prints every undefined symbol with the reason it is allowed.
#
# The allow-list, and why each entry is there:
#   memcpy memset memmove memcmp memchr strcmp strncpy
#           plain C string/memory functions (compilers also emit memcpy and
#           memset for struct copies and zeroing); no allocation, no locale.
#   expf powf sqrtf sinf cosf sincosf
#           libm: the exactness contract's float functions (softmax, SiLU,
#           RoPE tables, norms); GCC fuses sinf+cosf into sincosf.
#   snprintf vsnprintf
#           formatting the one-line error messages into agm_error (fixed
#           buffers). Integers and strings only: no message of the two
#           libraries formats a float (newlib's snprintf may allocate for
#           %f/%g/%e; keep it so).
#   malloc free calloc realloc posix_memalign
#           init only: the allocating conveniences agm_model_open_*,
#           agm_session_create, and the tools' Tokenizer::init(). The
#           arena API (agm_model_init, agm_session_init) makes no heap call,
#           and nothing after init does (tests/test_heap_calls.cpp counts).
#   open close fstat mmap munmap strerror __errno_location (and the
#   glibc variants open64 fstat64 __fxstat __fxstat64 mmap64 __errno)
#           the path API only (agm_model_open_file, agm_model_init_file,
#           agm_model_memory_size_file); a bare-metal build without it
#           passes none of these.
#   __aeabi_*  ARM EABI run-time helpers from libgcc (integer division,
#           64-bit shifts, memcpy/memset aliases): no OS, no allocation.
#   __stack_chk_fail __stack_chk_guard
#           stack protector, when the toolchain enables it by default.
set -euo pipefail

nm_bin=nm
if [ "${1:-}" = "--nm" ]; then
  nm_bin=${2:?--nm needs a program}
  shift 2
fi
build=${1:?usage: check-undefined-symbols.sh [--nm NM] BUILD_DIR [EXTRA_ALLOWED...]}
shift
extra=("$@")

libs=("$build/engine/libagm_engine.a" "$build/formats/libagm_formats.a")
for l in "${libs[@]}"; do
  [ -f "$l" ] || { echo "check-undefined-symbols: $l not found (build agm_engine first)" >&2; exit 2; }
done

# Undefined in some member, minus defined in some member (of either archive).
undefined=$("$nm_bin" -u "${libs[@]}" | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u)
defined=$("$nm_bin" --defined-only "${libs[@]}" | awk 'NF == 3 { print $3 }' | sort -u)
external=$(comm -23 <(printf '%s\n' "$undefined") <(printf '%s\n' "$defined") | sed '/^$/d')

reason() {
  case "$1" in
    memcpy|memset|memmove|memcmp|memchr|strcmp|strncpy|strlen|strchr) echo "C string/memory" ;;
    expf|powf|sqrtf|sinf|cosf|sincosf) echo "libm (exactness contract)" ;;
    snprintf|vsnprintf) echo "error messages into fixed buffers" ;;
    malloc|free|calloc|realloc|posix_memalign) echo "heap: allocating conveniences at init only" ;;
    open|open64|close|fstat|fstat64|__fxstat|__fxstat64|mmap|mmap64|munmap|strerror|__errno_location|__errno)
      echo "path API only" ;;
    __aeabi_*) echo "ARM EABI helper (libgcc)" ;;
    __stack_chk_fail|__stack_chk_guard) echo "stack protector" ;;
    *)
      local p
      for p in "${extra[@]+"${extra[@]}"}"; do
        # shellcheck disable=SC2053  # p is a pattern on purpose
        if [[ $1 == $p ]]; then echo "allowed on the command line"; return; fi
      done
      echo "" ;;
  esac
}

bad=0
n=0
echo "undefined symbols of libagm_engine.a + libagm_formats.a in $build (nm: $nm_bin):"
while IFS= read -r sym; do
  [ -n "$sym" ] || continue
  n=$((n + 1))
  why=$(reason "$sym")
  if [ -n "$why" ]; then
    printf '  %-22s %s\n' "$sym" "$why"
  else
    printf '  %-22s NOT ALLOWED\n' "$sym"
    bad=1
  fi
done <<< "$external"
if [ $bad -ne 0 ]; then
  echo "check-undefined-symbols: FAILED: symbols outside the allow-list (see the script's header)"
  exit 1
fi
echo "check-undefined-symbols: $n symbols, all allowed"
