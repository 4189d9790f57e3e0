/* Faults whose address the message places: a store into a const table in flash (CASE 1), the
 * bit-band alias of SRAM on a part without one (2), the nRF52's FICR (3, not modelled), just
 * below SRAM's start (4: a stack run out of SRAM downwards). */
#include <stdint.h>
const uint32_t table[4] = {1, 2, 3, 4};
int main(void) {
#if CASE == 1
  *(volatile uint32_t *)&table[2] = 5;
#elif CASE == 2
  *(volatile uint32_t *)0x2200030cu = 1;
#elif CASE == 3
  (void)*(volatile uint32_t *)0x10000100u;
#else
  *(volatile uint32_t *)0x1ffffffcu = 1;
#endif
  return 0;
}
