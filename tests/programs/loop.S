/*
 * A loop whose instruction count can be checked by hand. No start-up code, no C: this file
 * brings its own two-word vector table and is built with toolchain.build(..., runtime=False).
 *
 *     movs r1, #N            1
 *   loop:
 *     subs r1, #1            N
 *     bne  loop              N   (taken N-1 times, falls through once)
 *     movs r0, #0x20         1   SYS_EXIT_EXTENDED
 *     adr  r1, exit_block    1
 *     bkpt 0xab              1   semihosting call: counted, it executes
 *                          ------
 *                           2N + 4 instructions, whatever the emulator's block boundaries.
 *
 * N defaults to 100 (204 instructions); -DN=... changes it (1 <= N <= 255). The exit status
 * is EXIT_STATUS (default 0).
 */
#ifndef N
#define N 100
#endif
#ifndef EXIT_STATUS
#define EXIT_STATUS 0
#endif

    .syntax unified
    .thumb

    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
    movs r1, #N
loop:
    subs r1, #1
    bne loop
    movs r0, #0x20
    adr r1, exit_block
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler

    .balign 4
exit_block:
    .word 0x20026           /* ADP_Stopped_ApplicationExit */
    .word EXIT_STATUS
