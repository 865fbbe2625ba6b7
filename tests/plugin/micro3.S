@ micro3.S: step markers (see micro.S for the protocol). Three steps of 2, 5
@ and 3 single-cycle instructions in bucket 1: the plugin must report 3
@ steps and 5 cycles for the costliest.
        .arch   armv6kz
        .fpu    vfp
        .arm
        .syntax unified

        .include "markers.inc"

        .text
        .global _start
_start:
        mov     r1, #1
        mov     r2, #2
        SETTLE

@ expect region=1 insns=10 cycles=10 steps=3 max_step_cycles=5 name=three_steps (independent movs, 1 cycle each)
        REGION 1
        BEGIN
        .rept 2
        mov     r3, r1
        .endr
        STEP
        .rept 5
        mov     r3, r2
        .endr
        STEP
        .rept 3
        mov     r3, r1
        .endr
        STEP
        END
        SETTLE

        mov     r0, #0
        mov     r7, #1
        svc     #0
