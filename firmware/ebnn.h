/*
 * eBNN kernels: integer-only inference on bit-packed activations.
 *
 * Bit streams are arrays of uint32_t; bit i lives in word i / 32 at position i % 32.
 * Activations are stored HWC: the bit of channel c at pixel (y, x) is (y * W + x) * C + c.
 * Every block is fused conv -> max-pool -> threshold (BN + sign folded at export):
 *   bit = acc >= T (dir +1), acc <= T (dir -1), or the constant T != 0 (dir 0).
 * Max-pool never materialises the conv output: the pool windows of one output pixel are
 * visited in turn and each filter stops as soon as its bit is decided (dir +1: the first window
 * reaching T; dir -1: the first window above T).
 *
 * The generated model.c calls these with compile-time constant dimensions; they are
 * always_inline so the compiler specialises every loop. No floats, no heap.
 * Costs below count Cortex-M3 instructions and are per output bit unless stated.
 */
#ifndef EBNN_H
#define EBNN_H

#include <stdint.h>
#include <string.h>

#define EBNN_INLINE static inline __attribute__((always_inline))

/* Set bits in each byte lane of v (0..8 per lane): 7 instructions (Thumb-2 shifted operands). */
EBNN_INLINE uint32_t ebnn_bytecount(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    return (v + (v >> 4)) & 0x0F0F0F0Fu;
}

/* Sum of the four byte lanes: one USAD8 on cores with the DSP extension (M4, M7, M33),
 * four instructions elsewhere. */
EBNN_INLINE uint32_t ebnn_hsum(uint32_t v)
{
#if defined(__ARM_FEATURE_DSP)
    uint32_t r;
    __asm__("usad8 %0, %1, %2" : "=r"(r) : "r"(v), "r"(0u));
    return r;
#else
    v = (v & 0x00FF00FFu) + ((v >> 8) & 0x00FF00FFu);
    return (v + (v >> 16)) & 0xFFFFu;
#endif
}

/* popcount((a ^ w) & m) over n words; m may be NULL (all ones). Byte lanes accumulate up to
 * 31 words (31 * 8 < 256) before one horizontal sum: about 10 instructions per word. */
EBNN_INLINE uint32_t ebnn_xor_popcount(const uint32_t *a, const uint32_t *w, const uint32_t *m,
                                       uint32_t n)
{
    uint32_t total = 0, i = 0;
    while (i < n) {
        uint32_t lanes = 0, end = (n - i > 31u) ? i + 31u : n;
        for (; i < end; i++)
            lanes += ebnn_bytecount(m ? (a[i] ^ w[i]) & m[i] : a[i] ^ w[i]);
        total += ebnn_hsum(lanes);
    }
    return total;
}

/* n (1..32) bits of stream s starting at bit pos. Reads the next word only when needed. */
EBNN_INLINE uint32_t ebnn_get_bits(const uint32_t *s, uint32_t pos, uint32_t n)
{
    uint32_t w = pos >> 5, o = pos & 31u;
    uint32_t v = s[w] >> o;
    if (o + n > 32u)
        v |= s[w + 1] << (32u - o);
    return n == 32u ? v : v & ((1u << n) - 1u);
}

/* ORs the n low bits of v into stream d at bit pos. */
EBNN_INLINE void ebnn_or_bits(uint32_t *d, uint32_t pos, uint32_t v, uint32_t n)
{
    uint32_t w = pos >> 5, o = pos & 31u;
    d[w] |= v << o;
    if (o + n > 32u)
        d[w + 1] |= v >> (32u - o);
}

/* Writes output bits in stream order; the last partial word is zero above its last bit. */
typedef struct {
    uint32_t *p;
    uint32_t word;
    uint32_t n;
} ebnn_bitwriter;

EBNN_INLINE void ebnn_put_bit(ebnn_bitwriter *bw, uint32_t bit)
{
    bw->word |= bit << bw->n;
    if (++bw->n == 32u) {
        *bw->p++ = bw->word;
        bw->word = 0;
        bw->n = 0;
    }
}

EBNN_INLINE void ebnn_flush(ebnn_bitwriter *bw)
{
    if (bw->n)
        *bw->p = bw->word;
}

/* Per-filter pooling state: bit 0 decided, bit 1 value. */
#define EBNN_DECIDED 1u
#define EBNN_ONE 3u

