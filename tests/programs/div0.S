/*
 * A divide by zero (no start-up code). With -DTRAP=1 the program first sets CCR.DIV_0_TRP
 * (0xE000ED14 bit 4), so the UDIV must fault (UsageFault DIVBYZERO) and not run; without it
 * the quotient is 0 (Armv7-M ARM A7.7.195 UDIV) and the program exits 0.
 */
    .syntax unified
    .thumb
    .cpu cortex-m3

    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
#if TRAP
    ldr r3, =0xE000ED14
    ldr r4, [r3]
    orr r4, r4, #0x10
    str r4, [r3]
    dsb
    isb
#endif
    movs r1, #7
    movs r2, #0
    movs r4, #5
    .global probe
probe:
    udiv r4, r1, r2
    movs r0, #0x20
    adr r1, exit_block
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler

    .ltorg
    .balign 4
exit_block:
    .word 0x20026           /* ADP_Stopped_ApplicationExit */
    .word 0
