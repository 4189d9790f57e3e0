/* Faults whose address the message places: a store into a const table in flash (CASE 1), the
 * bit-band alias of SRAM on a part without one (2), the nRF52's FICR (3, not modelled). */
#include <stdint.h>
const uint32_t table[4] = {1, 2, 3, 4};
int main(void) {
#if CASE == 1
  *(volatile uint32_t *)&table[2] = 5;
#elif CASE == 2
  *(volatile uint32_t *)0x2200030cu = 1;
#else
  (void)*(volatile uint32_t *)0x10000100u;
#endif
  return 0;
}
