/*
 * The STM32L0's CRC unit (RM0377 section 14) as STM32CubeL0's HAL_CRC drives it, on the
 * stm32l031 profile. CASE selects:
 *   crc32     the Ethernet CRC-32 (zlib's: REV_IN by byte, REV_OUT, the result inverted) of
 *             "123456789" fed a byte at a time, then the default CRC (no reversal) of the
 *             words 0x12345678 and 0x9ABCDEF0 (HAL_CRC_Calculate on a uint32_t buffer), then
 *             CRC-16/MODBUS (POLYSIZE 16, POL 0x8005, INIT 0xFFFF, reversed) of "123456789"
 *             by halfwords and a byte, each checked against the same CRC computed by the core
 *             bit by bit: prints the three and exits 0 when each agrees (else 1, 2 or 3).
 *   no_clock  the unit without its RCC clock (AHBENR.CRCEN): DR reads 0, writes change
 *             nothing.
 */
#include "cm.h"
#include "semihost.h"
#include "hex.h"

#define RCC_AHBENR REG(0x40021030u)
#define CRC_DR REG(0x40023000u)
#define CRC_DR8 (*(volatile uint8_t *)0x40023000u)
#define CRC_DR16 (*(volatile uint16_t *)0x40023000u)
#define CRC_CR REG(0x40023008u)
#define CRC_INIT REG(0x40023010u)
#define CRC_POL REG(0x40023014u)

/* The CRC of ``width`` bits after ``bits`` bits of ``data``, most significant first. */
static uint32_t feed(uint32_t crc, uint32_t data, int bits, uint32_t poly, int width)
{
    uint32_t mask = width == 32 ? 0xFFFFFFFFu : (1u << width) - 1u;
    for (int i = bits - 1; i >= 0; i--) {
        uint32_t feedback = ((crc >> (width - 1)) ^ (data >> i)) & 1u;
        crc = (crc << 1) & mask;
        if (feedback)
            crc ^= poly & mask;
    }
    return crc;
}

static uint32_t reverse(uint32_t v, int width)
{
    uint32_t r = 0;
    for (int i = 0; i < width; i++)
        r |= ((v >> i) & 1u) << (width - 1 - i);
    return r;
}

int main(void)
{
    static const uint8_t check[] = "123456789";
#if CASE_no_clock
    CRC_CR = 1u;
    CRC_DR = 0x12345678u;
    return CRC_DR == 0u ? 0 : 1;
#else
    RCC_AHBENR |= 1u << 12; /* CRCEN */
    int failed = 0;
    /* CRC-32 (zlib): by bytes, REV_IN by byte, REV_OUT */
    CRC_CR = (1u << 5) | (1u << 7) | 1u;
    uint32_t soft = 0xFFFFFFFFu;
    for (int i = 0; i < 9; i++) {
        CRC_DR8 = check[i];
        soft = feed(soft, reverse(check[i], 8), 8, 0x04C11DB7u, 32);
    }
    uint32_t hard = CRC_DR ^ 0xFFFFFFFFu;
    if (hard != (reverse(soft, 32) ^ 0xFFFFFFFFu))
        failed = failed ? failed : 1;
    put_hex("crc32 ", hard);
    /* the default: words, no reversal (HAL_CRC_Calculate, CRC_INPUTDATA_FORMAT_WORDS) */
    CRC_CR = 1u;
    CRC_DR = 0x12345678u;
    CRC_DR = 0x9ABCDEF0u;
    hard = CRC_DR;
    soft = feed(feed(0xFFFFFFFFu, 0x12345678u, 32, 0x04C11DB7u, 32), 0x9ABCDEF0u, 32,
                0x04C11DB7u, 32);
    if (hard != soft)
        failed = failed ? failed : 2;
    put_hex(" words ", hard);
    /* CRC-16/MODBUS by halfwords and a last byte: REV_IN by byte, REV_OUT */
    CRC_POL = 0x8005u;
    CRC_INIT = 0xFFFFu;
    CRC_CR = (1u << 3) | (1u << 5) | (1u << 7) | 1u;
    soft = 0xFFFFu;
    for (int i = 0; i < 8; i += 2) {
        CRC_DR16 = (uint16_t)(check[i] << 8 | check[i + 1]);
        soft = feed(soft, reverse(check[i], 8) << 8 | reverse(check[i + 1], 8), 16, 0x8005u, 16);
    }
    CRC_DR8 = check[8];
    soft = feed(soft, reverse(check[8], 8), 8, 0x8005u, 16);
    hard = CRC_DR & 0xFFFFu;
    if (hard != reverse(soft, 16))
        failed = failed ? failed : 3;
    put_hex(" modbus ", hard);
    sh_write0("\n");
    return failed;
#endif
}
