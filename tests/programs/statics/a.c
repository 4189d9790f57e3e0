/* helper() here and in b.c: two static functions of one name (tests/test_profile.py). */
#include "regs.h"

volatile int sink;

static __attribute__((noinline, noipa)) void helper(int n)
{
    for (int i = 0; i < n; i++)
        sink += i;
}

void run_a(void)
{
    helper(100);
    sink += read_reg(1);
}
