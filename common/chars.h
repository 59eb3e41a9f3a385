/*
 * chars.h - the value of a digit in the encodings that several parsers
 * read: hexadecimal (percent-encoding, quoted-printable, DKIM's
 * dkim-quoted-printable, our own escapes) and base64 (RFC 4648 section
 * 4, the alphabet of MIME and DKIM).
 */
#ifndef DM_COMMON_CHARS_H
#define DM_COMMON_CHARS_H

/* 0-15 for a hexadecimal digit of either case, else -1. */
int	 char_hex_value(int c);

/* 0-63 for a character of the base64 alphabet, else -1 ('=' too). */
int	 char_base64_value(int c);

#endif
