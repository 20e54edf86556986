/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plaintext HTTP on TCP sockets a process connected itself — local model servers (Ollama on
 * :11434, vLLM, llama.cpp, LM Studio) and OpenAI-compatible APIs on any port — read at the socket
 * syscalls and copied like a TLS stack's plaintext (same records, origin OISP_ORIGIN_SOCKET), so
 * the decoder treats both alike.
 *
 * A socket enters `plain_socks` when connect(2) on a TCP inet socket succeeds (or is in progress).
 * Its first write decides: an HTTP request line (or the HTTP/2 prior-knowledge preface) makes it
 * copied from then on, both ways; anything else (a TLS ClientHello, a database protocol) makes it
 * ignored for good — but a TLS ClientHello is copied first (up to PLAIN_HELLO_MAX bytes, origin
 * OISP_ORIGIN_HELLO, after the socket's addresses), so that userspace learns the server name of
 * every TLS connection, hooked stack or not. After its ClientHello a TLS socket stays followed
 * for its metadata only (state PLAIN_FLOW, when `flow_enabled`): every read/write that moves
 * bytes is one small struct oisp_flow record (length, direction, time; no content), and close(2)
 * one more — what userspace estimates AI calls from when no hooked stack reads the content.
 * A UDP socket connected to port 53 (a stub resolver's) has what it reads copied (state
 * PLAIN_DNS, origin OISP_ORIGIN_DNS): the answers that map names to the addresses connected to.
 * Userspace ends that (the state becomes PLAIN_OTHER, a map update) as soon as it knows the
 * socket is of no interest: its server name is not an AI provider's, or a hooked TLS stack reads
 * its content. Accepted sockets are never entered: a local server's view of an exchange is
 * not reported, as for TLS. close(2) ends the session. The session key is the kernel's struct
 * sock address, which no TLS stack's user-space keys can equal.
 *
 * The enter half of each socket syscall (tls.bpf.c, file.bpf.c own those tracepoints) keeps the
 * call's buffer for the exit half (sock_plain.bpf.c), which copies what the kernel moved.
 */
#ifndef OISP_SOCK_PLAIN_BPF_H
#define OISP_SOCK_PLAIN_BPF_H

#include "tls.bpf.h"

/* Set by userspace before load: follow plaintext sockets at all. */
const volatile __u8 plain_enabled = 1;
/* Set by userspace before load: follow TLS sockets' activity after their ClientHello. */
const volatile __u8 flow_enabled = 1;

#define PLAIN_NEW 0   /* connected, nothing written yet */
#define PLAIN_HTTP 1  /* carries HTTP: copied */
#define PLAIN_OTHER 2 /* carries something else (TLS, …): ignored */
#define PLAIN_FLOW 3  /* TLS after its ClientHello: lengths and times of its I/O, no content */
#define PLAIN_DNS 4   /* UDP connected to port 53: what it reads (answers) is copied */

/* Most bytes of one DNS message copied (a UDP answer without EDNS is at most 512 bytes; EDNS
 * answers are usually under 1232). */
#define PLAIN_DNS_MAX 1232

struct plain_sock {
	__u64 session;
	__u8 state;
	__u8 _pad[7];
};

/* Connected TCP sockets of interest, by (tgid, fd). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sock_key);
	__type(value, struct plain_sock);
} plain_socks SEC(".maps");

/* Sockets ever entered in `plain_socks`: while 0 the socket syscalls skip its lookup. */
__u8 plain_socks_used = 0;

#define PLAIN_FLAT 0 /* buf, count (read/write/recvfrom/sendto) */
#define PLAIN_IOV 1  /* struct iovec *, iovcnt (readv/writev) */
#define PLAIN_MSG 2  /* struct user_msghdr * (recvmsg/sendmsg) */

/* An HTTP socket syscall in flight, keyed by pid_tgid. */
struct plain_call {
	__u64 session;
	__u64 ptr; /* buffer, iovec array or msghdr, as `mode` says */
	__u64 count;
	__s32 fd;
	__u8 mode;
	__u8 is_write;
	__u8 flow; /* PLAIN_FLOW: only the length is reported; PLAIN_DNS: the message is copied */
	__u8 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct plain_call);
} plain_calls SEC(".maps");

/* Entries in `plain_calls`; the exit programs return at once while it is 0. */
__s64 plain_calls_open = 0;

struct plain_iov {
	__u64 base;
	__u64 len;
};

