/* A session snapshot built into the image (docs/firmware.md, "A system
   prompt restored"): agm_session_save's bytes for a prompt, made on the
   host at build time, read in place by agm_session_load. Without
   AGM_FIRMWARE_SNAPSHOT (a quoted path) the image has none: the two
   symbols are equal. */
    .section .rodata.agm_snapshot, "a"
    .balign 64
    .global agm_fw_snapshot
agm_fw_snapshot:
#ifdef AGM_FIRMWARE_SNAPSHOT
    .incbin AGM_FIRMWARE_SNAPSHOT
#endif
    .global agm_fw_snapshot_end
agm_fw_snapshot_end:
    .section .note.GNU-stack,"",%progbits
