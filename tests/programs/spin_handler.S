/*
 * A vendor-style start-up whose unused handlers are all one `b .` (Default_Handler): with
 * --vector-faults the UDF below ends in HardFault, which spins where nothing can preempt it.
 * With -DTHREAD_SPIN the same `b .` runs in thread mode instead, as a `while (1);` waiting for
 * interrupts does, and is no deadlock (the run hits its instruction limit). No start-up code:
 * built with toolchain.build(..., runtime=False).
 */
    .syntax unified
    .thumb

    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler
    .word Default_Handler   /* NMI */
    .word Default_Handler   /* HardFault */
    .word Default_Handler   /* MemManage */
    .word Default_Handler   /* BusFault */
    .word Default_Handler   /* UsageFault */

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
    movs r4, #5
#ifdef THREAD_SPIN
    b Default_Handler
#else
    udf #0
#endif

    .global Default_Handler
    .type Default_Handler, %function
    .thumb_func
Default_Handler:
    b .
