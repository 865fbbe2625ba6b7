/* The model built into the image: the .agm file as it is on disk, used in
   place by agm_model_open_memory. 64-byte aligned as the format requires;
   its own section so that the link map shows its size apart (raspi0.ld puts
   it in the output section .model). AGM_FIRMWARE_MODEL is a quoted path. */
    .section .rodata.agm_model, "a"
    .balign 64
    .global agm_fw_model
agm_fw_model:
    .incbin AGM_FIRMWARE_MODEL
    .global agm_fw_model_end
agm_fw_model_end:
    .section .note.GNU-stack,"",%progbits
