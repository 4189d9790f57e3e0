/*
 * One access per build (-DCASE=n) at an address that is 2 mod 4 (r0 = SRAM + 2; CASE 0x1n
 * uses SRAM + 4, aligned), assembled for the widest M-profile, no start-up code. ARMv7-M
 * faults on every one of these (UsageFault UNALIGNED, Armv7-M ARM A3.2.1) whatever
 * CCR.UNALIGN_TRP says; the access must not happen.
 *
 *   1 ldrd   2 strd   3 ldm   4 stm   5 ldrex   6 strex   7 vldr   8 vstr   9 ldrexh at +1
 * CASE 0x21: the ldrd with its base set from SP just before it.
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
#if (CASE & 15) == 7 || (CASE & 15) == 8
    ldr r3, =0xE000ED88     /* CPACR: full access to CP10/CP11, the FPU */
    ldr r4, [r3]
    orr r4, r4, #(0xF << 20)
    str r4, [r3]
    dsb
    isb
#endif
    movs r0, #1
    lsls r0, r0, #29        /* r0 = 0x20000000 */
#if CASE >= 0x10
    adds r0, #4             /* aligned */
#elif CASE == 9
    adds r0, #1             /* halfword access at an odd address */
#else
    adds r0, #2             /* 2 mod 4 */
#endif
    movs r1, #7
    movs r2, #9
#if CASE == 0x21
    sub r0, sp, #32         /* from SP: word-aligned, proven from the code (no check needed) */
#endif
    .global probe
probe:
#if (CASE & 15) == 1
    ldrd r2, r3, [r0, #8]
#elif (CASE & 15) == 2
    strd r1, r2, [r0, #8]
#elif (CASE & 15) == 3
    ldm r0, {r2, r3}
#elif (CASE & 15) == 4
    stm r0!, {r1, r2}
#elif (CASE & 15) == 5
    ldrex r2, [r0, #4]
#elif (CASE & 15) == 6
    strex r3, r1, [r0]
#elif (CASE & 15) == 7
    vldr s0, [r0, #4]
#elif (CASE & 15) == 8
    vstr s0, [r0]
#elif (CASE & 15) == 9
    ldrexh r2, [r0]
#endif
    movs r0, #0x20
    adr r1, exit_block
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler

    .ltorg
    .balign 4
exit_block:
    .word 0x20026           /* ADP_Stopped_ApplicationExit */
    .word 0
