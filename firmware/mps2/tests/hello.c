#include "lib.h"
int main(void) { uart_init(); puts_("Hello from mps2-an385\n"); return 0; }
