/* A computed SP write (`mov sp, rN`) below SRAM's start, into flash: a stack overflow caught
 * at that instruction, whose stack peak is the stack SRAM holds, never the distance to the
 * address SP was given. */
#include "semihost.h"

int main(void)
{
    __asm__ volatile("mov r1, sp\n\tmov sp, %0\n\tpush {r0}\n\tmov sp, r1" :: "r"(0x100)
                     : "r1", "memory");
    sh_write0("went on\n");
    return 0;
}
