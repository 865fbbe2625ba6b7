@ Negative fixture: the object's build attributes say ARMv6KZ + VFPv2 (the
@ assembler is told so) but raw .inst words smuggle in ARMv7 encodings, as a
@ copied inline-asm block could. Only the instruction layer of the checker
@ can see them, so this proves that layer works on its own.
        .arch   armv6kz
        .fpu    vfp
        .syntax unified
        .arm
        .text
        .global agm_purity_bad_inst
        .type   agm_purity_bad_inst, %function
agm_purity_bad_inst:
        smlad   r0, r1, r2, r3          @ fine
        .inst   0xe3001234              @ movw  r1, #0x234
        .inst   0xe3401234              @ movt  r1, #0x234
        .inst   0xe7e40351              @ ubfx  r0, r1, #6, #5
        .inst   0xe710f110              @ sdiv  r0, r0, r1
        .inst   0xf57ff05b              @ dmb   ish
        .inst   0xf2000840              @ vadd.i8 q0, q0, q0   (NEON)
        .inst   0xeeb70a00              @ vmov.f32 s0, #1.0    (VFPv3)
        .inst   0xeea00a81              @ vfma.f32 s0, s1, s2  (VFPv4)
        bx      lr
        .size   agm_purity_bad_inst, .-agm_purity_bad_inst
        .section .note.GNU-stack,"",%progbits
