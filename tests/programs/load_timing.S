/*
 * Counter reads timed at the load's own cycle (tests/test_load_timing.py). No start-up code:
 * built with toolchain.build(..., runtime=False). Each case runs one basic block from the
 * label `measure` (a branch ends the block before it) to the exit call, and exits with
 *
 *     status = (t1 - t0) | (t0' << 8)
 *
 * where t0 and t1 are two reads of a counter around a fixed sequence in that block, and t0'
 * says how far the counter moved from the store that (re)starts it, in the same block, to t0.
 * A simulator that times every read at the block's end sees t1 == t0 (and t0' at the end too).
 *
 * CASE 1: DWT CYCCNT (an up-counter; t0' = t0 after a store of 0), its address in r2.
 * CASE 2: SysTick CVR (a down-counter from RVR + 1 after a store to CSR enables it:
 *         t1 - t0 is taken as t0 - t1, t0' as RVR + 1 - t0).
 * CASE 3: DWT CYCCNT read by loads whose address register is their destination
 *         (`ldr r4, [r4]`), the address taken from the literal pool.
 * CASE 4: CYCCNT's second read is a POP (SP pointed at CYCCNT): a load the simulator does not
 *         look for, so that read is timed at its block's end (the fallback).
 * CASE 5: CASE 1's block copied to SRAM (with its literal pool) and run there.
 */
#define DEMCR   0xE000EDFC
#define DWT_CTRL 0xE0001000
#define CYCCNT  0xE0001004
#define SYST_CSR 0xE000E010
#define RVR     0x00FFFFFF

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
#if CASE == 2
    ldr r2, =SYST_CSR
    ldr r3, =RVR
    str r3, [r2, #4]           /* RVR */
    movs r3, #0
    str r3, [r2, #8]           /* CVR cleared */
    movs r3, #5                /* ENABLE, CLKSOURCE = the core's clock */
#else
    ldr r2, =DEMCR
    ldr r3, [r2]
    orr r3, r3, #0x01000000    /* TRCENA */
    str r3, [r2]
    ldr r2, =DWT_CTRL
    movs r3, #1                /* CYCCNTENA */
    str r3, [r2]
    adds r2, r2, #4            /* CYCCNT */
    movs r3, #0
#endif
    mov r6, sp
#if CASE == 5
    ldr r0, =measure
    ldr r1, =pool_end
    ldr r5, =ram_code
    adds r7, r5, #1            /* (Thumb) */
copy:
    ldr r4, [r0]
    str r4, [r5]
    adds r0, r0, #4
    adds r5, r5, #4
    cmp r0, r1
    bne copy
    bx r7
#else
    b measure
#endif

    .balign 4                  /* (copied as it is: its literal loads reach the same words) */
    .global measure
measure:
#if CASE == 2
    str r3, [r2]               /* SysTick starts counting */
    .global first
first:
    ldr r4, [r2, #8]           /* t0 */
#elif CASE == 3
    str r3, [r2]               /* CYCCNT = 0 */
    ldr r4, =CYCCNT
    .global first
first:
    ldr r4, [r4]               /* t0 */
#else
    str r3, [r2]               /* CYCCNT = 0 */
    .global first
first:
    ldr r4, [r2]               /* t0 */
#endif
    adds r0, r0, #1
    muls r1, r0, r1
    eors r3, r3, r0
    lsls r0, r0, #3
    adds r1, r1, #7
    movs r7, #5
    muls r7, r1, r7
    adds r0, r0, r7
    nop
#if CASE == 2
    .global second
second:
    ldr r5, [r2, #8]           /* t1 */
    subs r0, r4, r5            /* t0 - t1 */
    ldr r1, =RVR + 1
    subs r1, r1, r4            /* RVR + 1 - t0 */
#elif CASE == 3
    ldr r5, =CYCCNT
    .global second
second:
    ldr r5, [r5]               /* t1 */
    subs r0, r5, r4
    mov r1, r4
#elif CASE == 4
    mov sp, r2
    .global second
second:
    pop {r5}                   /* t1, not looked for: its block's end */
    mov sp, r6
    subs r0, r5, r4
    mov r1, r4
#else
    .global second
second:
    ldr r5, [r2]               /* t1 */
    subs r0, r5, r4
    mov r1, r4
#endif
    lsls r1, r1, #8
    orrs r0, r0, r1
    sub sp, #8
    ldr r1, =0x20026           /* ADP_Stopped_ApplicationExit */
    str r1, [sp]
    str r0, [sp, #4]
    mov r1, sp
    movs r0, #0x20             /* SYS_EXIT_EXTENDED */
    .global exit_call
exit_call:
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler
    .ltorg
pool_end:

    .bss
    .balign 4
ram_code:
    .space 256
