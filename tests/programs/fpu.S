/*
 * One floating-point instruction, with or without enabling the FPU first. No start-up code:
 * built with toolchain.build(..., runtime=False) for a target with an FPU.
 *
 * With -DENABLE_FPU the program sets CP10/CP11 to full access in SCB->CPACR (0xE000ED88), as
 * start-up code must, then adds two floats and exits with status 0. Without it the VADD runs
 * with the FPU disabled, which on hardware is a UsageFault (NOCP), escalated to HardFault while
 * UsageFault is disabled (as at reset).
 *
 *     ldr   r0, =0xE000ED88   (ENABLE_FPU only)
 *     ldr   r1, [r0]
 *     orr   r1, r1, #0xF00000
 *     str   r1, [r0]
 *     dsb; isb
 *     movs  r2, #1            3 instructions before the block with the VADD: counted either way
 *     movs  r3, #2
 *     b     compute
 *   compute:
 *     vmov  s0, r2
 *     vadd.f32 s1, s0, s0
 *     movs  r0, #0x20         SYS_EXIT_EXTENDED
 *     adr   r1, exit_block
 *     bkpt  0xab
 */
    .syntax unified
    .thumb
    .fpu fpv4-sp-d16

    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
#ifdef ENABLE_FPU
    ldr r0, =0xE000ED88
    ldr r1, [r0]
    orr r1, r1, #0xF00000
    str r1, [r0]
    dsb
    isb
#endif
    movs r2, #1
    movs r3, #2
    b compute
compute:
    vmov s0, r2
    vadd.f32 s1, s0, s0
    movs r0, #0x20
    adr r1, exit_block
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler

    .balign 4
exit_block:
    .word 0x20026           /* ADP_Stopped_ApplicationExit */
    .word 0
    .ltorg
