/*
 * One double-precision operation, which the single-precision FPUs of Cortex-M4, M7 and M33
 * parts (FPv4-SP, FPv5-SP) do not have: UsageFault UNDEFINSTR on the chip. No start-up code:
 * built with toolchain.build(..., runtime=False) for a target with an FPU.
 *
 * The FPU is enabled first (CPACR), so the fault is not NOCP. The VMUL.F64 sits inside a
 * block after two MOVS, which run; with -DUDF it is a UDF instead, which faults at the same
 * place with the same counts. Both fault handlers (UsageFault escalates to HardFault while
 * disabled in SHCSR) exit with the status CFSR >> 16: 1 for UNDEFINSTR (--vector-faults).
 */
    .syntax unified
    .thumb
    .fpu fpv5-d16

    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler
    .word Fault_Handler     /* NMI */
    .word Fault_Handler     /* HardFault */
    .word Fault_Handler     /* MemManage */
    .word Fault_Handler     /* BusFault */
    .word Fault_Handler     /* UsageFault */

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
    ldr r0, =0xE000ED88
    ldr r1, [r0]
    orr r1, r1, #0xF00000
    str r1, [r0]
    dsb
    isb
    b compute
compute:
    movs r4, #5
    movs r5, #7
    .global at_fp64
at_fp64:
#ifdef UDF
    udf #0
    nop
#else
    vmul.f64 d0, d1, d2
#endif
    movs r0, #0x20
    adr r1, exit_block
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler

    .global Fault_Handler
    .type Fault_Handler, %function
    .thumb_func
Fault_Handler:
    ldr r0, =0xE000ED28     /* CFSR */
    ldr r3, [r0]
    lsrs r3, r3, #16
    ldr r2, =0x20026        /* ADP_Stopped_ApplicationExit, then the status */
    push {r2, r3}
    mov r1, sp
    movs r0, #0x20
    bkpt 0xab
    .size Fault_Handler, . - Fault_Handler

    .balign 4
exit_block:
    .word 0x20026
    .word 0
    .ltorg