/* connect(2) returned `ret` on `fd`: a TCP inet socket enters `plain_socks` as new, a UDP one
 * connected to port 53 as a resolver's. */
static __always_inline void plain_connected(int fd, long ret)
{
	if (!plain_enabled || (ret != 0 && ret != -115 /* EINPROGRESS */) || filtered_out())
		return;
	struct file *f = fd_file(fd);
	if (!f)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return;
	short type = BPF_CORE_READ(sock, type);
	if (type != 1 /* SOCK_STREAM */ && type != 2 /* SOCK_DGRAM */)
		return;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != 2 && family != 10)
		return;
	__u8 state = PLAIN_NEW;
	if (type == 2) {
		/* UDP: only a resolver's socket (its answers name the addresses connected to next) */
		if (!flow_enabled || BPF_CORE_READ(sk, __sk_common.skc_dport) != bpf_htons(53))
			return;
		state = PLAIN_DNS;
	}
	struct sock_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct plain_sock v = { .session = (__u64)sk, .state = state };
	bpf_map_update_elem(&plain_socks, &k, &v, BPF_ANY);
	plain_socks_used = 1;
}

/* Whether the first 8 bytes a client writes on a connection (as one little-endian word) are an
 * HTTP/1.x request line (a method token and a space) or the HTTP/2 connection preface. Whole-word
 * compares under a mask: byte-by-byte tests compile to pointer arithmetic the verifier rejects. */
static __always_inline bool plain_is_http(__u64 w)
{
#define B8(s, n) ((__u64)(s)[0] | (__u64)(s)[1] << 8 | (__u64)(s)[2] << 16 | (__u64)(s)[3] << 24 |   \
		  (__u64)(s)[4] << 32 | (__u64)(s)[5] << 40 | (__u64)(s)[6] << 48 |                 \
		  (__u64)(s)[7] << 56)
#define STARTS(s, n) ((w & (~0ULL >> (64 - 8 * (n)))) == (B8(s "\0\0\0\0\0\0\0\0", n) & (~0ULL >> (64 - 8 * (n)))))
	return STARTS("GET ", 4) || STARTS("POST ", 5) || STARTS("PUT ", 4) || STARTS("HEAD ", 5) ||
	       STARTS("PATCH ", 6) || STARTS("DELETE ", 7) || STARTS("OPTIONS ", 8) ||
	       STARTS("PRI * HT", 8);
#undef STARTS
#undef B8
}

/* Most bytes of a ClientHello copied (the server name may follow a large post-quantum key share). */
#define PLAIN_HELLO_MAX 4096

/* Whether the first 8 bytes a client writes (as one little-endian word) start a TLS handshake
 * record (type 22, version 3.x) holding a ClientHello (handshake type 1). */
static __always_inline bool plain_is_client_hello(__u64 w)
{
	return (w & 0xffff) == 0x0316 && ((w >> 40) & 0xff) == 1;
}

/* The user address of the first bytes a call moves, or 0; their contiguous length in *len. */
static __always_inline __u64 plain_first_bytes(__u64 ptr, __u64 count, __u8 mode, __u64 *len)
{
	*len = count;
	if (mode == PLAIN_FLAT)
		return count ? ptr : 0;
	__u64 iov_ptr = ptr;
	if (mode == PLAIN_MSG) {
		struct user_msghdr m;
		if (bpf_probe_read_user(&m, sizeof(m), (void *)ptr) < 0 || !m.msg_iovlen)
			return 0;
		iov_ptr = (__u64)m.msg_iov;
	} else if (!count) {
		return 0;
	}
	struct plain_iov v;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)iov_ptr) < 0 || !v.len)
		return 0;
	*len = v.len;
	return v.base;
}

/* Copies `len` bytes (at most `max`) at the user address `buf` as one record of direction `dir`
 * and origin `origin`, after the socket's addresses: what the socket path copies once (a
 * ClientHello, a DNS answer). `wake`: whether the reader may be woken for it. */
