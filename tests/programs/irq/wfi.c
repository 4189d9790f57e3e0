/* WFI with nothing that can wake the core: a deadlock. */
int main(void)
{
    __asm__ volatile("cpsid i\n\twfi");
    return 0;
}
