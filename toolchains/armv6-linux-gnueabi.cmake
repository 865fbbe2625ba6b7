# Cross toolchain: Linux, ARMv6KZ (ARM1176JZF-S: Raspberry Pi Zero / Pi 1),
# VFPv2 with the soft-float calling convention (armel, softfp), ARM state,
# STATIC programs. Debian's armel libc/libstdc++ are ARMv5TE ARM code, so a
# static program built this way runs on an ARM1176: under QEMU here, and on a
# Raspberry Pi OS 32-bit system as it is (no libraries needed).
#
#   cmake -S . -B build/armv6-armel -DCMAKE_TOOLCHAIN_FILE=toolchains/armv6-linux-gnueabi.cmake
#   cmake --build build/armv6-armel --parallel 2 && ctest --test-dir build/armv6-armel
#
# ctest runs every test program through CMAKE_CROSSCOMPILING_EMULATOR:
# `qemu-arm -cpu arm1176`, which raises SIGILL on any instruction a Pi Zero
# lacks (qemu/README.md). Override with -DAGM_QEMU_ARM=/path/to/qemu-arm, or
# -DAGM_ARMV6_EMULATOR="prog;arg;..." for a different runner (e.g. a script
# that copies the test to a real Pi over ssh).
#
# The architecture flags live in CMAKE_<LANG>_FLAGS_INIT, which only seed
# the CMAKE_<LANG>_FLAGS cache entries: passing -DCMAKE_CXX_FLAGS=... on the
# command line REPLACES them (and the build silently targets ARMv7/ARMv5).
# Add flags with the CFLAGS/CXXFLAGS environment variables instead (CMake
# appends those to the _INIT flags at the first configure); this file warns
# when it sees a CMAKE_C_FLAGS/CMAKE_CXX_FLAGS without -march=armv6kz.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv6)

list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES AGM_ARMEL_CROSS_PREFIX)
if(NOT DEFINED AGM_ARMEL_CROSS_PREFIX)
  set(AGM_ARMEL_CROSS_PREFIX "arm-linux-gnueabi-")
endif()

set(CMAKE_C_COMPILER "${AGM_ARMEL_CROSS_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${AGM_ARMEL_CROSS_PREFIX}g++")
set(CMAKE_ASM_COMPILER "${AGM_ARMEL_CROSS_PREFIX}gcc")

# -Wno-psabi: GCC notes that an ABI detail changed in GCC 7.1 on every
# std::vector iterator passed by value; irrelevant here (one compiler builds all).
set(_agm_armv6_flags "-marm -march=armv6kz -mfpu=vfp -mfloat-abi=softfp")
set(CMAKE_C_FLAGS_INIT "${_agm_armv6_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_agm_armv6_flags} -Wno-psabi")
set(CMAKE_ASM_FLAGS_INIT "${_agm_armv6_flags}")
# Static: no ARMv6 shared libraries are needed on the target or under QEMU.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

if(NOT AGM_ARMV6_EMULATOR)
  find_program(AGM_QEMU_ARM NAMES qemu-arm qemu-arm-static
               DOC "QEMU user-mode ARM emulator used to run cross-built tests")
  if(AGM_QEMU_ARM)
    set(AGM_ARMV6_EMULATOR "${AGM_QEMU_ARM};-cpu;arm1176")
  endif()
endif()
if(AGM_ARMV6_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${AGM_ARMV6_EMULATOR}")
else()
  message(WARNING "qemu-arm not found (package qemu-user): cross-built tests cannot run here")
endif()

foreach(_agm_lang C CXX)
  if(DEFINED CACHE{CMAKE_${_agm_lang}_FLAGS} AND NOT CMAKE_${_agm_lang}_FLAGS MATCHES "-march=armv6kz"
     AND NOT CMAKE_PROJECT_NAME STREQUAL "CMAKE_TRY_COMPILE")
    message(WARNING "CMAKE_${_agm_lang}_FLAGS is '${CMAKE_${_agm_lang}_FLAGS}': it replaces this toolchain's "
      "'${_agm_armv6_flags}'. Use CFLAGS/CXXFLAGS in the environment, or add the ARMv6 flags yourself.")
  endif()
endforeach()
