@ Positive fixture for tools/armv6-purity-check.sh: every instruction here is
@ one an ARM1176JZF-S executes (ARMv6KZ + VFPv2). The assembler is told
@ exactly that (.arch armv6kz, .fpu vfp) and refuses anything newer, so if
@ the checker rejects a line of this file, the checker is wrong.
        .arch   armv6kz
        .fpu    vfp
        .syntax unified
        .arm
        .text
        .global agm_purity_good_asm
        .type   agm_purity_good_asm, %function
agm_purity_good_asm:
        @ ARMv6 SIMD (the kernels' bread and butter).
        smlad   r0, r1, r2, r3
        smladx  r0, r1, r2, r3
        smuad   r0, r1, r2
        smlabb  r0, r1, r2, r3
        smulbb  r0, r1, r2
        smlald  r0, r1, r2, r3
        sadd16  r0, r1, r2
        ssub16  r0, r1, r2
        sadd8   r0, r1, r2
        uadd8   r0, r1, r2
        qadd16  r0, r1, r2
        shadd16 r0, r1, r2
        sel     r0, r1, r2
        sxtb16  r0, r1
        sxtb16  r0, r1, ror #8
        uxtb16  r0, r1
        sxtab16 r0, r1, r2
        sxtb    r0, r1
        uxth    r0, r1
        usad8   r0, r1, r2
        usada8  r0, r1, r2, r3
        pkhbt   r0, r1, r2, lsl #16
        pkhtb   r0, r1, r2, asr #16
        ssat    r0, #8, r1
        usat    r0, #8, r1
        ssat16  r0, #8, r1
        rev     r0, r1
        rev16   r0, r1
        clz     r0, r1
        umaal   r0, r1, r2, r3
        smmul   r0, r1, r2
        @ Memory: prefetch, doubleword, exclusives (ARMv6K).
        pld     [r0, #32]
        ldrd    r2, r3, [r0, #8]
        strd    r2, r3, [r0], #8
        ldrex   r2, [r0]
        strex   r1, r2, [r0]
        ldrexb  r2, [r0]
        ldrexd  r2, r3, [r0]
        strexd  r1, r2, r3, [r0]
        clrex
        ldm     r0!, {r2-r5}
        @ Hints that ARMv6K has.
        nop
        yield
        @ VFPv2 single and double precision.
        vadd.f32  s0, s1, s2
        vsub.f32  s0, s1, s2
        vmul.f32  s0, s1, s2
        vnmul.f32 s0, s1, s2
        vmla.f32  s0, s1, s2
        vmls.f32  s0, s1, s2
        vnmla.f32 s0, s1, s2
        vdiv.f32  s0, s1, s2
        vsqrt.f32 s0, s1
        vabs.f32  s0, s1
        vneg.f32  s0, s1
        vadd.f64  d0, d1, d2
        vmul.f64  d15, d14, d13
        vmla.f64  d0, d1, d2
        vcmp.f32  s0, s1
        vcmpe.f32 s0, #0
        vcmp.f64  d0, #0
        vmrs    APSR_nzcv, fpscr
        vmrs    r0, fpscr
        vmsr    fpscr, r0
        vcvt.f32.s32 s0, s1
        vcvt.s32.f32 s0, s1
        vcvtr.s32.f32 s0, s1
        vcvt.u32.f32 s0, s1
        vcvt.f64.f32 d0, s1
        vcvt.f32.f64 s0, d1
        vcvt.f64.s32 d0, s1
        vmov    r0, s0
        vmov    s0, r0
        vmov    r0, r1, d0
        vmov    d0, r0, r1
        vmov    s0, s1, r0, r1
        vmov.f32 s0, s1
        vmov.f64 d0, d15
        vmov.32 d0[1], r0
        vmov.32 r0, d0[0]
        vmovne.f32 s0, s1
        vmlsls.f32 s0, s1, s2
        vldr    s0, [r0, #4]
        vstr    d0, [r0, #8]
        vldmia  r0!, {s0-s7}
        vstmia  r0, {d0-d15}
        vpush   {d8-d15}
        vpop    {d8-d15}
        bx      lr
        .size   agm_purity_good_asm, .-agm_purity_good_asm
        .section .note.GNU-stack,"",%progbits
