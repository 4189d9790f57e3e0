/* Runs an Arduino sketch on the host with the stub core (Arduino.h): setup(), then loop()
 * until stdin is exhausted. */
#include <Arduino.h>

StubSerial Serial;
unsigned long micros() { return 0; }

void setup();
void loop();

int main()
{
    setup();
    while (!feof(stdin))
        loop();
    return 0;
}
