/*
 * Inference harness: reads images from the semihosting console (stdin), one
 * EBNN_INPUT_SIZE-byte uint8 HWC image after another, and prints for each
 *     scores: s0 s1 ... s(K-1)
 *     class: k
 * ("class: k (name)" when the model names its classes).
 * With no input at all it classifies the sample image embedded in the model, so the ELF runs
 * with no arguments (unless built with EBNN_HARNESS_NO_SAMPLE: then it exits 2). Exit status 0, or 2 on a short (truncated) image.
 *
 * `ebnn build` compiles it with the model's library exported with prefix ebnn (ebnn.h,
 * ebnn.c: the same C `ebnn export-c` ships), so it calls ebnn_infer like any user would, with
 * EBNN_IMAGE_IN_SCRATCH defined: the image is read into the library's static scratch
 * (EBNN_INPUT_BUFFER), whose activations overwrite it once the first layer has read it, so the
 * image takes no SRAM of its own.
 */
#include <stdint.h>
#include <string.h>

#include "ebnn.h"
#include "semihost.h"

#ifdef EBNN_HARNESS_STREAM
/* Streaming build (`ebnn build --stream`): each image is read row by row, as a sensor
 * delivers it, into a row buffer and fed to ebnn_stream_row; no image buffer at all. */
static ebnn_stream stream;
static uint8_t row[EBNN_ROW_SIZE];
#define TEXT ((char *)stream.buf)
#define TEXT_SIZE (4 * EBNN_STREAM_WORDS)
#else
#ifndef EBNN_IMAGE_IN_SCRATCH
#error "the harness reads images into the library's scratch: build with -DEBNN_IMAGE_IN_SCRATCH"
#endif
#define input EBNN_INPUT_BUFFER
#define TEXT ((char *)ebnn_work)
#define TEXT_SIZE EBNN_WORK_SIZE
#endif
static int32_t scores[EBNN_CLASSES];

/* Reads up to size bytes from the console into p; returns how many came. */
static uint32_t read_bytes(uint8_t *p, uint32_t size)
{
    uint32_t got = 0;
    while (got < size) {
        int n = sh_read(0, p + got, size - got);
        if (n <= 0)
            break;
        got += (uint32_t)n;
    }
    return got;
}

#ifdef EBNN_HARNESS_NO_SAMPLE
/* `ebnn build --no-sample`: the sample input is not linked (a long sequence's would fill
 * flash), so a run needs input. */
#define NO_SAMPLE_MESSAGE "error: no input; this firmware was built without its sample " \
                          "(--no-sample): give one with --input\n"
#endif

#ifdef EBNN_CLASS_NAMES
/* The model names its classes (ebnn.h, from the training data): the class line gives the name
 * too, "class: 2 (walk)". In flash. */
static const char *const class_names[EBNN_CLASSES] = EBNN_CLASS_NAMES;
#define EBNN_NAME_MAX (2 + 64 + 1) /* " (", a name (ebnn.h cuts them at 64), ")" */
#else
#define EBNN_NAME_MAX 0
#endif

/* The longest report: "scores:", K times " -2147483648", "\nclass: ", the class, its name,
 * "\n". */
#define EBNN_REPORT_MAX (7 + 12 * EBNN_CLASSES + 8 + 11 + EBNN_NAME_MAX + 1)

#if TEXT_SIZE >= EBNN_REPORT_MAX
static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_int(char *p, long v)
{
    char digits[10];
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
#endif

/* noinline and global: verification marks the end of an inference at its entry. */
void ebnn_report(int cls) __attribute__((noinline));

void ebnn_report(int cls)
{
#if TEXT_SIZE >= EBNN_REPORT_MAX
    /* The scratch is no longer needed, so it holds the text: one console call per image (each
     * costs the host far more than the inference's instructions on small models) and not a
     * byte of extra SRAM. */
    char *line = TEXT;
    char *p = put_str(line, "scores:");
    for (int k = 0; k < EBNN_CLASSES; k++) {
        *p++ = ' ';
        p = put_int(p, (long)scores[k]);
    }
    p = put_str(p, "\nclass: ");
    p = put_int(p, (long)cls);
#ifdef EBNN_CLASS_NAMES
    p = put_str(p, " (");
    p = put_str(p, class_names[cls]);
    *p++ = ')';
#endif
    *p++ = '\n';
    sh_write(1, line, (size_t)(p - line));
#else
    sh_write0("scores:");
    for (int k = 0; k < EBNN_CLASSES; k++) {
        sh_writec(' ');
        sh_write_int((long)scores[k]);
    }
    sh_write0("\nclass: ");
    sh_write_int((long)cls);
#ifdef EBNN_CLASS_NAMES
    sh_write0(" (");
    sh_write0(class_names[cls]);
    sh_write0(")");
#endif
    sh_write0("\n");
#endif
}

#ifdef EBNN_HARNESS_STREAM
/* One image row by row (from the console, or from the sample when none came at all): the
 * class, -2 on a truncated image, -1 when the console had no more images. */
static int stream_image(void)
{
    ebnn_stream_begin(&stream);
    int cls = -1;
    for (uint32_t y = 0; y < EBNN_STREAM_ROWS; y++) {
        uint32_t got = read_bytes(row, EBNN_ROW_SIZE);
        if (got == 0 && y == 0)
            return -1;
        if (got < EBNN_ROW_SIZE)
            return -2;
        cls = ebnn_stream_row(&stream, row, scores);
    }
    return cls;
}

int main(void)
{
    for (uint32_t count = 0;; count++) {
        int cls = stream_image();
        if (cls == -2) {
            sh_write0("error: truncated input image\n");
            return 2;
        }
        if (cls == -1) {
            if (count > 0)
                return 0;
#ifdef EBNN_HARNESS_NO_SAMPLE
            sh_write0(NO_SAMPLE_MESSAGE);
            return 2;
#else
            ebnn_stream_begin(&stream); /* no input: the sample, row by row */
            for (uint32_t y = 0; y < EBNN_STREAM_ROWS; y++)
                cls = ebnn_stream_row(&stream, ebnn_sample + y * EBNN_ROW_SIZE, scores);
            ebnn_report(cls);
            return 0;
#endif
        }
        ebnn_report(cls);
    }
}
#else
int main(void)
{
    for (uint32_t count = 0;; count++) {
        uint32_t got = read_bytes(input, EBNN_INPUT_SIZE);
        if (got == 0) {
            if (count > 0)
                return 0;
#ifdef EBNN_HARNESS_NO_SAMPLE
            sh_write0(NO_SAMPLE_MESSAGE);
            return 2;
#else
            memcpy(input, ebnn_sample, EBNN_INPUT_SIZE);
#endif
        } else if (got < EBNN_INPUT_SIZE) {
            sh_write0("error: truncated input image\n");
            return 2;
        }
        ebnn_report(ebnn_infer(input, scores));
        if (got == 0)
            return 0;
    }
}
#endif
