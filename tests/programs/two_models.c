/*
 * A user's program with two eBNN models linked in, each exported by `ebnn export-c` with its
 * own prefix (alpha, beta). Reads pairs of images from the console (an alpha image, then a
 * beta image) until the input ends and prints, per pair, each model's class and scores as
 * every entry point computes them:
 *     alpha_infer: k s0 s1 ...
 *     alpha_infer_with: k s0 s1 ...
 *     beta_infer: k s0 s1 ...
 *     beta_infer_with: k s0 s1 ...
 * With <PREFIX>_NO_STATIC_SCRATCH defined the _infer lines are left out.
 * On Cortex-M (the project's start-up code) the console is semihosting; on the host, stdio.
 * Exit status 0, or 2 on a truncated image.
 */
#include <stddef.h>
#include <stdint.h>

#include "alpha.h"
#include "beta.h"

#if defined(__arm__)
#include "semihost.h"
static int read_some(void *buf, size_t n) { return sh_read(0, buf, n); }
static void write_all(const char *s, size_t n) { sh_write(1, s, n); }
#else
#include <stdio.h>
static int read_some(void *buf, size_t n) { return (int)fread(buf, 1, n, stdin); }
static void write_all(const char *s, size_t n) { fwrite(s, 1, n, stdout); }
#endif

/* Reads exactly n bytes; returns the number read (less at the end of the input). */
static size_t read_image(uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        int r = read_some(buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_int(char *p, long v)
{
    char digits[12];
    int n = 0;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    do {
        digits[n++] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u);
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = digits[--n];
    return p;
}

static void report(const char *name, int cls, const int32_t *scores, int classes)
{
    static char line[32 + 12 * 64];
    char *p = put_str(line, name);
    p = put_str(p, ": ");
    p = put_int(p, (long)cls);
    for (int k = 0; k < classes; k++) {
        *p++ = ' ';
        p = put_int(p, (long)scores[k]);
    }
    *p++ = '\n';
    write_all(line, (size_t)(p - line));
}

static uint8_t image_a[ALPHA_INPUT_SIZE];
static uint8_t image_b[BETA_INPUT_SIZE];
static uint32_t scratch_a[ALPHA_SCRATCH_WORDS];
static uint32_t scratch_b[BETA_SCRATCH_WORDS];

int main(void)
{
    int32_t scores_a[ALPHA_CLASSES], scores_b[BETA_CLASSES];
    for (;;) {
        size_t got = read_image(image_a, sizeof image_a);
        if (got == 0)
            return 0;
        if (got < sizeof image_a || read_image(image_b, sizeof image_b) < sizeof image_b)
            return 2;
#ifndef ALPHA_NO_STATIC_SCRATCH
        report("alpha_infer", alpha_infer(image_a, scores_a), scores_a, ALPHA_CLASSES);
#endif
        report("alpha_infer_with", alpha_infer_with(image_a, scores_a, scratch_a), scores_a,
               ALPHA_CLASSES);
#ifndef BETA_NO_STATIC_SCRATCH
        report("beta_infer", beta_infer(image_b, scores_b), scores_b, BETA_CLASSES);
#endif
        report("beta_infer_with", beta_infer_with(image_b, scores_b, scratch_b), scores_b,
               BETA_CLASSES);
    }
}
