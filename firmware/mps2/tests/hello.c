/* Prints a greeting and exits with status 0. */
#include "lib.h"
int main(void) { uart_init(); uart_puts("Hello from mps2-an385\n"); return 0; }
