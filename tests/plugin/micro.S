@ micro.S: ARM1176 micro-sequences whose cycle counts the ARM1176JZF-S TRM
@ (ARM DDI 0301H, chapter 16) gives, for tests/plugin/run-micro.sh.
@
@ Each block selects a bucket (region marker k), starts counting, runs one
@ sequence REPS times (.rept, no loop overhead), stops counting. The
@ `@ expect` lines give the exact instruction count and the cycles the TRM
@ implies for bucket k; run-micro.sh checks them against the plugin's
@ region.k.insns / region.k.cycles. Markers: qemu/plugin/agm_marker.h.
@ Built static with -nostdlib: no C library, nothing else runs.
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
        str     r0, [r0]            @ buf[0] = &buf: a pointer to chase
        mov     r2, r0
        ldr     r4, =0x01010101
        mov     r5, #3
        mov     r6, #5
        mov     r7, #2
        mov     r9, #7
        mov     r10, #0
        mov     r11, #0
        SETTLE

@ expect region=0 insns=16 cycles=16 name=add_independent (16.3: ADD 1 cycle)
        REGION 0
        BEGIN
        .rept REPS
        add     r1, r5, r6
        .endr
        END
        SETTLE

@ expect region=1 insns=32 cycles=64 name=ldr_then_use (table 16-3: LDR; ADD using it = 4 cycles)
        REGION 1
        BEGIN
        .rept REPS
        ldr     r1, [r2]
        add     r6, r5, r1
        .endr
        END
        SETTLE

@ expect region=2 insns=32 cycles=32 name=ldr_then_independent (table 16-3: 2 cycles)
        REGION 2
        BEGIN
        .rept REPS
        ldr     r1, [r2]
        add     r6, r5, r9
        .endr
        END
        SETTLE

@ expect region=3 insns=32 cycles=48 name=add_then_ldr_base (table 16-3: ADD; LDR [result] = 3 cycles, Early Reg)
        REGION 3
        BEGIN
        .rept REPS
        add     r1, r2, #0
        ldr     r3, [r1]
        .endr
        END
        SETTLE

@ expect region=4 insns=32 cycles=80 name=ldr_pointer_chase (table 16-3: LDR; LDR [result] = 5 cycles)
        REGION 4
        BEGIN
        .rept REPS
        ldr     r1, [r2]
        ldr     r3, [r1]
        .endr
        END
        SETTLE

@ expect region=5 insns=32 cycles=64 name=usad8_then_add (table 16-9: 4 cycles)
        REGION 5
        BEGIN
        .rept REPS
        usad8   r1, r4, r5
        add     r3, r6, r1
        .endr
        END
        SETTLE

@ expect region=6 insns=64 cycles=64 name=usad8_movs_add (table 16-9: MOVs fill the latency, 4 cycles)
        REGION 6
        BEGIN
        .rept REPS
        usad8   r1, r4, r5
        mov     r9, r9
        mov     r9, r9
        add     r3, r6, r1
        .endr
        END
        SETTLE

@ expect region=7 insns=32 cycles=48 name=usad8_usada8_acc (table 16-9: accumulate forwarding, 3 cycles)
        REGION 7
        BEGIN
        .rept REPS
        usad8   r1, r4, r5
        usada8  r1, r4, r6, r1
        .endr
        END
        SETTLE

@ expect region=8 insns=32 cycles=80 name=ldm7_then_use_r3 (16.12.3: LDMIA r0,{r1-r7}; ADD r10,r10,r3 = 5 cycles)
        REGION 8
        BEGIN
        .rept REPS
        ldmia   r0, {r1-r7}
        add     r10, r10, r3
        .endr
        END
        SETTLE

@ expect region=9 insns=32 cycles=80 name=stm7_then_write_r6 (16.12.3: STMIA r0,{r1-r7}; ADD r6,.. = 5 cycles, lock latency)
        REGION 9
        BEGIN
        .rept REPS
        stmia   r0, {r1-r7}
        add     r6, r10, r11
        .endr
        END
        ldr     r0, =buf
        str     r0, [r0]
        mov     r2, r0
        SETTLE

@ expect region=10 insns=16 cycles=31 name=ldm4_back_to_back (table 16-18: 1 issue cycle, 4 registers = 2 memory cycles: the next LDM waits; the last issues in 1)
        REGION 10
        BEGIN
        .rept REPS
        ldmia   r0, {r4-r7}
        .endr
        END
        ldr     r4, =0x01010101
        mov     r5, #3
        mov     r6, #5
        mov     r7, #2
        SETTLE

@ expect region=11 insns=16 cycles=32 name=mul_independent (table 16-10: MUL 2 cycles)
        REGION 11
        BEGIN
        .rept REPS
        mul     r1, r5, r6
        .endr
        END
        SETTLE

@ expect region=12 insns=32 cycles=80 name=mul_then_use (table 16-10: MUL result latency 4: 5 cycles)
        REGION 12
        BEGIN
        .rept REPS
        mul     r1, r5, r6
        add     r3, r1, r9
        .endr
        END
        SETTLE

@ expect region=13 insns=32 cycles=32 name=smlad_independent (table 16-10: SMLAD 1 cycle)
        REGION 13
        BEGIN
        .rept REPS
        smlad   r1, r4, r5, r9
        smlad   r3, r4, r6, r9
        .endr
        END
        SETTLE

@ expect region=14 insns=32 cycles=64 name=smlad_then_use (table 16-10: SMLAD result latency 3: 4 cycles)
        REGION 14
        BEGIN
        .rept REPS
        smlad   r1, r4, r5, r9
        add     r3, r1, r9
        .endr
        END
        SETTLE

@ expect region=15 insns=32 cycles=48 name=add_then_shifted_use (table 16-4: shifted Rm is an Early Reg: 3 cycles)
        REGION 15
        BEGIN
        .rept REPS
        add     r1, r5, r6
        add     r3, r9, r1, lsl #1
        .endr
        END
        SETTLE

        mov     r0, #0
        mov     r7, #1              @ exit(0)
        svc     #0
        .ltorg
