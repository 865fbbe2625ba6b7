@ micro2.S: more ARM1176 micro-sequences (see micro.S for the protocol).
        .arch   armv6kz
        .fpu    vfp
        .arm
        .syntax unified

        .equ    REPS, 16

        .include "markers.inc"

        .bss
        .balign 8
buf:    .space  256

        .text
        .global _start
_start:
        ldr     r0, =buf
        mov     r2, r0
        ldr     r4, =0x01010101
        mov     r5, #3
        mov     r6, #5
        mov     r7, #2
        mov     r8, #1
        mov     r9, #7
        SETTLE

@ expect region=0 insns=32 cycles=32 name=add_then_unshifted_use (table 16-4: only the shifted operand is Early: 2 cycles)
        REGION 0
        BEGIN
        .rept REPS
        add     r1, r5, r6
        add     r3, r1, r9, lsl #1
        .endr
        END
        SETTLE

@ expect region=1 insns=16 cycles=32 name=register_shift (table 16-4: shift by register 2 cycles)
        REGION 1
        BEGIN
        .rept REPS
        add     r1, r5, r6, lsl r8
        .endr
        END
        SETTLE

@ expect region=2 insns=16 cycles=48 name=smull_independent (table 16-10: SMULL 3 cycles)
        REGION 2
        BEGIN
        .rept REPS
        smull   r1, r3, r5, r6
        .endr
        END
        SETTLE

@ expect region=3 insns=16 cycles=32 name=mla_independent (table 16-10: MLA 2 cycles)
        REGION 3
        BEGIN
        .rept REPS
        mla     r1, r5, r6, r9
        .endr
        END
        SETTLE

@ expect region=4 insns=16 cycles=31 name=smlad_acc_chain (table 16-10 latency 3, less 1 for a following accumulate (16.7): 2 cycles each; the last one issues in 1)
        REGION 4
        BEGIN
        .rept REPS
        smlad   r1, r4, r5, r1
        .endr
        END
        SETTLE

@ expect region=5 insns=32 cycles=32 name=smlad_two_acc_chains (two interleaved accumulators hide the latency: 1 cycle each)
        REGION 5
        BEGIN
        .rept REPS
        smlad   r1, r4, r5, r1
        smlad   r3, r4, r6, r3
        .endr
        END
        SETTLE

@ expect region=6 insns=16 cycles=16 name=ldrd_independent (LDRD: 1 cycle, one 64-bit memory access)
        REGION 6
        BEGIN
        .rept REPS
        ldrd    r10, r11, [r2]
        .endr
        END
        SETTLE

@ expect region=7 insns=32 cycles=32 name=ldr_postinc_stream (updated base forwarded to the next load: 1 cycle each)
        REGION 7
        BEGIN
        .rept REPS
        ldr     r1, [r2], #4
        ldr     r3, [r2], #4
        .endr
        END
        SETTLE

        mov     r0, #0
        mov     r7, #1
        svc     #0
        .ltorg
