/* Single-precision arithmetic: FPU instructions on hard-float targets, library calls elsewhere. */
#include "semihost.h"

volatile float a = 1.5f, b = 0.25f;

int main(void)
{
    float y = a * a + b; /* 2.5 */
    float z = y / b;     /* 10 */
    sh_write0("z*1000 = ");
    sh_write_int((long)(z * 1000.0f));
    sh_write0("\n");
    return z == 10.0f ? 0 : 1;
}
