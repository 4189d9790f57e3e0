/*
 * CCR.UNALIGN_TRP (-DTRAP=1 sets it through the SCS): then every unaligned word or halfword
 * LDR/STR faults, UsageFault UNALIGNED (Armv7-M ARM A3.2.1, B3.2.8); with it clear they run.
 * r0 = SRAM; `probe` is the access (-DCASE=n):
 *   1 ldr r2, [r0, #2]      2 strh r1, [r0, #1]      3 ldr r2, [r0, r5] (r5 = 2)
 *   4 ldrb r2, [r0, #1] (bytes never fault)          5 ldr r2, [r0, #4] (aligned)
 */
    .syntax unified
    .thumb
    .cpu cortex-m33

    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
#if TRAP
    ldr r3, =0xE000ED14     /* CCR */
    ldr r4, [r3]
    movs r5, #8             /* UNALIGN_TRP */
    orrs r4, r5
    str r4, [r3]
    dsb                     /* the architecture's sequence for a System Control Space write */
    isb                     /* to affect the instructions after it (Armv7-M ARM B3.2) */
#endif
    movs r0, #1
    lsls r0, r0, #29        /* r0 = 0x20000000 */
    movs r1, #7
    movs r2, #9
    movs r5, #2
    .global probe
probe:
#if CASE == 1
    ldr r2, [r0, #2]
#elif CASE == 2
    strh r1, [r0, #1]
#elif CASE == 3
    ldr r2, [r0, r5]
#elif CASE == 4
    ldrb r2, [r0, #1]
#elif CASE == 5
    ldr r2, [r0, #4]
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
