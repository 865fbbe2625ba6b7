@ Negative fixture: Thumb-2 code (what Debian's armhf libraries are made of).
        .arch   armv7-a
        .syntax unified
        .thumb
        .text
        .global agm_purity_bad_thumb2
        .type   agm_purity_bad_thumb2, %function
        .thumb_func
agm_purity_bad_thumb2:
        movw    r0, #1
        ubfx    r0, r0, #1, #2
        adds    r0, r0, #1
        bx      lr
        .size   agm_purity_bad_thumb2, .-agm_purity_bad_thumb2
        .section .note.GNU-stack,"",%progbits
