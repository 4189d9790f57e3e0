/* A firmware with an allocator of its own: the simulator cannot see its heap. */
#include <stddef.h>
#include <stdint.h>

static uint8_t pool[256];
static size_t used;

__attribute__((noinline, used)) void *malloc(size_t n)
{
    void *p = pool + used;
    used += n;
    return p;
}

int main(void)
{
    volatile uint8_t *p = malloc(16);
    p[0] = 1;
    return p[0] - 1;
}
