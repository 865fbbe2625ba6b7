# tests/plugin.cmake: the ARM1176 cycle model's tests (label `perfmodel`),
# included from tests/CMakeLists.txt in the HOST build only:
#   if(NOT CMAKE_CROSSCOMPILING)
#     include(${CMAKE_CURRENT_SOURCE_DIR}/plugin.cmake)
#   endif()
#
#   perfmodel_plugin_build  qemu/plugin/build.sh into <build>/qemu-plugin (the
#                           first time it fetches Debian's qemu source package
#                           into <repo>/build/qemu-src: apt, root or sudo)
#   perfmodel_micro         tests/plugin/run-micro.sh: TRM micro-sequences under
#                           qemu-arm -cpu arm1176 with the plugin, exact counts
#   perfmodel_memory        tests/plugin/run-memory.sh: the memory model's
#                           figures on bench/pizero_membench.c within 8% of the
#                           Pi Zero's published ones
get_filename_component(_agm_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
find_program(AGM_BASH bash)
find_program(AGM_PLUGIN_QEMU_ARM NAMES qemu-arm)
find_program(AGM_ARMEL_GCC arm-linux-gnueabi-gcc)
find_program(AGM_PLUGIN_HOST_CC NAMES gcc cc)
find_program(AGM_APT_GET apt-get)
file(GLOB _agm_plugin_header "${_agm_root}/build/qemu-src/*/include/qemu/qemu-plugin.h")

if(AGM_BASH AND AGM_PLUGIN_QEMU_ARM AND AGM_ARMEL_GCC AND AGM_PLUGIN_HOST_CC
   AND (_agm_plugin_header OR AGM_APT_GET))
  set(_agm_plugin_dir "${CMAKE_BINARY_DIR}/qemu-plugin")
  add_test(NAME perfmodel_plugin_build
    COMMAND "${CMAKE_COMMAND}" -E env "AGM_PLUGIN_BUILD=${_agm_plugin_dir}" "CC=${AGM_PLUGIN_HOST_CC}"
            "${AGM_BASH}" "${_agm_root}/qemu/plugin/build.sh")
  add_test(NAME perfmodel_micro
    COMMAND "${CMAKE_COMMAND}" -E env
            "AGM_CYCLES_PLUGIN=${_agm_plugin_dir}/libagm_cycles.so"
            "QEMU_ARM=${AGM_PLUGIN_QEMU_ARM}" "AGM_ARM_CC=${AGM_ARMEL_GCC}"
            "AGM_MICRO_WORK=${CMAKE_CURRENT_BINARY_DIR}/plugin-micro"
            "${AGM_BASH}" "${_agm_root}/tests/plugin/run-micro.sh")
  add_test(NAME perfmodel_memory
    COMMAND "${CMAKE_COMMAND}" -E env
            "AGM_CYCLES_PLUGIN=${_agm_plugin_dir}/libagm_cycles.so"
            "QEMU_ARM=${AGM_PLUGIN_QEMU_ARM}" "AGM_ARM_CC=${AGM_ARMEL_GCC}"
            "AGM_MEMORY_WORK=${CMAKE_CURRENT_BINARY_DIR}/plugin-memory"
            "${AGM_BASH}" "${_agm_root}/tests/plugin/run-memory.sh")
  set_tests_properties(perfmodel_memory PROPERTIES
    LABELS perfmodel FIXTURES_REQUIRED agm_cycles_plugin TIMEOUT 300)
  set_tests_properties(perfmodel_plugin_build PROPERTIES
    LABELS perfmodel FIXTURES_SETUP agm_cycles_plugin TIMEOUT 600)
  set_tests_properties(perfmodel_micro PROPERTIES
    LABELS perfmodel FIXTURES_REQUIRED agm_cycles_plugin TIMEOUT 300)
else()
  message(STATUS "qemu-arm, arm-linux-gnueabi-gcc or a way to get qemu-plugin.h (apt-get) missing: "
                 "perfmodel tests skipped (tools/setup.sh installs the tools)")
endif()
