/* See midjump.S: work_a's call ends in func_b's middle. */
void work_a(int n);
void func_b(void);

int main(void)
{
    work_a(2000);
    func_b();
    return 0;
}
