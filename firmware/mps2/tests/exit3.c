/* Exits with status 3 (the CLI must return the firmware's own status). */
#include "lib.h"
int main(void) { uart_init(); uart_puts("exiting with status 3\n"); return 3; }
