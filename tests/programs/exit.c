/* main's return value becomes the exit status (start-up code: sh_exit(main())). */
#ifndef STATUS
#define STATUS 0
#endif

int main(void)
{
    return STATUS;
}
