/* compressed: opens a capture file or standard input as a stream of capture bytes, whatever it
 * is stored as — plain, gzip, zstd or xz — recognised by its first bytes (not its name) and
 * decompressed while it is read, without a temporary file. The stream is a stdio FILE that
 * libpcap reads like any other; closing it releases the decoder (and never closes stdin). */
#ifndef SHAKEDOWN_COMPRESSED_H
#define SHAKEDOWN_COMPRESSED_H

#include <stddef.h>
#include <stdio.h>

enum compression { COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_ZSTD, COMPRESSION_XZ };

/* The compression whose magic bytes start head (len bytes of it). */
enum compression compression_of(const unsigned char *head, size_t len);

/* Opens path ("-": standard input) for reading capture bytes; NULL with the reason (errno's
 * text for a file that cannot be opened) in err. *how says what the input was stored as. */
FILE *compressed_open(const char *path, enum compression *how, char *err, size_t errlen);

#endif
