/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TLS plaintext machinery every TLS stack shares, whatever library it reads: calls in flight
 * (arguments kept from entry to return), per-session stream offsets, muted sessions, copying the
 * plaintext of one call into ring records, and tying a session to its socket. A stack's own file
 * (tls_<stack>.bpf.c) only has the probes that know its functions' signatures and call
 * tls_call_enter / tls_call_exit / emit_tls_fd / tls_session_free from them.
 *
 * A session is identified by (session key, tgid): the key is whatever the stack uses for one
 * connection's state (OpenSSL/BoringSSL: the SSL*; GnuTLS: the gnutls_session_t; Go: the
 * *tls.Conn).
 */
#ifndef OISP_TLS_BPF_H
#define OISP_TLS_BPF_H

#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oisp_tls_data);
} tls_scratch SEC(".maps");

#define CALL_WRITE 0
#define CALL_READ 1
#define CALL_WRITE_EX 2
#define CALL_READ_EX 3
/* Like CALL_WRITE/CALL_READ, but the return is a 64-bit ssize_t (GnuTLS's gnutls_record_send /
 * gnutls_record_recv) rather than an int, whose upper register half the callee may leave as
 * garbage. */
#define CALL_WRITE_LONG 4
#define CALL_READ_LONG 5

/* Arguments of a read/write call of a TLS stack in progress, keyed by pid_tgid. */
struct tls_call {
	__u64 session; /* the stack's session key */
	__u64 buf;
	__u64 out_len; /* size_t* of the _ex forms */
	__u32 kind;
	__s32 fd; /* socket fd seen during the call, or -1 */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

/* Entries in `tls_calls` (TLS calls in flight). While it is 0 — a machine with no TLS traffic of
 * interest, or only muted/ignored sessions — the socket syscalls skip their `tls_calls` lookup.
 * An entry left behind by a thread that died inside a TLS call keeps it above 0: only the shortcut is
 * lost, never a record. */
__s64 tls_calls_open = 0;

struct seq_key {
	__u64 session;
	__u32 tgid;
	__u32 dir;
};

/* Next stream offset per session and direction. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct seq_key);
	__type(value, __u64);
} seqs SEC(".maps");

/* Sessions whose plaintext is no longer copied, keyed by (session key, tgid, dir 0); the value is
 * why (OISP_SKIP_*). Userspace adds server-side sessions (the process accepted the connection)
 * once it has seen their socket (the decoder does not report a local server's view of an
 * exchange), and client sessions the decoder found to carry no AI traffic. Every data probe
 * (SSL_read/SSL_write…) looks here first and returns before any copy or ring reservation. The end of a
 * session (tls_session_free) and a new socket on it (tls_session_new_socket) remove the entry; LRU eviction only
 * ever makes a session copied again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct seq_key);
	__type(value, __u8);
} muted SEC(".maps");

/* Data calls skipped because their session is muted, per reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OISP_SKIP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} skips SEC(".maps");

/* Session uprobes (kernel 6.13+): the entry program's return value 1 tells the kernel not to
 * run the return program for this call, which also saves the return trap. */
extern bool bpf_session_is_return(void) __ksym __weak;

/* Sessions whose fd is not known yet (memory BIOs, as in Node): pid_tgid -> session key. The next
 * socket write of that thread ties them to an fd. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} fd_wanted SEC(".maps");

/* Set once anything has been put in `fd_wanted` (only memory-BIO programs such as Node do): until
 * then the socket syscalls skip that lookup. */
__u8 fd_wanted_used = 0;


/* Stacks with one state per direction of a connection (rustls: an AEAD context each way) tie both
 * to the connection through the thread's socket syscalls. The session key a socket's data goes
 * under, once its sealing side wrote to it: */
struct sock_key {
	__u32 tgid;
	__s32 fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sock_key);
	__type(value, __u64);
} sock_sessions SEC(".maps");

/* Per thread (pid_tgid): the session whose records it just sealed, waiting for the socket write
 * that sends them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} seal_wanted SEC(".maps");

/* Per thread (pid_tgid): the socket fd it read last, whose records it opens next. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __s32);
} last_read_fd SEC(".maps");

/* Processes (tgid) with such a stack in use: only their socket syscalls are followed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} split_tgids SEC(".maps");

/* Set once anything is in `split_tgids`: until then the socket syscalls skip that lookup. */
__u8 split_used = 0;

