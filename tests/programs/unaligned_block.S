/*
 * Accesses ARMv7-M requires aligned (Armv7-M ARM A3.2.1), checked at the start of their
 * translation block (sim/alignment.py), with the base register set in the block before
 * (-DCASE=n) and r0 = SRAM + OFF (-DOFF=0 aligned, 2 not) set in an earlier block. `probe` is
 * the access that faults when it faults; the exit sequence follows it (3 instructions).
 *
 *   1 ldrd on r0 as the block found it          2 adds r0, #2 in the block, then ldrd
 *   3 add r3, r0, r4, lsl #3; ldm r3            4 ldrdne, not executed (Z set)
 *   5 ldm r0!; stm r0!; ldm r0! (writeback)     6 a copy loop: ldm r0!; stm r0! four times
 *   7 add r3, r0, r4 (r4 = 2); ldm r3           8 push {r0}; pop {r3}; stm r3 (a loaded base)
 */
    .syntax unified
    .thumb
    .cpu cortex-m4

    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
    movs r0, #1
    lsls r0, r0, #29        /* r0 = 0x20000000 */
    adds r0, #OFF
    movs r1, #7
    movs r2, #9
    movs r4, #2
    movs r5, #4
    cmp r0, r0              /* Z set */
    b 1f
1:  movs r6, #0             /* the probe's block starts here: these retire before it */
    movs r7, #0
#if CASE == 1
probe:
    ldrd r2, r3, [r0, #8]
#elif CASE == 2
    adds r0, #2
probe:
    ldrd r2, r3, [r0, #8]
#elif CASE == 3
    add.w r3, r0, r4, lsl #3
probe:
    ldm r3, {r2, r3}
#elif CASE == 4
    it ne
probe:
    ldrdne r2, r3, [r0]
#elif CASE == 5
probe:
    ldm r0!, {r2, r3}
    stm r0!, {r2, r3}
    ldm r0!, {r2, r3}
#elif CASE == 6
2:
probe:
    ldm r0!, {r2, r3}
    stm r0!, {r2, r3}
    subs r5, #1
    bne 2b
#elif CASE == 7
    add r3, r0, r4
probe:
    ldm r3, {r2, r3}
#elif CASE == 8
    push {r0}
    pop {r3}
probe:
    stm r3, {r1, r2}
#endif
    .global probe
    movs r0, #0x20
    adr r1, exit_block
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler

    .balign 4
exit_block:
    .word 0x20026           /* ADP_Stopped_ApplicationExit */
    .word 0
