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

/* Set bits in each 4-bit lane of v (0..4 per lane): 6 instructions. */
EBNN_INLINE uint32_t ebnn_nibblecount(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555u);
    return (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
}

/* Sum of the four byte lanes: one USAD8 on cores with the DSP extension (M4, M7, M33); a
 * multiply when the sum cannot exceed 255 (`small`), four instructions otherwise. */
EBNN_INLINE uint32_t ebnn_hsum(uint32_t v, int small)
{
#if defined(__ARM_FEATURE_DSP)
    (void)small;
    uint32_t r;
    __asm__("usad8 %0, %1, %2" : "=r"(r) : "r"(v), "r"(0u));
    return r;
#else
    if (small)
        return (v * 0x01010101u) >> 24;
    v = (v & 0x00FF00FFu) + ((v >> 8) & 0x00FF00FFu);
    return (v + (v >> 16)) & 0xFFFFu;
#endif
}

/* popcount((a ^ w) & m) over n words; m may be NULL (all ones). Nibble counts of up to three
 * words are added before folding them into bytes (3 * 4 < 16), and byte lanes collect up to
 * 30 words (10 * 24 < 256) before one horizontal sum: about 9 instructions per word. */
EBNN_INLINE uint32_t ebnn_xor_popcount(const uint32_t *a, const uint32_t *w, const uint32_t *m,
                                       uint32_t n)
{
    uint32_t total = 0, i = 0;
    while (i < n) {
        uint32_t lanes = 0, end = (n - i > 30u) ? i + 30u : n;
        _Pragma("GCC unroll 10")
        for (; i < end; i += 3u) {
            uint32_t nib = ebnn_nibblecount(m ? (a[i] ^ w[i]) & m[i] : a[i] ^ w[i]);
            if (i + 1u < end)
                nib += ebnn_nibblecount(m ? (a[i + 1] ^ w[i + 1]) & m[i + 1] : a[i + 1] ^ w[i + 1]);
            if (i + 2u < end)
                nib += ebnn_nibblecount(m ? (a[i + 2] ^ w[i + 2]) & m[i + 2] : a[i + 2] ^ w[i + 2]);
            lanes += (nib & 0x0F0F0F0Fu) + ((nib >> 4) & 0x0F0F0F0Fu); /* nibbles <= 12 */
        }
        total += ebnn_hsum(lanes, n <= 7u);
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

#define EBNN_UNROLL _Pragma("GCC unroll 16")

/* The pooled bit of one filter from the accumulators of its pool windows, visited in order
 * with an early exit: dir +1 -> 1 at the first window with acc >= T; dir -1 -> 0 at the first
 * window with acc > T; dir 0 -> the constant T != 0. ACC(p) is evaluated lazily. */
#define EBNN_POOL_DECIDE(bit, NP, thr, dir, ACC)                                               \
    do {                                                                                       \
        if ((dir) == 0) {                                                                      \
            (bit) = (thr) != 0;                                                                \
        } else if ((dir) > 0) {                                                                \
            (bit) = 0;                                                                         \
            for (int p_ = 0; p_ < (NP); p_++)                                                  \
                if ((ACC(p_)) >= (thr)) {                                                      \
                    (bit) = 1;                                                                 \
                    break;                                                                     \
                }                                                                              \
        } else {                                                                               \
            (bit) = 1;                                                                         \
            for (int p_ = 0; p_ < (NP); p_++)                                                  \
                if ((ACC(p_)) > (thr)) {                                                       \
                    (bit) = 0;                                                                 \
                    break;                                                                     \
                }                                                                              \
        }                                                                                      \
    } while (0)

/* The first layer's taps of the window at (y0, x0) (top-left, may lie in the padding):
 * s[(ky * KW + kx) * C + c] = 2 * pixel - 255, or 0 where the window covers padding.
 * ~5 instructions per tap. The generated layer function combines them with the weights as
 * literal additions and subtractions (see ebnn/layers/first_conv.py). */
EBNN_INLINE void ebnn_first_taps(const uint8_t *in, int32_t *s, int H, int W, int C, int KH,
                                 int KW, int y0, int x0)
{
    int j = 0;
    EBNN_UNROLL
    for (int ky = 0; ky < KH; ky++) {
        int y = y0 + ky;
        EBNN_UNROLL
        for (int kx = 0; kx < KW; kx++) {
            int x = x0 + kx;
            if (y >= 0 && y < H && x >= 0 && x < W) {
                const uint8_t *pix = in + (y * W + x) * C;
                EBNN_UNROLL
                for (int c = 0; c < C; c++)
                    s[j++] = 2 * (int32_t)pix[c] - 255;
            } else {
                EBNN_UNROLL
                for (int c = 0; c < C; c++)
                    s[j++] = 0;
            }
        }
    }
}

/* Gathers the window at (y0, x0) (top-left, may lie in the padding) into win ([ky][kx][c]
 * bit order) with a mask of its valid bits; returns the number of valid bits. A kernel row is
 * one contiguous bit run in an HWC stream: ~20 instructions per 32 bits copied. Without
 * padding (P == 0, known at compile time) no bounds are checked and no mask is written. */
EBNN_INLINE uint32_t ebnn_gather(const uint32_t *in, int H, int W, int C, int KH, int KW, int P,
                                 int y0, int x0, uint32_t *win, uint32_t *mask, int NW)
{
    EBNN_UNROLL
    for (int i = 0; i < NW; i++) /* inline: a memset call would cost more than the loop */
        win[i] = 0;
    if (P == 0) {
        uint32_t n = (uint32_t)(KW * C);
        EBNN_UNROLL
        for (int ky = 0; ky < KH; ky++) {
            uint32_t src = (uint32_t)(((y0 + ky) * W + x0) * C), dst = (uint32_t)(ky * KW * C);
            for (uint32_t done = 0; done < n; done += 32u) {
                uint32_t k = n - done > 32u ? 32u : n - done;
                ebnn_or_bits(win, dst + done, ebnn_get_bits(in, src + done, k), k);
            }
        }
        return (uint32_t)(KH * KW * C);
    }
    EBNN_UNROLL
    for (int i = 0; i < NW; i++)
        mask[i] = 0;
    int kx0 = x0 < 0 ? -x0 : 0;
    int kx1 = x0 + KW > W ? W - x0 : KW;
    if (kx1 <= kx0)
        return 0;
    uint32_t n = (uint32_t)((kx1 - kx0) * C), valid = 0;
    EBNN_UNROLL
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
 * filter f as a [ky][kx][c] bit stream of NW words (zero above KH*KW*C bits). All POOL*POOL
 * windows of an output pixel are gathered first; each filter then visits them with an early
 * exit. Windows without padding skip the mask.
 * Cost per conv window: gather (~20 per 32 bits); per filter and visited window: ~11 per
 * word + 8. Scratch: win[POOL * POOL * NW], mask[POOL * POOL * NW], valid[POOL * POOL].
 */
EBNN_INLINE void ebnn_conv_bin(const uint32_t *in, uint32_t *out, const uint32_t *w,
                               const int32_t *thr, const int8_t *dir, int H, int W, int C, int KH,
                               int KW, int S, int P, int POOL, int PS, int HO, int WO, int F,
                               int NW, uint32_t *win, uint32_t *mask, int32_t *valid)
{
    const int NP = POOL * POOL;
    const int32_t K = KH * KW * C;
    ebnn_bitwriter bw = {out, 0, 0};
    for (int py = 0; py < HO; py++) {
        for (int px = 0; px < WO; px++) {
            for (int p = 0; p < NP; p++) {
                int y0 = (py * PS + p / POOL) * S - P, x0 = (px * PS + p % POOL) * S - P;
                valid[p] = (int32_t)ebnn_gather(in, H, W, C, KH, KW, P, y0, x0, win + p * NW,
                                                mask + p * NW, NW);
            }
            for (int f = 0; f < F; f++) {
                const uint32_t *wf = w + f * NW;
/* Without padding every window is whole: no mask, and K valid bits (known statically). */
#define EBNN_BIN_ACC(p)                                                                        \
    (P == 0 ? K - 2 * (int32_t)ebnn_xor_popcount(win + (p) * NW, wf, 0, (uint32_t)NW)          \
            : valid[p] - 2 * (int32_t)ebnn_xor_popcount(win + (p) * NW, wf,                    \
                                                        valid[p] == K ? 0 : mask + (p) * NW,   \
                                                        (uint32_t)NW))
                uint32_t bit;
                EBNN_POOL_DECIDE(bit, NP, thr[f], dir[f], EBNN_BIN_ACC);
#undef EBNN_BIN_ACC
                ebnn_put_bit(&bw, bit);
            }
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