/* The addresses of the socket behind the current task's fd, into a TLS_FD record. */
static __always_inline void fill_sock_addrs(struct oisp_tls_fd *e, int fd)
{
	e->family = 0;
	e->lport = 0;
	e->rport = 0;
	__builtin_memset(e->laddr, 0, sizeof(e->laddr));
	__builtin_memset(e->raddr, 0, sizeof(e->raddr));
	struct file *f = fd_file(fd);
	if (!f)
		return;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT_) != S_IFSOCK_)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == 2) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(e->laddr, &l, 4);
		__builtin_memcpy(e->raddr, &r, 4);
	} else if (family == 10) {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		return;
	}
	e->family = family;
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

static __always_inline void emit_tls_fd(__u64 session, int fd)
{
	struct oisp_tls_fd *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return;
	}
	fill_hdr(&e->h, OISP_EV_TLS_FD);
	e->session = session;
	e->fd = fd;
	e->_pad[0] = 0;
	e->_pad[1] = 0;
	e->_pad[2] = 0;
	fill_sock_addrs(e, fd);
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
}

/* Whether data of `session` in this process is not copied: a muted session (counted per reason)
 * or a filtered-out process. */
static __always_inline bool tls_skipped(__u64 session)
{
	struct seq_key mk = { .session = session, .tgid = bpf_get_current_pid_tgid() >> 32, .dir = 0 };
	__u8 *why = bpf_map_lookup_elem(&muted, &mk);
	if (why) {
		__u32 slot = *why == OISP_SKIP_IGNORED ? OISP_SKIP_IGNORED : OISP_SKIP_SERVER;
		__u64 *n = bpf_map_lookup_elem(&skips, &slot);
		if (n)
			*n += 1; /* per-CPU slot: no atomic needed */
		return true;
	}
	return filtered_out();
}

/* Entry of a data call (SSL_read/SSL_write(_ex) and their likes): remembers the arguments for the
 * return, with the socket fd if the caller already knows it (else -1: the socket syscalls inside
 * the call fill it in). Returns 1 when the call is of no interest (muted session, filtered-out
 * process), 0 when the return must run. */
