/*
 * int descend(int n): recurses n times; every level uses exactly 32 bytes of stack
 * (push {r4, lr} = 8, sub sp, #24 = 24). Returns 0. Uses only v6-M instructions.
 */
    .syntax unified
    .thumb
    .text
    .global descend
    .type descend, %function
    .thumb_func
descend:
    push {r4, lr}
    sub sp, #24
    str r0, [sp]
    cmp r0, #0
    beq 1f
    subs r0, #1
    bl descend
1:
    movs r0, #0
    add sp, #24
    pop {r4, pc}
    .size descend, . - descend
