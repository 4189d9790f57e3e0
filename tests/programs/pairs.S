/*
 * Eight single-cycle ALU instructions in one basic block, then exit (no start-up code). CASE 1:
 * four independent pairs, which a dual-issue core issues two at a time; CASE 2: one dependency
 * chain, which issues one at a time everywhere. Same instruction count in both.
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
#if CASE == 1
    add.w r1, r1, #1
    add.w r2, r2, #1
    add.w r3, r3, #1
    add.w r4, r4, #1
    add.w r1, r1, #1
    add.w r2, r2, #1
    add.w r3, r3, #1
    add.w r4, r4, #1
#else
    add.w r1, r1, #1
    add.w r1, r1, #1
    add.w r1, r1, #1
    add.w r1, r1, #1
    add.w r1, r1, #1
    add.w r1, r1, #1
    add.w r1, r1, #1
    add.w r1, r1, #1
#endif
    movs r0, #0x20
    adr r1, exit_block
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler

    .balign 4
exit_block:
    .word 0x20026           /* ADP_Stopped_ApplicationExit */
    .word 0
