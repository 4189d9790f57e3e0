/* A state machine of tail calls: s1 -> s2 -> s3 -> s1 ..., each state a `b.w` to the next at
 * -O2, 30 states a chain, 5 chains: each state is entered 50 times (tests/test_profile.py).
 * Exits with 0. */
volatile int acc;

int s1(int n);
int s2(int n);
int s3(int n);

__attribute__((noinline)) int s1(int n)
{
    acc += 1;
    if (n == 0)
        return acc;
    return s2(n - 1);
}

__attribute__((noinline)) int s2(int n)
{
    acc += 2;
    if (n == 0)
        return acc;
    return s3(n - 1);
}

__attribute__((noinline)) int s3(int n)
{
    acc ^= 3;
    if (n == 0)
        return acc;
    return s1(n - 1);
}

int main(void)
{
    int r = 0;
    for (int k = 0; k < 5; k++)
        r += s1(29);
    return r & 0;
}
