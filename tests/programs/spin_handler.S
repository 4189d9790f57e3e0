/*
 * A vendor-style start-up whose unused handlers are all one `b .` (Default_Handler): with
 * --vector-faults the UDF below ends in HardFault, which spins where nothing can preempt it.
 * With -DTHREAD_SPIN the same `b .` runs in thread mode instead, as a `while (1);` waiting for
 * interrupts does: a deadlock with nothing that can interrupt it; with -DTICK too SysTick
 * interrupts it every 1,000 cycles (a handler that returns), and it is none (the run hits its
 * instruction limit). No start-up code: built with toolchain.build(..., runtime=False).
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
    .word 0, 0, 0, 0        /* reserved */
    .word Default_Handler   /* SVCall */
    .word Default_Handler   /* DebugMonitor */
    .word 0                 /* reserved */
    .word Default_Handler   /* PendSV */
    .word SysTick_Handler   /* SysTick */

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
    movs r4, #5
#ifdef THREAD_SPIN
#ifdef TICK
    ldr r0, =0xE000E010     /* SYST_CSR */
    ldr r1, =999
    str r1, [r0, #4]        /* SYST_RVR */
    movs r1, #7             /* processor clock, TICKINT, enable */
    str r1, [r0]
#endif
    b Default_Handler
#else
    udf #0
#endif

    .global Default_Handler
    .type Default_Handler, %function
    .thumb_func
Default_Handler:
    b .

    .type SysTick_Handler, %function
    .thumb_func
SysTick_Handler:
#ifdef TICK_ONCE
    ldr r0, =0xE000E010     /* SYST_CSR: off, so nothing can interrupt the spin any more */
    movs r1, #0
    str r1, [r0]
#endif
    bx lr
