/* The smallest useful firmware: one line on the semihosting console, exit status 0. */
#include "semihost.h"

int main(void)
{
    sh_write0("hello, world\n");
    return 0;
}
