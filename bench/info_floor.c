/* Floors for bench/info.sh: the least a program that reads an Emacs 28-30
 * dump through a memory map, as `pdmp info` does, can take here.
 *
 *   info_floor touch DUMP  maps DUMP and reads one byte of each page of the
 *                          header, hot and discardable regions and of the
 *                          tables: the pages `pdmp info` reads, and nothing
 *                          else.
 *   info_floor count DUMP  also counts what `pdmp info` counts, on one
 *                          thread: dump relocations by type and by region,
 *                          object starts by Lisp type, vectorlike objects by
 *                          pvec type (their headers read in one batch, so
 *                          that the misses overlap). Prints the totals
 *                          bench/info.sh checks against `pdmp info --json`.
 *
 * Header fields (Emacs 28-30 layout, little-endian): at 48 the three dump
 * relocation tables, at 72 the object starts, then the emacs relocations,
 * each an (offset, count) pair of int32; at 88 discardable_start, at 92
 * cold_start. Table entries are 32-bit: offset / 4 in the low 27 bits, type
 * in the top 5. Exit status 2 on a file this program cannot read. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

static const uint8_t *dump;
static uint64_t size;

static uint32_t field(uint64_t at) {
  uint32_t v;
  memcpy(&v, dump + at, 4);
  return v;
}

/* Table `index` (0-2: dump relocations, 3: object starts) as entries. */
static const uint32_t *table(int index, uint32_t *count) {
  uint64_t offset = field(48 + 8 * index), n = field(52 + 8 * index);
  if (offset % 4 || offset + 4 * n > size) {
    fprintf(stderr, "table %d out of the file\n", index);
    exit(2);
  }
  *count = n;
  return (const uint32_t *)(dump + offset);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: info_floor touch|count DUMP\n");
    return 2;
  }
  int fd = open(argv[2], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) || st.st_size < 100) {
    fprintf(stderr, "%s: cannot read a dump\n", argv[2]);
    return 2;
  }
  size = st.st_size;
  dump = mmap(0, size, PROT_READ, MAP_SHARED, fd, 0);
  if (dump == MAP_FAILED)
    return 2;
  uint64_t discardable = field(88), cold = field(92), tables = size;
  for (int i = 0; i < 4; i++)
    tables = field(48 + 8 * i) < tables ? field(48 + 8 * i) : tables;

  if (!strcmp(argv[1], "touch")) {
    unsigned sum = 0;
    for (uint64_t at = 0; at < cold && at < size; at += 4096)
      sum += dump[at];
    for (uint64_t at = tables & ~4095ull; at < size; at += 4096)
      sum += dump[at];
    return sum == 1; /* keeps the loads */
  }

  uint64_t by_type[32] = {0}, hot = 0, by_tag[32] = {0}, by_pvec[64] = {0};
  uint32_t n;
  for (int t = 0; t < 3; t++) {
    const uint32_t *entries = table(t, &n);
    for (uint32_t i = 0; i < n; i++) {
      uint64_t at = (uint64_t)(entries[i] & 0x7ffffff) * 4;
      by_type[entries[i] >> 27]++;
      hot += at < discardable;
    }
  }
  const uint32_t *starts = table(3, &n);
  uint32_t *vectors = malloc(4 * (uint64_t)n + 4), vector_count = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t tag = starts[i] >> 27;
    uint64_t at = (uint64_t)(starts[i] & 0x7ffffff) * 4;
    by_tag[tag]++;
    if (tag == 5 && at + 8 <= size)
      vectors[vector_count++] = at;
  }
  for (uint32_t i = 0; i < vector_count; i++) {
    uint64_t header;
    memcpy(&header, dump + vectors[i], 8);
    by_pvec[header >> 62 & 1 ? header >> 24 & 63 : 0]++;
  }
  uint64_t relocs = 0, objects = 0, pvec_kinds = 0;
  for (int i = 0; i < 32; i++)
    relocs += by_type[i], objects += by_tag[i];
  for (int i = 0; i < 64; i++)
    pvec_kinds += by_pvec[i] > 0;
  printf("relocations %llu hot %llu objects %llu vectorlike %llu pvec_types %llu\n",
         (unsigned long long)relocs, (unsigned long long)hot, (unsigned long long)objects,
         (unsigned long long)by_tag[5], (unsigned long long)pvec_kinds);
  return 0;
}
