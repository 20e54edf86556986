// SPDX-License-Identifier: Apache-2.0
/*
 * Go's crypto/tls (src/tls/go): (*Conn).Write and (*Conn).Read, whose plaintext is the caller's
 * []byte, and (*Conn).Close. Go >= 1.17 on x86-64 passes arguments in registers (ABIInternal):
 * at entry RAX = *Conn, RBX = the slice's pointer, RCX = its length; at return RAX = bytes
 * written/read (RBX, RCX: the error). R14 always holds the running goroutine (g).
 *
 * No uretprobes: they rewrite the return address on the goroutine's stack, which Go may move
 * or copy. go_tls_ret is an entry uprobe placed on every RET instruction of the function
 * (userspace decodes the code to find them). A goroutine may run on another thread at its
 * return than at its entry, so calls in flight are keyed by (tgid, g), not by thread.
 *
 * Sessions are keyed by the *Conn (both directions: HTTP/2 reads on its read loop goroutine
 * and writes on the callers'). The socket is the one the same goroutine reads or writes during
 * the call: the socket syscall tracepoints (tls.bpf.c, file.bpf.c) take g from R14 of the
 * task's user registers (Go's syscall path, runtime/internal/syscall.Syscall6, is register-ABI
 * code and keeps R14).
 */
#include "tls.bpf.h"

struct go_call_key {
	__u32 tgid;
	__u32 _pad;
	__u64 g;
};

struct go_call {
	__u64 conn;
	__u64 buf;
	__s32 fd; /* socket fd seen during the call, or -1 */
	__u8 is_write;
	__u8 _pad[3];
};

/* Write/Read calls in flight, per goroutine. LRU: a goroutine that panicked inside a call
 * never reaches a RET; its entry is replaced by its next call or evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_call_key);
	__type(value, struct go_call);
} go_calls SEC(".maps");

/* Processes with Go TLS calls: only their socket syscalls look for a goroutine's call. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} go_tgids SEC(".maps");

/* The socket each *Conn was last seen on, per process: a *Conn address seen on another socket
 * was freed and reused by a new connection (whose session starts afresh). */
struct go_conn_key {
	__u64 conn;
	__u32 tgid;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_conn_key);
	__type(value, __s32);
} go_conns SEC(".maps");

static __always_inline void note_go_io(int fd)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!bpf_map_lookup_elem(&go_tgids, &tgid))
		return;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return;
	struct go_call_key k = { .tgid = tgid, .g = BPF_CORE_READ(regs, r14) };
	struct go_call *c = bpf_map_lookup_elem(&go_calls, &k);
	if (c && c->fd < 0 && (fd_mode(fd) & S_IFMT_) == S_IFSOCK_)
		c->fd = fd;
}

static __always_inline int go_enter(struct pt_regs *ctx, __u8 is_write)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct go_call_key k = { .tgid = tgid, .g = ctx->r14 };
	__u64 conn = ctx->ax;
	if (!conn || !ctx->cx || tls_skipped(conn)) {
		bpf_map_delete_elem(&go_calls, &k);
		return 0;
	}
	struct go_call c = { .conn = conn, .buf = ctx->bx, .fd = -1, .is_write = is_write };
	bpf_map_update_elem(&go_calls, &k, &c, BPF_ANY);
	if (!bpf_map_lookup_elem(&go_tgids, &tgid)) {
		__u8 one = 1;
		bpf_map_update_elem(&go_tgids, &tgid, &one, BPF_ANY);
		go_used = 1;
	}
	return 0;
}

SEC("uprobe")
int go_write_enter(struct pt_regs *ctx)
{
	return go_enter(ctx, 1);
}

SEC("uprobe")
int go_read_enter(struct pt_regs *ctx)
{
	return go_enter(ctx, 0);
}

/* At every RET of Write and Read: the bytes the call wrote or read. */
SEC("uprobe")
int go_tls_ret(struct pt_regs *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct go_call_key k = { .tgid = tgid, .g = ctx->r14 };
	struct go_call *c = bpf_map_lookup_elem(&go_calls, &k);
	if (!c)
		return 0;
	struct go_call call = *c;
	bpf_map_delete_elem(&go_calls, &k);
	__s64 n = (__s64)ctx->ax;
	if (n <= 0)
		return 0;
	if (call.fd >= 0) {
		struct go_conn_key ck = { .conn = call.conn, .tgid = tgid };
		__s32 *known = bpf_map_lookup_elem(&go_conns, &ck);
		if (!known || *known != call.fd) {
			if (known)
				tls_session_free(call.conn);
			bpf_map_update_elem(&go_conns, &ck, &call.fd, BPF_ANY);
		}
	}
	tls_emit(ctx, call.conn, call.buf, n, call.fd, call.is_write);
	return 0;
}

/* (*Conn).Close: the session ends. */
SEC("uprobe")
int go_close_enter(struct pt_regs *ctx)
{
	__u64 conn = ctx->ax;
	struct go_conn_key ck = { .conn = conn, .tgid = bpf_get_current_pid_tgid() >> 32 };
	bpf_map_delete_elem(&go_conns, &ck);
	if (filtered_out())
		return 0;
	tls_session_free(conn);
	return 0;
}

/* SNI: (*Conn).makeClientHello(c) builds the ClientHello of the Conn in RAX and, on the same
 * goroutine, calls hostnameInSNI(config.ServerName), whose result (RAX = pointer, RBX = length;
 * empty for an IP address) is the name sent. The Conn is kept per goroutine from the one to
 * the other's returns. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct go_call_key);
	__type(value, __u64);
} go_hellos SEC(".maps");

SEC("uprobe")
int go_hello_enter(struct pt_regs *ctx)
{
	struct go_call_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .g = ctx->r14 };
	__u64 conn = ctx->ax;
	if (conn && !filtered_out())
		bpf_map_update_elem(&go_hellos, &k, &conn, BPF_ANY);
	return 0;
}

/* At every RET of hostnameInSNI. */
SEC("uprobe")
int go_sni_ret(struct pt_regs *ctx)
{
	struct go_call_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .g = ctx->r14 };
	__u64 *c = bpf_map_lookup_elem(&go_hellos, &k);
	if (!c)
		return 0;
	__u64 conn = *c;
	bpf_map_delete_elem(&go_hellos, &k);
	__u64 name = ctx->ax, name_len = ctx->bx;
	if (!name || name_len == 0)
		return 0;
	struct oisp_tls_name *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_TLS_SNI);
	e->session = conn;
	e->_pad = 0;
	__u32 len = name_len > OISP_NAME_LEN - 1 ? OISP_NAME_LEN - 1 : name_len;
	e->len = 0;
	if (bpf_probe_read_user(e->name, len & (OISP_NAME_LEN - 1), (void *)name) == 0)
		e->len = len;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
	return 0;
}
