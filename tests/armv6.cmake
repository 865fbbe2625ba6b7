# tests/armv6.cmake: ARMv6 purity tests (label `armv6-purity`), included from
# tests/CMakeLists.txt with `include(${CMAKE_CURRENT_SOURCE_DIR}/armv6.cmake)`.
#
# Host build, when arm-linux-gnueabihf-gcc/g++ and objdump are installed:
#   armv6_purity_negative   the checker rejects ARMv7 code (MOVW/MOVT, UBFX,
#                           SDIV, DMB, NEON, VFPv3/v4, Thumb-2) compiled or
#                           assembled at test time;
#   armv6_purity_positive   the checker accepts ARMv6 code (SMLAD, SADD16,
#                           SEL, SXTB16, USADA8, PLD, LDRD, VFPv2 ...);
#   armv6_purity_hardfloat  builds the project's libraries with
#                           toolchains/armv6-linux-gnueabihf.cmake in
#                           <build>/armv6-hardfloat and checks every object.
# Cross build for ARM (any toolchain):
#   armv6_purity_objects    checks every object and archive of this build.
get_filename_component(_agm_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(_agm_checker "${_agm_root}/tools/armv6-purity-check.sh")
find_program(AGM_BASH bash)

if(NOT CMAKE_CROSSCOMPILING)
  find_program(AGM_ARMHF_GCC arm-linux-gnueabihf-gcc)
  find_program(AGM_ARMHF_GXX arm-linux-gnueabihf-g++)
  find_program(AGM_ARMHF_OBJDUMP arm-linux-gnueabihf-objdump)
  if(AGM_BASH AND AGM_ARMHF_GCC AND AGM_ARMHF_GXX AND AGM_ARMHF_OBJDUMP)
    set(_agm_work "${CMAKE_CURRENT_BINARY_DIR}/armv6-purity")
    add_test(NAME armv6_purity_negative
      COMMAND "${AGM_BASH}" "${CMAKE_CURRENT_LIST_DIR}/armv6/purity-selftest.sh"
              negative "${_agm_checker}" "${AGM_ARMHF_GCC}" "${_agm_work}/negative")
    add_test(NAME armv6_purity_positive
      COMMAND "${AGM_BASH}" "${CMAKE_CURRENT_LIST_DIR}/armv6/purity-selftest.sh"
              positive "${_agm_checker}" "${AGM_ARMHF_GCC}" "${_agm_work}/positive")
    add_test(NAME armv6_purity_hardfloat
      COMMAND "${AGM_BASH}" "${CMAKE_CURRENT_LIST_DIR}/armv6/purity-build.sh"
              "${_agm_root}" "${CMAKE_BINARY_DIR}/armv6-hardfloat" "${CMAKE_COMMAND}")
    set_tests_properties(armv6_purity_negative armv6_purity_positive armv6_purity_hardfloat
      PROPERTIES LABELS armv6-purity)
    # A cold cross build of the libraries: minutes on 2 cores, not seconds.
    set_tests_properties(armv6_purity_hardfloat PROPERTIES TIMEOUT 1800)
  else()
    message(STATUS "arm-linux-gnueabihf-gcc/g++/objdump not found: armv6-purity tests skipped (tools/setup.sh installs them)")
  endif()
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm" AND AGM_BASH)
  add_test(NAME armv6_purity_objects
    COMMAND "${AGM_BASH}" "${_agm_checker}" -q "${CMAKE_BINARY_DIR}")
  set_tests_properties(armv6_purity_objects PROPERTIES LABELS armv6-purity)
endif()
