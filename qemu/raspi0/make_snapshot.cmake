# Made on the host at build time for a firmware image with a snapshot
# (agm_raspi0_image(... SNAPSHOT_PROMPT FILE) in qemu/raspi0/CMakeLists.txt):
# the session snapshot after the system prompt, by the host's agmodel-run
# --prompt-cache, and the text the image must print, by agmodel-run on the
# image's whole prompt computed from scratch. Both are written to a
# temporary name and renamed: a failed run leaves neither.
#   cmake -DRUN=agmodel-run -DMODEL=m.agm -DSYSTEM=system.txt -DPROMPT=prompt.txt
#         -DSTEPS=n -DSNAPSHOT=out.agms -DEXPECTED=out.txt -P make_snapshot.cmake
foreach(v RUN MODEL SYSTEM PROMPT STEPS SNAPSHOT EXPECTED)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "make_snapshot.cmake: -D${v}=... is missing")
  endif()
endforeach()
file(REMOVE "${SNAPSHOT}.tmp" "${EXPECTED}.tmp")
execute_process(COMMAND "${RUN}" -m "${MODEL}" -f "${SYSTEM}" -n "${STEPS}" --prompt-cache "${SNAPSHOT}.tmp"
  OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT EXISTS "${SNAPSHOT}.tmp")
  message(FATAL_ERROR "agmodel-run --prompt-cache failed (${rc}): ${err}")
endif()
execute_process(COMMAND "${RUN}" -m "${MODEL}" -f "${PROMPT}" -n "${STEPS}"
  OUTPUT_FILE "${EXPECTED}.tmp" ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "agmodel-run failed (${rc}): ${err}")
endif()
file(RENAME "${SNAPSHOT}.tmp" "${SNAPSHOT}")
file(RENAME "${EXPECTED}.tmp" "${EXPECTED}")
