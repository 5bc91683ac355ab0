#!/usr/bin/env bash
# Cargo's rustc wrapper for this project (.cargo/config.toml): links the
# `pdmp` binary statically (glibc static-pie, so still with ASLR) on
# x86_64-unknown-linux-gnu. A short run such as `pdmp info` then skips the
# dynamic loader's work, mapping libc, libm and libgcc_s and resolving
# symbols against them: about 0.4 ms of a 2 ms run (bench/info.sh).
#
# Why a wrapper: `-C target-feature=+crt-static` in RUSTFLAGS or in a
# [target] table reaches the proc-macro crates too when cargo runs without
# --target, and rustc cannot build those statically; with --target (or
# build.target) the binaries would move out of target/release. So the flag
# goes to the linking rustc run of the `pdmp` binary alone; every other
# invocation (dependencies, build scripts, test harnesses, clippy, other
# targets) passes through unchanged. build.rs has cargo rebuild the package
# when this file or .cargo/config.toml changes.
#
# pdmp-runtime stays dynamic, like the Emacs it stands in for: static glibc
# brings .gnu.warning.* sections, which eu-strip keeps and writes after the
# dump `pdmp embed` appends, so stripping would no longer shrink an
# executable carrying a dump (tests/embed.rs).
#
# bash, not sh: dash drops environment variables whose names are not shell
# identifiers, such as CARGO_BIN_EXE_pdmp-runtime, which tests/ read.
#
# $1 is rustc (or a workspace wrapper followed by rustc); the rest are its
# arguments.
static=
if [ "$CARGO_PKG_NAME" = pdmp ] && [ "$CARGO_BIN_NAME" = pdmp ]; then
  target= link= prev=
  for arg in "$@"; do
    case "$prev" in --target) target=$arg ;; esac
    case "$arg" in
      --target=*) target=${arg#--target=} ;;
      --emit=*link*) link=1 ;;
    esac
    prev=$arg
  done
  if [ -n "$link" ] && [ -z "$target" ]; then
    target=$("$1" -vV | sed -n 's/^host: //p')
  fi
  if [ -n "$link" ] && [ "$target" = x86_64-unknown-linux-gnu ]; then
    static=1
  fi
fi
if [ -n "$static" ]; then
  exec "$@" -C target-feature=+crt-static
fi
exec "$@"
