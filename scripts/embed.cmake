# embed.cmake: writes the file IN as a C array named NAME into OUT (NUL-terminated), so a page
# or other asset can be compiled into the binary. Run as cmake -DIN=... -DOUT=... -DNAME=...
# -DHEADER=... -P embed.cmake.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN} by scripts/embed.cmake: do not edit. */\n"
     "#include \"${HEADER}\"\n"
     "const unsigned char ${NAME}[] = {${bytes} 0};\n")
