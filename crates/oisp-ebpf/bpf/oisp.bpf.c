// SPDX-License-Identifier: Apache-2.0
/*
 * oisp-sensor's BPF object: one translation unit, so every program family shares one set of maps
 * and one skeleton. Each family lives in its own file; adding a TLS stack adds its
 * tls_<stack>.bpf.c here. No kprobes: this must run on kernels built without CONFIG_KPROBES.
 *
 *   common.bpf.h      kernel headers, filters, rings, loss counters, per-task helpers
 *   tls.bpf.h         TLS plaintext machinery shared by every stack (calls, sessions, copies)
 *   tls.bpf.c         socket syscalls that tie a TLS session to its socket
 *   tls_openssl.bpf.c OpenSSL's functions
 *   tls_gnutls.bpf.c  GnuTLS's functions
 *   tls_rustls.bpf.c  rustls's AEAD boundary (AWS-LC)
 *   tls_go.bpf.c      Go's crypto/tls
 *   tls_nss.bpf.c     NSS's SSL sockets, read at NSPR's PR_Write/PR_Read/PR_Send/PR_Recv
 *   proc.bpf.c        exec / exit / fork
 *   file.bpf.c        openat / write / rename / unlink
 *   net.bpf.c         connect
 *   sock_plain.bpf.c  plaintext HTTP on connected TCP sockets (exit halves, close)
 *   layout.bpf.h      the record layout anchor checked by src/wire.rs
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "tls.bpf.c"
#include "tls_openssl.bpf.c"
#include "tls_gnutls.bpf.c"
#include "tls_rustls.bpf.c"
#include "tls_go.bpf.c"
#include "tls_nss.bpf.c"
#include "proc.bpf.c"
#include "file.bpf.c"
#include "net.bpf.c"
#include "sock_plain.bpf.c"
#include "layout.bpf.h"
