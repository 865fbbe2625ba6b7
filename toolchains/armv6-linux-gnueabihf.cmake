# Cross toolchain: Linux, ARMv6KZ (ARM1176JZF-S: Raspberry Pi Zero / Pi 1),
# hard-float VFPv2, ARM state only. This is the Raspberry Pi OS 32-bit ABI.
#
#   cmake -S . -B build/armv6-hf -DCMAKE_TOOLCHAIN_FILE=toolchains/armv6-linux-gnueabihf.cmake
#
# With Debian's g++-arm-linux-gnueabihf alone, only the LIBRARIES can be built:
# Debian's armhf libc, libstdc++, libgcc and crt*.o are ARMv7 Thumb-2, so any
# program linked against them dies with SIGILL on an ARM1176. The object files
# of our own code are fine (tools/armv6-purity-check.sh proves it), so this
# file turns AGM_LIBRARY_ONLY on unless you give it an ARMv6 sysroot:
#
#   -DAGM_ARMV6_SYSROOT=/path/to/sysroot   a Raspberry Pi OS root file system
#        (or the sysroot of a crosstool-ng armv6-rpi-linux-gnueabihf
#        toolchain). Programs, tests and tools are then built too.
#   -DAGM_ARMV6_CROSS_PREFIX=armv6-rpi-linux-gnueabihf-   the compiler prefix
#        (default arm-linux-gnueabihf-). Use a compiler built for ARMv6 when
#        linking: Debian's arm-linux-gnueabihf-gcc links its own ARMv7 libgcc.a
#        (e.g. __aeabi_idiv) even with a Raspberry Pi OS sysroot.
#   -DAGM_LIBRARY_ONLY=OFF/ON              overrides the default either way.
#
# The architecture flags live in CMAKE_<LANG>_FLAGS_INIT, which only seed
# the CMAKE_<LANG>_FLAGS cache entries: passing -DCMAKE_CXX_FLAGS=... on the
# command line REPLACES them (and the build silently targets ARMv7/ARMv5).
# Add flags with the CFLAGS/CXXFLAGS environment variables instead (CMake
# appends those to the _INIT flags at the first configure); this file warns
# when it sees a CMAKE_C_FLAGS/CMAKE_CXX_FLAGS without -march=armv6kz.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv6)

# try_compile() re-reads this file in a fresh project: forward our settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES AGM_ARMV6_SYSROOT AGM_ARMV6_CROSS_PREFIX)

if(NOT DEFINED AGM_ARMV6_CROSS_PREFIX)
  set(AGM_ARMV6_CROSS_PREFIX "arm-linux-gnueabihf-")
endif()
set(AGM_ARMV6_CROSS_PREFIX "${AGM_ARMV6_CROSS_PREFIX}" CACHE STRING "Prefix of the ARMv6 hard-float cross compiler")
set(AGM_ARMV6_SYSROOT "${AGM_ARMV6_SYSROOT}" CACHE PATH "ARMv6 hard-float sysroot (Raspberry Pi OS); empty: libraries only")

set(CMAKE_C_COMPILER "${AGM_ARMV6_CROSS_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${AGM_ARMV6_CROSS_PREFIX}g++")
set(CMAKE_ASM_COMPILER "${AGM_ARMV6_CROSS_PREFIX}gcc")

# -Wno-psabi: GCC notes that an ABI detail changed in GCC 7.1 on every
# std::vector iterator passed by value; irrelevant here (one compiler builds all).
set(_agm_armv6_flags "-marm -march=armv6kz -mfpu=vfp -mfloat-abi=hard")
set(CMAKE_C_FLAGS_INIT "${_agm_armv6_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_agm_armv6_flags} -Wno-psabi")
set(CMAKE_ASM_FLAGS_INIT "${_agm_armv6_flags}")

if(AGM_ARMV6_SYSROOT)
  set(CMAKE_SYSROOT "${AGM_ARMV6_SYSROOT}")
  set(CMAKE_FIND_ROOT_PATH "${AGM_ARMV6_SYSROOT}")
  set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
  # A QEMU user-mode run of a dynamic program needs the sysroot's loader.
  find_program(AGM_QEMU_ARM NAMES qemu-arm qemu-arm-static)
  if(AGM_QEMU_ARM)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${AGM_QEMU_ARM};-cpu;arm1176;-L;${AGM_ARMV6_SYSROOT}")
  endif()
  set(AGM_LIBRARY_ONLY OFF CACHE BOOL "Build only the libraries (toolchains without a linkable sysroot)")
else()
  # Without a sysroot CMake's compiler checks still link (against the ARMv7
  # libraries, harmless: nothing is run), so nothing else is needed here.
  set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
  set(AGM_LIBRARY_ONLY ON CACHE BOOL "Build only the libraries (toolchains without a linkable sysroot)")
endif()

foreach(_agm_lang C CXX)
  if(DEFINED CACHE{CMAKE_${_agm_lang}_FLAGS} AND NOT CMAKE_${_agm_lang}_FLAGS MATCHES "-march=armv6kz"
     AND NOT CMAKE_PROJECT_NAME STREQUAL "CMAKE_TRY_COMPILE")
    message(WARNING "CMAKE_${_agm_lang}_FLAGS is '${CMAKE_${_agm_lang}_FLAGS}': it replaces this toolchain's "
      "'${_agm_armv6_flags}'. Use CFLAGS/CXXFLAGS in the environment, or add the ARMv6 flags yourself.")
  endif()
endforeach()
