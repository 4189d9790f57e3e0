/* 4 KiB of constants in flash and 2 KiB of .bss: for the flash and SRAM fit checks. */
#include <stdint.h>

#define ROW 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
#define ROWS4 ROW, ROW, ROW, ROW
#define ROWS16 ROWS4, ROWS4, ROWS4, ROWS4
#define ROWS64 ROWS16, ROWS16, ROWS16, ROWS16

const uint8_t table[4096] = {ROWS64, ROWS64, ROWS64, ROWS64};
volatile uint8_t scratch[2048];

int main(void)
{
    uint32_t sum = 0;
    for (int i = 0; i < 4096; i++)
        sum += table[i] + scratch[i % 2048];
    return sum == 4096u / 16u * 120u ? 0 : 1;
}
