/*
 * ARM semihosting for M-profile (BKPT 0xAB): console, files, exit status.
 * The same calls work in ebnn-sim, in qemu-system-arm -semihosting and on a board with a
 * debug probe. Operation numbers from Arm's "Semihosting for AArch32 and AArch64" spec.
 */
#ifndef EBNN_SEMIHOST_H
#define EBNN_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

enum {
    SH_OPEN = 0x01, SH_CLOSE = 0x02, SH_WRITEC = 0x03, SH_WRITE0 = 0x04, SH_WRITE = 0x05,
    SH_READ = 0x06, SH_READC = 0x07, SH_FLEN = 0x0C, SH_REMOVE = 0x0E, SH_SYSTEM = 0x12,
    SH_EXIT = 0x18, SH_EXIT_EXTENDED = 0x20
};

/* Open modes (ISO C fopen order): 0 "r", 1 "rb", 4 "w", 5 "wb", 8 "a". */
enum { SH_MODE_R = 0, SH_MODE_RB = 1, SH_MODE_W = 4, SH_MODE_WB = 5, SH_MODE_A = 8 };

int sh_call(int op, void *arg);
void sh_write0(const char *s);
void sh_writec(char c);
/* Returns bytes written; -1 on error. */
int sh_write(int fd, const void *buf, size_t len);
/* Returns bytes read (0 at end of file); -1 on error. */
int sh_read(int fd, void *buf, size_t len);
/* Returns a handle, or -1 when the host refuses. ":tt" is the console. */
int sh_open(const char *name, int mode);
int sh_close(int fd);
int sh_system(const char *cmd);
/* Writes a decimal integer to the console. */
void sh_write_int(long v);
/* Ends the program with `status` (SYS_EXIT_EXTENDED). Never returns. */
void sh_exit(int status) __attribute__((noreturn));

/* Heap break kept by _sbrk; the simulator reads both to measure heap use. */
extern uint8_t *__heap_break;
extern uint8_t *__heap_peak;

#endif
