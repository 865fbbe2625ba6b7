# Boots a firmware image on QEMU's emulated Raspberry Pi Zero and compares
# what it writes on the UART (QEMU's standard output) byte for byte with
# EXPECTED; the semihosting console (QEMU's standard error: the image's
# memory figures) is printed. EXPECT_RC: the exit status to require (0);
# EXPECT_CONSOLE: a regular expression the semihosting console must match.
#   cmake -DQEMU=qemu-system-arm -DIMAGE=x.elf -DEXPECTED=file [-DEXPECT_RC=n]
#         [-DTIMEOUT=s] [-DEXPECT_CONSOLE=regex] -DEXPECTED_OUT=file -P run_firmware.cmake
if(NOT DEFINED EXPECT_RC)
  set(EXPECT_RC 0)
endif()
if(NOT DEFINED TIMEOUT)
  set(TIMEOUT 300)
endif()
string(TIMESTAMP t0 "%s")
execute_process(COMMAND ${QEMU} -M raspi0 -kernel ${IMAGE} -nographic -semihosting
  INPUT_FILE /dev/null
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT ${TIMEOUT})
string(TIMESTAMP t1 "%s")
math(EXPR secs "${t1} - ${t0}")
message(STATUS "${IMAGE}: exit ${rc} after ~${secs} s under QEMU\n${err}")
if(NOT rc STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "qemu-system-arm exited with '${rc}', expected ${EXPECT_RC}; UART:\n${out}")
endif()
if(EXPECT_CONSOLE AND NOT err MATCHES "${EXPECT_CONSOLE}")
  message(FATAL_ERROR "the semihosting console does not match '${EXPECT_CONSOLE}':\n${err}")
endif()
file(READ "${EXPECTED}" want)
if(NOT out STREQUAL want)
  file(WRITE "${EXPECTED_OUT}" "${out}")
  message(FATAL_ERROR "UART output differs from ${EXPECTED}; got (saved to ${EXPECTED_OUT}):\n${out}")
endif()
message(STATUS "UART output identical to ${EXPECTED}")