static __always_inline void plain_copy_once(__u64 session, int fd, __u64 buf, __u64 len,
					    __u64 max, __u8 dir, __u8 origin, bool wake)
{
	__u32 zero = 0;
	struct oisp_tls_data *d = bpf_map_lookup_elem(&tls_scratch, &zero);
	if (!d || !buf)
		return;
	emit_tls_fd(session, fd);
	if (len > max)
		len = max;
	fill_hdr(&d->h, OISP_EV_TLS_DATA);
	d->session = session;
	d->seq = 0;
	d->len = len;
	d->truncated = 0;
	d->fd = fd;
	d->dir = dir;
	d->origin = origin;
	d->_pad[0] = 0;
	d->_pad[1] = 0;
	if (bpf_probe_read_user(d->data, len, (void *)buf) < 0)
		return;
	__u64 size = offsetof(struct oisp_tls_data, data) + len;
	if (size > sizeof(struct oisp_tls_data))
		size = sizeof(struct oisp_tls_data);
	if (bpf_ringbuf_output(&tls_ring, d, size, wake ? wake_flags(&tls_ring) : 0) < 0)
		count_lost(OISP_LOST_TLS, 1);
}

/* Copies the start of a ClientHello (`len` bytes at `buf`) as one record of origin
 * OISP_ORIGIN_HELLO, after the socket's addresses. */
static __always_inline void plain_hello(__u64 session, int fd, __u64 buf, __u64 len)
{
	plain_copy_once(session, fd, buf, len, PLAIN_HELLO_MAX, OISP_DIR_EGRESS, OISP_ORIGIN_HELLO,
			true);
}

/* Enter half of a socket syscall on `fd` of the current process: for a socket that carries HTTP
 * (decided here on its first write), or a TLS socket followed for its metadata, keeps the call
 * for the exit half. */
static __always_inline void plain_enter(int fd, __u64 ptr, __u64 count, __u8 mode, __u8 is_write)
{
	if (!plain_socks_used)
		return;
	struct sock_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct plain_sock *ps = bpf_map_lookup_elem(&plain_socks, &k);
	if (!ps || ps->state == PLAIN_OTHER || (ps->state == PLAIN_DNS && is_write))
		return;
	if (ps->state == PLAIN_NEW) {
		if (!is_write)
			return; /* a read before the first write (a liveness check): wait */
		__u64 head = 0, len = 0;
		__u64 first = plain_first_bytes(ptr, count, mode, &len);
		if (!first || len < sizeof(head) ||
		    bpf_probe_read_user(&head, sizeof(head), (void *)first) < 0)
			return;
		if (plain_is_http(head)) {
			ps->state = PLAIN_HTTP;
		} else if (plain_is_client_hello(head)) {
			plain_hello(ps->session, fd, first, len);
			ps->state = flow_enabled ? PLAIN_FLOW : PLAIN_OTHER;
		} else {
			ps->state = PLAIN_OTHER;
		}
		if (ps->state == PLAIN_OTHER)
			return;
	}
	/* 0: HTTP (copied), PLAIN_FLOW: lengths only, PLAIN_DNS: a resolver's answer (copied) */
	__u8 flow = ps->state == PLAIN_HTTP ? 0 : ps->state;
	if (!flow && tls_skipped(ps->session))
		return;
	__u64 id = bpf_get_current_pid_tgid();
	struct plain_call c = {
		.session = ps->session,
		.ptr = ptr,
		.count = count,
		.fd = fd,
		.mode = mode,
		.is_write = is_write,
		.flow = flow,
	};
	if (bpf_map_update_elem(&plain_calls, &id, &c, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&plain_calls_open, 1);
	else
		bpf_map_update_elem(&plain_calls, &id, &c, BPF_ANY);
}

/* Copies the DNS message a resolver's socket read (`len` bytes, the first of them at the user
 * address `buf`) as one record of origin OISP_ORIGIN_DNS, after the socket's addresses. */
static __always_inline void plain_dns(__u64 session, int fd, __u64 buf, __u64 len)
{
	plain_copy_once(session, fd, buf, len, PLAIN_DNS_MAX, OISP_DIR_INGRESS, OISP_ORIGIN_DNS,
			false);
}

/* One struct oisp_flow record of `kind` for a PLAIN_FLOW socket: `len` bytes moved. */
static __always_inline void plain_flow_record(__u32 kind, __u64 session, int fd, __u64 len,
					      __u8 is_write)
{
	struct oisp_flow *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return;
	}
	fill_hdr(&e->h, kind);
	e->session = session;
	e->len = len > 0xffffffffULL ? 0xffffffff : (__u32)len;
	e->fd = fd;
	e->dir = is_write ? OISP_DIR_EGRESS : OISP_DIR_INGRESS;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
}

#endif
