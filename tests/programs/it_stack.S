/*
 * SP changes the simulator cannot sum before a block runs (built with runtime=False), for the
 * shadow SP of sim/_blockhook.c: conditional ones inside IT blocks, and frames larger than its
 * cached net change holds (127 words).
 *
 *   Reset_Handler: for i in 0..63: frame(i)           (SP = __stack_top; no frame of its own)
 *   frame:  push {r4, lr}                              SP -= 8
 *           it eq; popeq {r4, pc}                     returns here when bit 0 of i is clear:
 *                                                     the block moves SP by 0 or -8
 *           sub.w sp, sp, #1024; str; bl leaf         SP -= 1024: a net change of -1032
 *   leaf:   push {r4, lr}; sub sp, #8                 SP -= 16
 *           ittt mi; submi sp, #16; strmi; addmi      bit 1 of i: 16 more, only then
 *           add sp, #8; pop {r4, pc}
 *
 * Stack peak: 8 + 1024 + 16 + 16 = 1064 bytes (i = 3 takes both conditions).
 * With -DSYSTICK the SysTick interrupt fires every 37 cycles and its handler moves SP too, so
 * exception entries and returns land between any two blocks of the loop.
 */
    .syntax unified
    .thumb

    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler
    .rept 13
    .word Default_Handler
    .endr
    .word SysTick_Handler

    .text
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
#ifdef SYSTICK
    ldr r0, =0xE000E010     /* SysTick: RVR = 37, CVR = 0, CSR = ENABLE | TICKINT | CLKSOURCE */
    movs r1, #37
    str r1, [r0, #4]
    movs r1, #0
    str r1, [r0, #8]
    movs r1, #7
    str r1, [r0]
#endif
    movs r5, #0
loop:
    mov r0, r5
    bl frame
    adds r5, #1
    cmp r5, #64
    bne loop
    movs r0, #0x20
    adr r1, exit_block
    bkpt 0xab
    .size Reset_Handler, . - Reset_Handler

    .type frame, %function
    .thumb_func
frame:
    push {r4, lr}
    lsls r1, r0, #31        /* Z: bit 0 clear */
    it eq
    popeq {r4, pc}
    sub.w sp, sp, #1024
    str r4, [sp]
    bl leaf
    add.w sp, sp, #1024
    pop {r4, pc}
    .size frame, . - frame

    .type leaf, %function
    .thumb_func
leaf:
    push {r4, lr}
    sub sp, #8
    lsls r1, r0, #30        /* N: bit 1 set */
    ittt mi
    submi sp, #16
    strmi r4, [sp]
    addmi sp, #16
    add sp, #8
    pop {r4, pc}
    .size leaf, . - leaf

    .type SysTick_Handler, %function
    .thumb_func
SysTick_Handler:
    push {r4, lr}
    sub sp, #32
    str r4, [sp]
    add sp, #32
    pop {r4, pc}
    .size SysTick_Handler, . - SysTick_Handler

    .type Default_Handler, %function
    .thumb_func
Default_Handler:
    b Default_Handler
    .size Default_Handler, . - Default_Handler

    .balign 4
exit_block:
    .word 0x20026
    .word 0
    .ltorg
