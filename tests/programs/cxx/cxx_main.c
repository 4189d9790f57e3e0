/* Calls geo.cpp's C++ (tests/test_profile.py links its object in). Exits with 0. */
#include "semihost.h"

int cxx_entry(int n);
volatile int seed = 4;

int main(void)
{
    sh_write_int(cxx_entry(seed));
    sh_write0("\n");
    return 0;
}
