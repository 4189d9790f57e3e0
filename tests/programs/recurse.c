/*
 * Known stack depth through the C runtime: main calls descend(DEPTH) (descend.S), which uses
 * exactly 32 bytes per level for DEPTH + 1 levels.
 */
#include "semihost.h"

#ifndef DEPTH
#define DEPTH 0
#endif

int descend(int n);

int main(void)
{
    return descend(DEPTH);
}
