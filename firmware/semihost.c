/* Semihosting calls and the heap break (see semihost.h). */
#include "semihost.h"

#include <string.h>

int sh_call(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_write0(const char *s) { sh_call(SH_WRITE0, (void *)s); }

void sh_writec(char c) { sh_call(SH_WRITEC, &c); }

int sh_write(int fd, const void *buf, size_t len)
{
    uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    int left = sh_call(SH_WRITE, args);
    return left < 0 ? -1 : (int)len - left;
}

int sh_read(int fd, void *buf, size_t len)
{
    uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    int left = sh_call(SH_READ, args);
    return left < 0 ? -1 : (int)len - left;
}

int sh_open(const char *name, int mode)
{
    uint32_t args[3] = {(uint32_t)(uintptr_t)name, (uint32_t)mode, (uint32_t)strlen(name)};
    return sh_call(SH_OPEN, args);
}

int sh_close(int fd)
{
    uint32_t args[1] = {(uint32_t)fd};
    return sh_call(SH_CLOSE, args);
}

int sh_system(const char *cmd)
{
    uint32_t args[2] = {(uint32_t)(uintptr_t)cmd, (uint32_t)strlen(cmd)};
    return sh_call(SH_SYSTEM, args);
}

void sh_write_int(long v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10u);
        u /= 10u;
    } while (u);
    if (v < 0)
        *--p = '-';
    sh_write0(p);
}

void sh_exit(int status)
{
    /* ADP_Stopped_ApplicationExit with the status as subcode. */
    uint32_t args[2] = {0x20026u, (uint32_t)status};
    sh_call(SH_EXIT_EXTENDED, args);
    for (;;)
        sh_call(SH_EXIT, (void *)0x20026u);
}

/* ---- heap: a bump allocator under malloc, bounded by the stack pointer ---- */

extern uint8_t __heap_start[];
uint8_t *__heap_break = __heap_start;
uint8_t *__heap_peak = __heap_start;

void *_sbrk(ptrdiff_t incr)
{
    uint8_t *prev = __heap_break;
    uint8_t *next = prev + incr;
    uint8_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    if (next < __heap_start || next > sp - 64)
        return (void *)-1;
    __heap_break = next;
    if (next > __heap_peak)
        __heap_peak = next;
    return prev;
}

void *sbrk(ptrdiff_t incr) { return _sbrk(incr); }

#ifdef __PICOLIBC__
#include <stdio.h>

/* picolibc's stdin on the semihosting console: its own sys_semihost_getc keeps SYS_READC's
 * low 8 bits, so past the end of the input (SYS_READC returns -1) getchar returned 255 for
 * ever and a `while (fread(...))` loop never ended. This one (the linker takes it before
 * libsemihost's) gives stdio an end of file there. */
int sys_semihost_getc(FILE *file)
{
    (void)file;
    int c = sh_call(SH_READC, 0);
    return c < 0 ? _FDEV_EOF : (unsigned char)c;
}
#endif