static __always_inline int tls_call_enter_fd(__u64 session, __u64 buf, __u64 out_len, __u32 kind,
					     __s32 fd)
{
	if (tls_skipped(session))
		return 1;
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call c = { .session = session, .buf = buf, .out_len = out_len, .kind = kind, .fd = fd };
	if (bpf_map_update_elem(&tls_calls, &id, &c, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&tls_calls_open, 1);
	else
		bpf_map_update_elem(&tls_calls, &id, &c, BPF_ANY); /* nested call: replaces */
	return 0;
}

static __always_inline int tls_call_enter(__u64 session, __u64 buf, __u64 out_len, __u32 kind)
{
	return tls_call_enter_fd(session, buf, out_len, kind, -1);
}

struct chunk_ctx {
	__u64 session;
	__u64 buf;
	__u64 base;
	__u64 copy; /* bytes to copy (<= OISP_MAX_CALL) */
	__u64 truncated;
	__s32 fd;
	__u8 dir;
	__u8 origin;
};

static long emit_chunk(__u32 index, void *vctx)
{
	struct chunk_ctx *c = vctx;
	__u64 off = (__u64)index * OISP_CHUNK;
	if (off >= c->copy)
		return 1;
	__u64 len = c->copy - off;
	if (len > OISP_CHUNK)
		len = OISP_CHUNK;
	__u32 zero = 0;
	struct oisp_tls_data *d = bpf_map_lookup_elem(&tls_scratch, &zero);
	if (!d)
		return 1;
	fill_hdr(&d->h, OISP_EV_TLS_DATA);
	d->session = c->session;
	d->seq = c->base + off;
	d->len = len;
	d->truncated = (off + len >= c->copy) ? c->truncated : 0;
	d->fd = c->fd;
	d->dir = c->dir;
	d->origin = c->origin;
	d->_pad[0] = 0;
	d->_pad[1] = 0;
	if (bpf_probe_read_user(d->data, len, (void *)(c->buf + off)) < 0) {
		/* unreadable user memory (paged out): report the chunk as lost */
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	__u64 size = offsetof(struct oisp_tls_data, data) + len;
	if (size > sizeof(struct oisp_tls_data))
		size = sizeof(struct oisp_tls_data);
	if (bpf_ringbuf_output(&tls_ring, d, size, wake_flags(&tls_ring)) < 0)
		count_lost(OISP_LOST_TLS, 1);
	return 0;
}

/* Copies `n` plaintext bytes at `buf` of `session` (read by `origin`) into ring records (chunks
 * of OISP_CHUNK, at most OISP_MAX_CALL, the rest counted as truncated), at the session's next
 * stream offset in that direction; reports the session's socket first if this is its first data that way and the
 * fd is known. */
static __always_inline void tls_emit_as(__u64 session, __u64 buf, __u64 n, __s32 fd,
					__u8 is_write, __u8 origin)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u8 dir = is_write ? OISP_DIR_EGRESS : OISP_DIR_INGRESS;
	struct seq_key k = { .session = session, .tgid = id >> 32, .dir = dir };
	__u64 *next = bpf_map_lookup_elem(&seqs, &k);
	if (!next) {
		/* First data of this session in this direction: tell userspace its socket and
		 * addresses now, while the socket surely exists (a short-lived client may be gone by
		 * the time userspace could look in /proc). */
		if (fd >= 0)
			emit_tls_fd(session, fd);
		__u64 zero = 0;
		bpf_map_update_elem(&seqs, &k, &zero, BPF_NOEXIST);
		next = bpf_map_lookup_elem(&seqs, &k);
		if (!next)
			return;
	}
	__u64 base = __sync_fetch_and_add(next, n);

	struct chunk_ctx cc = {
		.session = session,
		.buf = buf,
		.base = base,
		.copy = n > OISP_MAX_CALL ? OISP_MAX_CALL : n,
		.truncated = n > OISP_MAX_CALL ? n - OISP_MAX_CALL : 0,
		.fd = fd,
		.dir = dir,
		.origin = origin,
	};
	if (cc.truncated)
		count_lost(OISP_LOST_TRUNCATED_BYTES, cc.truncated);
	__u32 chunks = (cc.copy + OISP_CHUNK - 1) / OISP_CHUNK;
	bpf_loop(chunks, emit_chunk, &cc, 0);
}

/* tls_emit_as for a uprobe: the attach cookie says which stack, and which copy of it, the probe
 * sits in. */
static __always_inline void tls_emit(struct pt_regs *ctx, __u64 session, __u64 buf, __u64 n,
				     __s32 fd, __u8 is_write)
{
	tls_emit_as(session, buf, n, fd, is_write, (__u8)bpf_get_attach_cookie(ctx));
}

/* The in-flight call of this thread, taken out of `tls_calls` (0: none). */
static __always_inline int tls_call_take(struct tls_call *out)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);
	if (!c)
		return 0;
	*out = *c;
	if (bpf_map_delete_elem(&tls_calls, &id) == 0)
		__sync_fetch_and_add(&tls_calls_open, -1);
	return 1;
}

static __always_inline int tls_call_exit(struct pt_regs *ctx, __u8 is_write)
{
	struct tls_call call;
	if (!tls_call_take(&call))
		return 0;
	__s64 rc = PT_REGS_RC(ctx);
	int ret = (int)rc;
	__u64 n = 0;
	if (call.kind == CALL_WRITE || call.kind == CALL_READ) {
		if (ret <= 0)
			return 0;
		n = ret;
	} else if (call.kind == CALL_WRITE_LONG || call.kind == CALL_READ_LONG) {
		if (rc <= 0)
			return 0;
		n = rc;
	} else {
		if (ret <= 0 || !call.out_len) /* 1 from SSL_*_ex; >0 from OpenSSL's internals */
			return 0;
		__u64 got = 0;
		bpf_probe_read_user(&got, sizeof(got), (void *)call.out_len);
		n = got;
	}
	if (n == 0)
		return 0;
	tls_emit(ctx, call.session, call.buf, n, call.fd, is_write);

	if (is_write && call.fd < 0) {
		/* Memory BIO (Node): the ciphertext goes out with this thread's next socket write. */
		__u64 id = bpf_get_current_pid_tgid();
		bpf_map_update_elem(&fd_wanted, &id, &call.session, BPF_ANY);
		fd_wanted_used = 1;
	}
	return 0;
}

/* A session got a (new) socket, e.g. SSL_set_fd: a new connection, possibly on a session object
 * reused for it, so it is copied again (unmuted), and its socket is reported. */
static __always_inline void tls_session_new_socket(__u64 session, int fd)
{
	struct seq_key mk = { .session = session, .tgid = bpf_get_current_pid_tgid() >> 32 };
	bpf_map_delete_elem(&muted, &mk);
	if (filtered_out())
		return;
	emit_tls_fd(session, fd);
}

