/*
 * A host stand-in for the few Arduino APIs the sketch exported by `ebnn export-c --layout
 * arduino` uses (Serial, micros), so the tests compile the sketch with the host's g++ and run
 * it: Serial reads stdin and writes stdout. Not an Arduino core.
 */
#ifndef ARDUINO_STUB_H
#define ARDUINO_STUB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

class StubSerial {
  public:
    void begin(unsigned long) {}
    explicit operator bool() const { return true; }
    int available() { fill(); return have_ ? 1 : 0; }
    int read()
    {
        fill();
        if (!have_)
            return -1;
        have_ = false;
        return next_;
    }
    size_t print(const char *s) { return (size_t)printf("%s", s); }
    size_t print(char c) { return (size_t)printf("%c", c); }
    size_t print(int v) { return (size_t)printf("%d", v); }
    size_t print(long v) { return (size_t)printf("%ld", v); }
    size_t print(unsigned long v) { return (size_t)printf("%lu", v); }
    template <typename T> size_t println(T v) { return print(v) + print('\n'); }

  private:
    void fill()
    {
        if (!have_) {
            int c = getchar();
            if (c != EOF) {
                next_ = c;
                have_ = true;
            }
        }
    }
    int next_ = 0;
    bool have_ = false;
};

extern StubSerial Serial;
unsigned long micros();

#endif
