/*
 * Semihosting console and files, one operation per build (-DOP=...). Each prints what the
 * host answered, so the tests check the firmware's view as well as the host's.
 */
#include <stdint.h>
#include <string.h>

#include "semihost.h"

#define OP_WRITEC 1
#define OP_WRITE 2
#define OP_READ_FILE 3
#define OP_STDIN 4
#define OP_OPEN_UNLISTED 5
#define OP_SYSTEM 6
#define OP_WRITE_FILE 7
#define OP_NO_NEWLINE 8
#define OP_BAD_POINTER 9
#define OP_MARKUP 10
#define OP_WRITE_MISSING_DIR 11
#define OP_HUGE_WRITE 12
#define OP_LONG_WRITE0 13

static void say(const char *label, long value)
{
    sh_write0(label);
    sh_write_int(value);
    sh_write0("\n");
}

int main(void)
{
#if OP == OP_WRITEC
    sh_writec('o');
    sh_writec('k');
    sh_writec('\n');
#elif OP == OP_WRITE
    say("wrote ", sh_write(1, "abc\n", 4));
#elif OP == OP_READ_FILE
    char buf[64];
    int fd = sh_open("data.txt", SH_MODE_RB);
    if (fd < 0)
        return 1;
    int n = sh_read(fd, buf, sizeof buf);
    sh_write0("read: ");
    sh_write(1, buf, (size_t)n);
    say("bytes ", n);
    say("close ", sh_close(fd));
#elif OP == OP_STDIN
    char buf[16];
    int n = sh_read(0, buf, sizeof buf);
    sh_write0("stdin: ");
    sh_write(1, buf, (size_t)n);
    say("bytes ", n);
#elif OP == OP_OPEN_UNLISTED
    say("open ", sh_open("secret.txt", SH_MODE_R));
#elif OP == OP_SYSTEM
    say("system ", sh_system("touch ebnn-sim-marker"));
#elif OP == OP_WRITE_FILE
    static const char text[] = "written by firmware\n";
    int fd = sh_open("out.txt", SH_MODE_W);
    say("open out.txt ", fd);
    if (fd >= 0) {
        say("write ", sh_write(fd, text, sizeof text - 1));
        say("close ", sh_close(fd));
    }
    say("open ../escape.txt ", sh_open("../escape.txt", SH_MODE_W));
#elif OP == OP_NO_NEWLINE
    sh_write0("no newline");
#elif OP == OP_BAD_POINTER
    sh_write0("before\n");
    sh_write0((const char *)0x30000000u); /* the host cannot read the string: a fault */
    sh_write0("after\n");
#elif OP == OP_MARKUP
    /* Names that look like console markup: the host must print them verbatim. */
    say("open ", sh_open("[/]", SH_MODE_R));
    say("system ", sh_system("[bold]x[/bold] [/]"));
#elif OP == OP_WRITE_MISSING_DIR
    /* Inside --output-dir, but in a directory that does not exist: the host cannot create it. */
    say("open ", sh_open("no-such-dir/out.txt", SH_MODE_W));
#elif OP == OP_HUGE_WRITE
    /* A length gone negative (a typical C bug): 0xFFFFFFFF bytes from a valid pointer. */
    sh_write0("before\n");
    say("wrote ", sh_write(1, "abc", (size_t)-1));
#elif OP == OP_LONG_WRITE0
    /* One string of 10,000 characters: SYS_WRITE0 has no length limit. */
    static char text[10001];
    for (int i = 0; i < 10000; i++)
        text[i] = (char)('a' + i % 26);
    sh_write0(text);
    sh_write0("|end\n");
#else
#error "define OP"
#endif
    return 0;
}