EBNN_INLINE void ebnn_pool_update(uint8_t *state, int32_t acc, int32_t thr, int8_t dir)
{
    if (dir > 0) {
        if (acc >= thr)
            *state = EBNN_ONE;
    } else if (acc > thr) {
        *state = EBNN_DECIDED; /* max > T: the bit is 0 */
    }
}

EBNN_INLINE uint32_t ebnn_pool_bit(uint8_t state, int32_t thr, int8_t dir)
{
    if (dir == 0)
        return thr != 0;
    if (state & EBNN_DECIDED)
        return state >> 1;
    return dir < 0; /* no window reached T (dir +1), or none exceeded it (dir -1) */
}

/*
 * First layer: uint8 pixels, binary weights. acc = sum over valid taps of w * (2x - 255).
 * Taps of a window ([ky][kx][c] order) are split into G chunks of CH taps; for each chunk a
 * table of all 2^CH signed sums is built once per window (2^CH - 1 adds) and each filter adds
 * G table entries chosen by its weight pattern pat[f * G + g]. Padded taps are 0.
 * Cost per conv window: ~6 per tap + ~2 per table entry; per filter and window: ~4 * G + 4.
 * Scratch: taps[G * CH], tab[G << CH], state[F].
 */
EBNN_INLINE void ebnn_conv_first(const uint8_t *in, uint32_t *out, const uint8_t *pat,
                                 const int32_t *thr, const int8_t *dir, int H, int W, int C,
                                 int KH, int KW, int S, int P, int POOL, int PS, int HO, int WO,
                                 int F, int CH, int G, int16_t *taps, int16_t *tab, uint8_t *state)
{
    ebnn_bitwriter bw = {out, 0, 0};
    for (int py = 0; py < HO; py++) {
        for (int px = 0; px < WO; px++) {
            memset(state, 0, (size_t)F);
            for (int wy = 0; wy < POOL; wy++) {
                for (int wx = 0; wx < POOL; wx++) {
                    int y0 = (py * PS + wy) * S - P, x0 = (px * PS + wx) * S - P;
                    int j = 0;
                    for (int ky = 0; ky < KH; ky++) {
                        int y = y0 + ky;
                        for (int kx = 0; kx < KW; kx++) {
                            int x = x0 + kx;
                            if (y >= 0 && y < H && x >= 0 && x < W) {
                                const uint8_t *pix = in + (y * W + x) * C;
                                for (int c = 0; c < C; c++)
                                    taps[j++] = (int16_t)(2 * pix[c] - 255);
                            } else {
                                for (int c = 0; c < C; c++)
                                    taps[j++] = 0;
                            }
                        }
                    }
                    for (; j < G * CH; j++)
                        taps[j] = 0;
                    for (int g = 0; g < G; g++) {
                        int16_t *t = tab + (g << CH);
                        const int16_t *s = taps + g * CH;
                        int16_t sum = 0;
                        for (int k = 0; k < CH; k++)
                            sum = (int16_t)(sum + s[k]);
                        t[0] = (int16_t)-sum;
                        for (int k = 0; k < CH; k++) {
                            int b = 1 << k;
                            int16_t d = (int16_t)(2 * s[k]);
                            for (int p = 0; p < b; p++)
                                t[p | b] = (int16_t)(t[p] + d);
                        }
                    }
                    for (int f = 0; f < F; f++) {
                        if (state[f] & EBNN_DECIDED || dir[f] == 0)
                            continue;
                        const uint8_t *pf = pat + f * G;
                        int32_t acc = 0;
                        for (int g = 0; g < G; g++)
                            acc += tab[(g << CH) + pf[g]];
                        ebnn_pool_update(&state[f], acc, thr[f], dir[f]);
                    }
                }
            }
            for (int f = 0; f < F; f++)
                ebnn_put_bit(&bw, ebnn_pool_bit(state[f], thr[f], dir[f]));
        }
    }
    ebnn_flush(&bw);
}

/* Gathers the window of conv output (oy, ox) into win ([ky][kx][c] bit order) with a mask of
 * its valid (non-padded) bits; returns the number of valid bits. One bit-run copy per kernel
 * row (a row of the window is contiguous in an HWC stream): ~20 instructions per 32 bits. */
