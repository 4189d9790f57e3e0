@ A call that ends by jumping into the middle of another function (as libgcc's double
@ division branches into the multiplication's special cases): work_a counts to r0, then
@ `b b_mid`, a label inside func_b, whose `bx lr` returns for work_a. main (midjump_main.c)
@ calls work_a(2000) and func_b() once.
    .syntax unified
    .thumb
    .text
    .global work_a
    .type work_a, %function
    .thumb_func
work_a:
    movs r1, #0
1:  adds r1, #1
    cmp r1, r0
    bne 1b
    b b_mid
    .size work_a, .-work_a

    .global func_b
    .type func_b, %function
    .thumb_func
func_b:
    movs r1, #0
2:  adds r1, #1
    cmp r1, #10
    bne 2b
b_mid:
    bx lr
    .size func_b, .-func_b
