#!/usr/bin/env bash
# The AVX-512 builds of per-ISA sources (src/backend/cpu/isa.h) must define nothing
# the linker could merge with the AVX2 build's copy: every global or weak
# symbol they define lives in namespace radlads::isa_avx512 (else an inline
# std:: or fmt template compiled with AVX-512 flags could be picked for the
# whole program and fault on an AVX2-only CPU).
# usage: check_isa_objects.sh OBJECT...   (CTest passes the library's objects)
set -euo pipefail
checked=0
for o in "$@"; do
  case "$o" in */isa_avx512/*) ;; *) continue ;; esac
  checked=$((checked + 1))
  bad=$(nm -C --defined-only "$o" | awk '$2 ~ /^[TWVRDB]$/' | grep -v 'radlads::isa_avx512::' | grep -v 'DW.ref.__gxx_personality_v0' || true)
  if [ -n "$bad" ]; then
    echo "check_isa_objects: $o defines symbols outside radlads::isa_avx512:" >&2
    echo "$bad" >&2
    exit 1
  fi
done
[ "$checked" -gt 0 ] || { echo "check_isa_objects: no AVX-512 objects given" >&2; exit 1; }
echo "check_isa_objects: $checked AVX-512 objects define only isa_avx512 symbols"
