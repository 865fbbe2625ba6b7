/* Entry point of the Raspberry Pi Zero image (ARM1176JZF-S, ARM state).
 *
 * The GPU firmware (or QEMU's -kernel loader) jumps to _start at 0x8000
 * with the MMU and caches off, in a privileged mode. This code:
 *   1. masks interrupts and gives each exception mode a stack (one small
 *      shared region: their handlers only report and stop), then SVC mode
 *      with the main stack;
 *   2. sets SCTLR.U (ARMv6 unaligned access, which GCC assumes for
 *      -march=armv6kz) and clears SCTLR.A (no alignment faults);
 *   3. enables VFP: CPACR cp10/cp11 full access, FPEXC.EN, FPSCR = 0
 *      (round to nearest, no flush-to-zero, no default NaN: IEEE, as
 *      Linux runs it);
 *   4. zeroes .bss, paints the SVC stack (stack_peak() in syscalls.c),
 *      copies the vector table to 0x00000000, turns on the MMU (identity
 *      map) and the caches (mmu.c), runs the C++ constructors;
 *   5. calls main() and passes its result to _exit (semihosting SYS_EXIT).
 *
 * Registers: r0-r3 scratch, r4/r5 loop bounds; sp per mode (see raspi0.ld).
 */
    .syntax unified
    .arm
    .section .text.boot, "ax"
    .global _start
_start:
    cpsid   aif
    ldr     r0, =__exc_stack_top
    cps     #0x17                   @ abort
    mov     sp, r0
    cps     #0x1b                   @ undefined
    mov     sp, r0
    cps     #0x12                   @ irq
    mov     sp, r0
    cps     #0x11                   @ fiq
    mov     sp, r0
    cps     #0x13                   @ svc: main runs here
    ldr     sp, =__stack_top

    @ SCTLR: U (bit 22) on, A (bit 1) off.
    mrc     p15, 0, r0, c1, c0, 0
    orr     r0, r0, #(1 << 22)
    bic     r0, r0, #(1 << 1)
    mcr     p15, 0, r0, c1, c0, 0

    @ CPACR: cp10 and cp11 full access (bits 20-23), then flush the
    @ prefetch buffer (ARMv6's ISB) before touching the VFP.
    mrc     p15, 0, r0, c1, c0, 2
    orr     r0, r0, #(0xf << 20)
    mcr     p15, 0, r0, c1, c0, 2
    mov     r0, #0
    mcr     p15, 0, r0, c7, c5, 4
    mov     r0, #(1 << 30)          @ FPEXC.EN
    vmsr    fpexc, r0
    mov     r0, #0
    vmsr    fpscr, r0

    @ Zero .bss (8-byte aligned both ends: raspi0.ld).
    ldr     r4, =__bss_start
    ldr     r5, =__bss_end
    mov     r0, #0
    mov     r1, #0
1:  cmp     r4, r5
    strdlo  r0, r1, [r4], #8
    blo     1b

    @ Paint the SVC stack below the current frame with 0xa5a5a5a5.
    ldr     r4, =__stack_bottom
    sub     r5, sp, #64
    ldr     r0, =0xa5a5a5a5
2:  cmp     r4, r5
    strlo   r0, [r4], #4
    blo     2b

    @ The vector table to 0x00000000 (8 instructions + 8 literal addresses).
    ldr     r0, =agm_fw_vectors
    mov     r1, #0
    ldmia   r0!, {r2-r5}
    stmia   r1!, {r2-r5}
    ldmia   r0!, {r2-r5}
    stmia   r1!, {r2-r5}
    ldmia   r0!, {r2-r5}
    stmia   r1!, {r2-r5}
    ldmia   r0!, {r2-r5}
    stmia   r1!, {r2-r5}

    @ Identity MMU map, caches and branch prediction on (mmu.c).
    bl      agm_fw_mmu_on

    @ C++ constructors (.init_array), if any.
    ldr     r4, =__init_array_start
    ldr     r5, =__init_array_end
3:  cmp     r4, r5
    bhs     4f
    ldr     r0, [r4], #4
    blx     r0
    b       3b
4:
    bl      main
    b       _exit

/* Exception vectors: position independent (each loads pc from the literal
   32 bytes further on), so the table works wherever it is copied. */
    .balign 32
agm_fw_vectors:
    ldr     pc, [pc, #24]           @ reset
    ldr     pc, [pc, #24]           @ undefined instruction
    ldr     pc, [pc, #24]           @ SVC (semihosting with no host: ignored)
    ldr     pc, [pc, #24]           @ prefetch abort
    ldr     pc, [pc, #24]           @ data abort
    ldr     pc, [pc, #24]           @ reserved
    ldr     pc, [pc, #24]           @ irq
    ldr     pc, [pc, #24]           @ fiq
    .word   _start
    .word   agm_fw_exc_undef
    .word   agm_fw_exc_svc
    .word   agm_fw_exc_pabort
    .word   agm_fw_exc_dabort
    .word   agm_fw_exc_other
    .word   agm_fw_exc_other
    .word   agm_fw_exc_other

/* Each handler passes (kind, address of the faulting instruction) to
   agm_fw_fault (syscalls.c), which reports on the UART and exits with 1. */
agm_fw_exc_undef:
    mov     r0, #1
    sub     r1, lr, #4
    b       agm_fw_fault
@ An SVC that reaches the vector is a semihosting call with no debugger to
@ take it (a real Pi): ignore it and return, so that _exit ends in its wfi
@ loop and the semihosting console writes are dropped.
agm_fw_exc_svc:
    movs    pc, lr
agm_fw_exc_pabort:
    mov     r0, #3
    sub     r1, lr, #4
    b       agm_fw_fault
agm_fw_exc_dabort:
    mov     r0, #4
    sub     r1, lr, #8
    b       agm_fw_fault
agm_fw_exc_other:
    mov     r0, #0
    sub     r1, lr, #4
    b       agm_fw_fault

    .section .note.GNU-stack,"",%progbits