/* The end of a session (SSL_free): forgets its offsets and mute, and reports the end if it
 * carried data. The caller has applied the filters. */
static __always_inline void tls_session_free(__u64 session)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct seq_key k = { .session = session, .tgid = tgid, .dir = OISP_DIR_EGRESS };
	bool known = bpf_map_delete_elem(&seqs, &k) == 0;
	k.dir = OISP_DIR_INGRESS;
	known = (bpf_map_delete_elem(&seqs, &k) == 0) || known;
	k.dir = 0;
	bpf_map_delete_elem(&muted, &k);
	if (!known)
		return; /* never carried data: not worth a record */
	struct oisp_tls_free *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return;
	}
	fill_hdr(&e->h, OISP_EV_TLS_FREE);
	e->session = session;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
}

/* A socket syscall of a thread inside a TLS data call tells which fd the session uses. */
static __always_inline void note_split_io(int fd, bool is_write);

/* Go crypto/tls (tls_go.bpf.c): calls in flight are per goroutine, not per thread. Set once a
 * Go data call was seen: until then the socket syscalls skip that lookup. */
__u8 go_used = 0;
static __always_inline void note_go_io(int fd);

static __always_inline void note_socket_io(int fd, bool is_write)
{
	if (split_used)
		note_split_io(fd, is_write);
	if (go_used)
		note_go_io(fd);
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = tls_calls_open > 0 ? bpf_map_lookup_elem(&tls_calls, &id) : 0;
	if (c) {
		if (c->fd < 0 && (fd_mode(fd) & S_IFMT_) == S_IFSOCK_)
			c->fd = fd;
		return;
	}
	if (!is_write || !fd_wanted_used)
		return;
	__u64 *session = bpf_map_lookup_elem(&fd_wanted, &id);
	if (!session)
		return;
	__u64 s = *session;
	if ((fd_mode(fd) & S_IFMT_) != S_IFSOCK_)
		return;
	bpf_map_delete_elem(&fd_wanted, &id);
	emit_tls_fd(s, fd);
}

/* A socket syscall of a process using a per-direction stack: a read notes the thread's last
 * socket; a write after sealing ties the sealed session to that socket (reported once per
 * socket and session). */
static __always_inline void note_split_io(int fd, bool is_write)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!bpf_map_lookup_elem(&split_tgids, &tgid))
		return;
	if ((fd_mode(fd) & S_IFMT_) != S_IFSOCK_)
		return;
	if (!is_write) {
		__s32 f = fd;
		bpf_map_update_elem(&last_read_fd, &id, &f, BPF_ANY);
		return;
	}
	__u64 *wanted = bpf_map_lookup_elem(&seal_wanted, &id);
	if (!wanted)
		return;
	__u64 session = *wanted;
	bpf_map_delete_elem(&seal_wanted, &id);
	struct sock_key k = { .tgid = tgid, .fd = fd };
	__u64 *cur = bpf_map_lookup_elem(&sock_sessions, &k);
	if (cur && *cur == session)
		return;
	bpf_map_update_elem(&sock_sessions, &k, &session, BPF_ANY);
	emit_tls_fd(session, fd);
}

/* The programs of one data function whose first two arguments are (session, buffer), whose
 * `kind` (CALL_*) says how its result is read, and whose `out_len` is 0 or the register holding
 * the size_t * of the _ex forms (PT_REGS_PARM4(ctx)): NAME_enter + NAME_exit (uprobe/uretprobe
 * pair) and NAME_sess (one session uprobe, kernel 6.13+: its return half runs only when the entry
 * half returned 0). Userspace picks the session program where the kernel has them. */
#define TLS_DATA_PROGRAMS(name, kind, is_write, out_len)                                          \
	SEC("uprobe")                                                                             \
	int name##_enter(struct pt_regs *ctx)                                                     \
	{                                                                                         \
		tls_call_enter(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), out_len, kind);            \
		return 0;                                                                         \
	}                                                                                         \
	SEC("uretprobe")                                                                          \
	int name##_exit(struct pt_regs *ctx)                                                      \
	{                                                                                         \
		return tls_call_exit(ctx, is_write);                                              \
	}                                                                                         \
	SEC("uprobe.session")                                                                     \
	int name##_sess(struct pt_regs *ctx)                                                      \
	{                                                                                         \
		if (bpf_session_is_return()) {                                                    \
			tls_call_exit(ctx, is_write);                                             \
			return 0;                                                                 \
		}                                                                                 \
		return tls_call_enter(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), out_len, kind);     \
	}

#endif
