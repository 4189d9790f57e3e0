/* helper() here and in a.c: two static functions of one name; this one runs 1,010 times
 * over two calls, a.c's 100 times in one. */
#include "regs.h"

static __attribute__((noinline, noipa)) void helper(int n)
{
    for (int i = 0; i < n; i++)
        sink ^= i * 3;
}

void run_b(void)
{
    helper(1000);
    helper(10);
    sink += read_reg(2) + read_reg(3);
}
