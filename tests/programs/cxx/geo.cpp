// C++ functions in a namespace, a member function and an overload, built with
// arm-none-eabi-g++ and linked into cxx_main.c's firmware: how the profile names them and what a
// budget's function = "..." means (tests/test_profile.py).
namespace geo {
struct Rect {
    int w, h;
    __attribute__((noinline)) int area() const { return w * h; }
};

__attribute__((noinline)) int scale(int a)
{
    int v = a;
    for (int i = 0; i < 10; i++)
        v = v * 3 + i;
    return v;
}

__attribute__((noinline)) int scale(long a, int b) { return static_cast<int>(a) * b; }

__attribute__((noinline)) int total(const Rect *r, int n)
{
    int t = 0;
    for (int i = 0; i < n; i++)
        t += r[i].area();
    return t;
}
} // namespace geo

extern "C" int cxx_entry(int n)
{
    geo::Rect rects[3] = {{1, 2}, {3, n}, {n, 5}};
    int t = 0;
    for (int i = 0; i < 20; i++)
        t += geo::total(rects, 3);
    return (t + geo::scale(n) + geo::scale(5L, n)) & 0x7f;
}
