/* The bundled default model, linked into agmodel-run so that the program
   runs with no -m anywhere, a Pi Zero included. 64-byte aligned as the
   format requires for in-place use. AGM_BUNDLED_MODEL is a quoted path. */
    .section .rodata
    .balign 64
    .global agm_bundled_model
agm_bundled_model:
    .incbin AGM_BUNDLED_MODEL
    .global agm_bundled_model_end
agm_bundled_model_end:
    .byte 0
    .section .note.GNU-stack,"",%progbits
