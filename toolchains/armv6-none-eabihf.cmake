# Cross toolchain: bare metal (no operating system), ARMv6KZ (ARM1176JZF-S:
# Raspberry Pi Zero / Pi 1), hard-float VFPv2, ARM state only. Debian's
# arm-none-eabi GCC with newlib; the flags below select newlib's
# arm/v5te/hard multilib (ARMv5TE ARM code, hard-float ABI: no Thumb-2).
#
#   cmake -S . -B build/armv6-baremetal -DCMAKE_TOOLCHAIN_FILE=toolchains/armv6-none-eabihf.cmake
#   cmake --build build/armv6-baremetal --parallel 2
#   ctest --test-dir build/armv6-baremetal      # the raspi0 firmware under qemu-system-arm
#
# Packages: gcc-arm-none-eabi, libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-dev
# (the C++ standard HEADERS only, ~17 MB). The compiled libstdc++/libsupc++
# (libstdc++-arm-none-eabi-newlib, ~1.5 GB installed) is not needed: the
# engine uses header-only parts of the standard library, and the firmware
# supplies the few runtime pieces it calls (qemu/raspi0/cxx_runtime.cpp:
# operator new/delete).
#
# What this file turns on (each can be overridden with -D...):
#   AGM_LIBRARY_ONLY=ON    no tools, doctest tests or benchmarks (they need a
#                          hosted C++ runtime and a file system)
#   AGM_NO_FILESYSTEM=ON   agm_model_open_file is left out of the engine
#                          (newlib has no open/mmap); use agm_model_open_memory
#   AGM_BUILD_FIRMWARE=ON  the Raspberry Pi Zero image of qemu/raspi0/ and its
#                          tests (ctest label raspi0, run by qemu-system-arm)
#
# The architecture flags live in CMAKE_<LANG>_FLAGS_INIT, which only seed
# the CMAKE_<LANG>_FLAGS cache entries: passing -DCMAKE_CXX_FLAGS=... on the
# command line REPLACES them. Add flags with CFLAGS/CXXFLAGS in the environment.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR armv6)

list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES AGM_NONE_EABI_PREFIX)
if(NOT DEFINED AGM_NONE_EABI_PREFIX)
  set(AGM_NONE_EABI_PREFIX "arm-none-eabi-")
endif()
set(CMAKE_C_COMPILER "${AGM_NONE_EABI_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${AGM_NONE_EABI_PREFIX}g++")
set(CMAKE_ASM_COMPILER "${AGM_NONE_EABI_PREFIX}gcc")
set(CMAKE_OBJCOPY "${AGM_NONE_EABI_PREFIX}objcopy" CACHE FILEPATH "")
set(CMAKE_SIZE "${AGM_NONE_EABI_PREFIX}size" CACHE FILEPATH "")

# No program can link without the firmware's startup code and syscalls, so
# CMake's compiler checks build a static library instead of an executable.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# -ffunction-sections/-fdata-sections with --gc-sections: the image keeps only
# what main reaches. -Wno-psabi: GCC's note on an ABI change in GCC 7.1.
# -D_DEFAULT_SOURCE: newlib hides its POSIX declarations (posix_memalign)
# under strict -std=c++17; glibc's g++ always defines _GNU_SOURCE.
set(_agm_armv6_flags "-marm -march=armv6kz -mfpu=vfp -mfloat-abi=hard -ffunction-sections -fdata-sections -D_DEFAULT_SOURCE")
# -Wno-format: newlib's uint32_t is `unsigned long` (32 bits, like unsigned
# int here), so every "%u" of a uint32_t would warn (about 90 times) though
# the output is the same. The host, armel and hard-float builds, where
# uint32_t is unsigned int, keep -Wformat and check every format string.
set(CMAKE_C_FLAGS_INIT "${_agm_armv6_flags} -Wno-format")
set(CMAKE_CXX_FLAGS_INIT "${_agm_armv6_flags} -fno-exceptions -fno-rtti -Wno-psabi -Wno-format")
set(CMAKE_ASM_FLAGS_INIT "${_agm_armv6_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Tests are not run through a user-mode emulator: the raspi0 tests start
# qemu-system-arm themselves (qemu/raspi0/run_firmware.cmake).
set(CMAKE_CROSSCOMPILING_EMULATOR "")

set(AGM_LIBRARY_ONLY ON CACHE BOOL "Build only the libraries (toolchains without a linkable sysroot)")
set(AGM_NO_FILESYSTEM ON CACHE BOOL "Leave agm_model_open_file out of the engine (no POSIX files)")
set(AGM_BUILD_FIRMWARE ON CACHE BOOL "Build the Raspberry Pi Zero firmware image (qemu/raspi0)")

foreach(_agm_lang C CXX)
  if(DEFINED CACHE{CMAKE_${_agm_lang}_FLAGS} AND NOT CMAKE_${_agm_lang}_FLAGS MATCHES "-march=armv6kz"
     AND NOT CMAKE_PROJECT_NAME STREQUAL "CMAKE_TRY_COMPILE")
    message(WARNING "CMAKE_${_agm_lang}_FLAGS is '${CMAKE_${_agm_lang}_FLAGS}': it replaces this toolchain's "
      "'${_agm_armv6_flags}'. Use CFLAGS/CXXFLAGS in the environment, or add the ARMv6 flags yourself.")
  endif()
endforeach()
