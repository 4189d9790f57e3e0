/* The C library's stdio on the semihosting console: formatted output (a float included),
 * stderr, a line read from stdin and the rest to its end of file, and the heap. Exits 3 so a test sees the status too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char line[64];
    printf("hello %d %s %.3f\n", 42, "x", 3.14159);
    puts("puts line");
    fputs("to stderr\n", stderr);
    if (fgets(line, sizeof line, stdin) != NULL)
        printf("read: %s", line);
    size_t rest = 0;
    while (getchar() != EOF) /* the end of the input is an end of file */
        rest++;
    printf("then %u bytes, EOF\n", (unsigned)rest);
    char *p = malloc(100);
    if (p == NULL)
        return 1;
    strcpy(p, "heap");
    printf("%s\n", p);
    free(p);
    return 3;
}