EBNN_INLINE uint32_t ebnn_gather(const uint32_t *in, int H, int W, int C, int KH, int KW,
                                 int y0, int x0, uint32_t *win, uint32_t *mask, int NW)
{
    memset(win, 0, (size_t)NW * 4u);
    memset(mask, 0, (size_t)NW * 4u);
    int kx0 = x0 < 0 ? -x0 : 0;
    int kx1 = x0 + KW > W ? W - x0 : KW;
    if (kx1 <= kx0)
        return 0;
    uint32_t n = (uint32_t)((kx1 - kx0) * C), valid = 0;
    for (int ky = 0; ky < KH; ky++) {
        int y = y0 + ky;
        if (y < 0 || y >= H)
            continue;
        uint32_t src = (uint32_t)((y * W + x0 + kx0) * C);
        uint32_t dst = (uint32_t)((ky * KW + kx0) * C);
        for (uint32_t done = 0; done < n; done += 32u) {
            uint32_t k = n - done > 32u ? 32u : n - done;
            ebnn_or_bits(win, dst + done, ebnn_get_bits(in, src + done, k), k);
            ebnn_or_bits(mask, dst + done, k == 32u ? 0xFFFFFFFFu : (1u << k) - 1u, k);
        }
        valid += n;
    }
    return valid;
}

/*
 * Hidden binary conv: acc = K_valid - 2 * popcount((window ^ w_f) & valid_mask), where w_f is
 * filter f as a [ky][kx][c] bit stream of NW words (zero above KH*KW*C bits).
 * Cost per conv window: gather (~20 per 32 bits); per filter and window: ~10 per word + 8.
 * Scratch: win[NW], mask[NW], state[F].
 */
EBNN_INLINE void ebnn_conv_bin(const uint32_t *in, uint32_t *out, const uint32_t *w,
                               const int32_t *thr, const int8_t *dir, int H, int W, int C, int KH,
                               int KW, int S, int P, int POOL, int PS, int HO, int WO, int F,
                               int NW, uint32_t *win, uint32_t *mask, uint8_t *state)
{
    ebnn_bitwriter bw = {out, 0, 0};
    for (int py = 0; py < HO; py++) {
        for (int px = 0; px < WO; px++) {
            memset(state, 0, (size_t)F);
            for (int wy = 0; wy < POOL; wy++) {
                for (int wx = 0; wx < POOL; wx++) {
                    int y0 = (py * PS + wy) * S - P, x0 = (px * PS + wx) * S - P;
                    int32_t valid = (int32_t)ebnn_gather(in, H, W, C, KH, KW, y0, x0, win, mask,
                                                         NW);
                    for (int f = 0; f < F; f++) {
                        if (state[f] & EBNN_DECIDED || dir[f] == 0)
                            continue;
                        uint32_t pc = ebnn_xor_popcount(win, w + f * NW, mask, (uint32_t)NW);
                        ebnn_pool_update(&state[f], valid - 2 * (int32_t)pc, thr[f], dir[f]);
                    }
                }
            }
            for (int f = 0; f < F; f++)
                ebnn_put_bit(&bw, ebnn_pool_bit(state[f], thr[f], dir[f]));
        }
    }
    ebnn_flush(&bw);
}

/* Hidden binary linear: acc = N - 2 * popcount(in ^ w_u); the input's bits above N are zero,
 * as are the weights'. Cost per output: ~10 per input word + 8. */
EBNN_INLINE void ebnn_linear_bin(const uint32_t *in, uint32_t *out, const uint32_t *w,
                                 const int32_t *thr, const int8_t *dir, int N, int U, int NW)
{
    ebnn_bitwriter bw = {out, 0, 0};
    for (int u = 0; u < U; u++) {
        int32_t acc = N - 2 * (int32_t)ebnn_xor_popcount(in, w + u * NW, 0, (uint32_t)NW);
        uint32_t bit = dir[u] > 0 ? acc >= thr[u] : dir[u] < 0 ? acc <= thr[u] : thr[u] != 0;
        ebnn_put_bit(&bw, bit);
    }
    ebnn_flush(&bw);
}

/* Output layer: score = scale * (N - 2 * popcount(in ^ w_k)) + offset, int32.
 * Returns the class: argmax, lowest index on ties. Cost per class: ~10 per input word + 10. */
EBNN_INLINE int ebnn_output(const uint32_t *in, int32_t *scores, const uint32_t *w,
                            const int32_t *scale, const int32_t *offset, int N, int K, int NW)
{
    int best = 0;
    for (int k = 0; k < K; k++) {
        int32_t dot = N - 2 * (int32_t)ebnn_xor_popcount(in, w + k * NW, 0, (uint32_t)NW);
        scores[k] = scale[k] * dot + offset[k];
        if (scores[k] > scores[best])
            best = k;
    }
    return best;
}

#endif
