/* A static function in a header: each file that includes it has a copy of its own. */
extern volatile int sink;

static __attribute__((noinline, noipa)) int read_reg(int r)
{
    int v = 0;
    for (int i = 0; i < r * 20; i++)
        v += sink;
    return v;
}
