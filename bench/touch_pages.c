/* The floor of any tool that reads two whole dumps: map each file and read
   one byte of every 4 KiB page, nothing else. bench/diff.sh runs it beside
   `pdmp diff` and `cmp`. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      perror(argv[i]);
      return 2;
    }
    /* volatile: every page is really read. */
    const volatile unsigned char *p = mmap(0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      perror(argv[i]);
      return 2;
    }
    for (off_t at = 0; at < st.st_size; at += 4096) (void)p[at];
  }
  return 0;
}
