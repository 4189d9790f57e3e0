/*
 * A function whose calls differ in length: main calls work(1) .. work(CALLS), each looping
 * n times, or (ONCE) only work(CALLS). Its longest call is the last one, as long as the only
 * call of the ONCE build: what `ebnn-sim profile` reports as its most cycles per call.
 */
#include "semihost.h"

#ifndef CALLS
#define CALLS 10
#endif

volatile unsigned sink;

__attribute__((noinline)) void work(int n)
{
    for (int i = 0; i < n * 7; i++)
        sink += (unsigned)i;
}

int main(void)
{
#ifdef ONCE
    work(CALLS);
#else
    for (int n = 1; n <= CALLS; n++)
        work(n);
#endif
    return 0;
}
