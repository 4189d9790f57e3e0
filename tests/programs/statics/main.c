/* Static functions of one name in different files (a.c, b.c, regs.h's read_reg in both) and
 * functions GCC renames as it copies them at -O2 (norm.isra.0, scale.constprop.0): how the
 * profile names them and what a budget's function = "..." means (tests/test_profile.py,
 * tests/test_budgets.py). Exits with 0. */
struct pt {
    int x, y, z;
};

extern volatile int sink;
void run_a(void);
void run_b(void);

/* passed by value, one field read: GCC passes that field alone (norm.isra.0) */
static __attribute__((noinline)) int norm(struct pt p)
{
    int n = 0;
    for (int i = 0; i < 50; i++)
        n += p.x * p.x + sink;
    return n;
}

/* always called with k = 3: GCC folds it in (scale.constprop.0) */
static __attribute__((noinline)) int scale(int v, int k)
{
    for (int i = 0; i < 40; i++)
        v = v * k + sink;
    return v;
}

int main(void)
{
    struct pt p = {sink, sink + 1, sink + 2};
    run_a();
    run_b();
    sink += norm(p) + scale(sink, 3) + scale(sink + 1, 3);
    return 0;
}
