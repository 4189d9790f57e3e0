/*
 * One instruction per build (-DCASE=n) that some cores lack, assembled for the widest
 * M-profile so every target's build contains it. No start-up code (runtime=False): a core
 * that has the instruction runs it and exits 0; one that lacks it must fault on it.
 *
 *   1 udiv (ARMv7-M)    2 ldr.w (Thumb-2)      3 vadd.f32 (FPU)    4 tt (ARMv8-M)
 *   5 sadd8 (DSP)       6 mcr p15 (no core here has cp15)
 * and what Unicorn's model of a core runs though the core lacks it (sim/isa_gaps.py):
 *   7 smlad (DSP)       8 sxtab (DSP)          9 cbz (ARMv7-M)     10 it (ARMv7-M)
 *  11 vmul.f64 with an unused DSP instruction in the image (the Cortex-M3: still NOCP)
 */
    .syntax unified
    .thumb
    .cpu cortex-m33
    .fpu fpv5-sp-d16

    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
    movs r0, #1
    lsls r0, r0, #29        /* r0 = 0x20000000 (16-bit encodings: every core runs them) */
    movs r1, #7
    movs r2, #2
    .global probe
probe:
#if CASE == 1
    udiv r4, r1, r2
#elif CASE == 2
    ldr.w r4, [r0, #4]
#elif CASE == 3
    vadd.f32 s0, s1, s2
#elif CASE == 4
    tt r4, r1
#elif CASE == 5
    sadd8 r4, r1, r2
#elif CASE == 6
    mcr p15, 0, r1, c7, c5, 0
#elif CASE == 7
    smlad r4, r1, r2, r1
#elif CASE == 8
    sxtab r4, r1, r2
#elif CASE == 9
    cbz r2, 1f              /* r2 = 2: falls through (a cbz to the next instruction would */
    nop                     /* be assembled as a nop) */
1:
#elif CASE == 10
    it eq
    moveq r4, r1
#elif CASE == 11
    .fpu fpv5-d16           /* (double precision: assembled, never a core's here) */
    vmul.f64 d0, d1, d2     /* with a DSP instruction elsewhere in the image (unused, below) */
#endif
    movs r0, #0x20
    adr r1, exit_block
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler

#if CASE == 11
    .global unused_dsp
    .type unused_dsp, %function
    .thumb_func
unused_dsp:                 /* never runs: only marks the image as holding a DSP instruction */
    sadd8 r4, r1, r2
    bx lr
#endif

    .balign 4
exit_block:
    .word 0x20026           /* ADP_Stopped_ApplicationExit */
    .word 0
