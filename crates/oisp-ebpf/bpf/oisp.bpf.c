// SPDX-License-Identifier: Apache-2.0
/*
 * oisp-sensor capture programs: TLS plaintext (OpenSSL uprobes), process lifecycle (BTF
 * tracepoints) and file/network syscalls (syscall tracepoints). No kprobes: this must run on
 * kernels built without CONFIG_KPROBES.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "oisp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace before load: kernel-side filters (0 / empty = off). */
const volatile __u32 targ_tgid = 0;
const volatile char targ_comm[OISP_COMM_LEN] = {};
const volatile __u8 filter_comm = 0;
/* The sensor's own process: never traced (its output writes would feed back). */
const volatile __u32 self_tgid = 0;
/* What the one write(2) program does (set from --no-ssl / --no-file): tie TLS sessions to their
 * socket, report writes to regular files. One program for both because each program run on a
 * syscall costs about 100 ns on every write of every process, whatever it then does. */
const volatile __u8 write_notes_tls = 1;
const volatile __u8 write_reports_files = 1;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024 * 1024);
} tls_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} sys_ring SEC(".maps");

/* Records that could not be written (ring full), and bytes cut from oversized calls. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OISP_LOST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oisp_tls_data);
} tls_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oisp_exec);
} exec_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oisp_file);
} file_scratch SEC(".maps");

#define CALL_WRITE 0
#define CALL_READ 1
#define CALL_WRITE_EX 2
#define CALL_READ_EX 3

/* Arguments of an SSL_* call in progress, keyed by pid_tgid. */
struct ssl_call {
	__u64 ssl;
	__u64 buf;
	__u64 out_len; /* size_t* of the _ex forms */
	__u32 kind;
	__s32 fd; /* socket fd seen during the call, or -1 */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

/* Entries in `ssl_calls` (SSL calls in flight). While it is 0 — a machine with no TLS traffic of
 * interest, or only muted/ignored sessions — the socket syscalls skip their `ssl_calls` lookup.
 * An entry left behind by a thread that died inside SSL_* keeps it above 0: only the shortcut is
 * lost, never a record. */
__s64 ssl_calls_open = 0;

struct seq_key {
	__u64 ssl;
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

/* Sessions whose plaintext is no longer copied, keyed by (SSL*, tgid, dir 0); the value is
 * why (OISP_SKIP_*). Userspace adds server-side sessions (the process accepted the connection)
 * once it has seen their socket (the decoder does not report a local server's view of an
 * exchange), and client sessions the decoder found to carry no AI traffic. Every SSL_read/
 * SSL_write probe looks here first and returns before any copy or ring reservation. SSL_free
 * and SSL_set_fd (a new connection on a reused SSL object) remove the entry; LRU eviction only
 * ever makes a session copied again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct seq_key);
	__type(value, __u8);
} muted SEC(".maps");

/* SSL_read/SSL_write calls skipped because their session is muted, per reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OISP_SKIP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} skips SEC(".maps");

/* Session uprobes (kernel 6.13+): the entry program's return value 1 tells the kernel not to
 * run the return program for this call, which also saves the return trap. */
extern bool bpf_session_is_return(void) __ksym __weak;

/* Sessions whose fd is not known yet (memory BIOs, as in Node): pid_tgid -> SSL*. The next
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

/* Syscall arguments stashed at sys_enter for sys_exit, keyed by pid_tgid. */
struct sys_args {
	__u64 a0;
	__u64 a1;
	__u64 a2;
	__u64 a3;
	__u64 a4;
	__u32 nr;
};

#define NR_OPENAT 1
#define NR_RENAMEAT 2
#define NR_UNLINKAT 3
#define NR_CONNECT 4

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sys_args);
} sys_pending SEC(".maps");

/* TLS records wake the reader only once this much is waiting: a wakeup per record (the default)
 * costs more than the copy at tens of thousands of TLS calls per second. Userspace polls with a
 * timeout and drains both rings after every wakeup or timeout, so a lone record waits at most
 * that long, and a process/file/network record (which wakes the reader at once) never overtakes
 * TLS records written before it. */
#define WAKE_BYTES (256 * 1024)

static __always_inline __u64 wake_flags(void *ring)
{
	return bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >= WAKE_BYTES ? BPF_RB_FORCE_WAKEUP
								     : BPF_RB_NO_WAKEUP;
}

static __always_inline void count_lost(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&lost, &slot);
	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline bool comm_matches(void)
{
	char comm[OISP_COMM_LEN];
	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < OISP_COMM_LEN; i++) {
		if (comm[i] != targ_comm[i])
			return false;
		if (comm[i] == 0)
			break;
	}
	return true;
}

/* True when the kernel-side filters (--pid, -p) exclude the current task. */
static __always_inline bool filtered_out(void)
{
	if (self_tgid && (bpf_get_current_pid_tgid() >> 32) == self_tgid)
		return true;
	if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return true;
	if (filter_comm && !comm_matches())
		return true;
	return false;
}

static __always_inline void fill_hdr(struct oisp_hdr *h, __u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	h->kind = kind;
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->_pad = 0;
	h->ts_ns = bpf_ktime_get_ns();
}

/* The current task's file for `fd`, or 0. The task -> files -> fdtable chain is read with direct
 * (BTF, fault-guarded) loads rather than a probe-read helper call per step: this runs on every
 * write(2) of every process, and the helper calls were most of its cost (measured: about 100 ns
 * of 170 per call). The fd array slot has a variable index, which needs the helper. */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = t->files;
	if (!files || fd < 0)
		return 0;
	struct fdtable *fdt = files->fdt;
	if (!fdt || (unsigned int)fd >= fdt->max_fds)
		return 0;
	struct file **fda = fdt->fd;
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fda[fd]);
	return f;
}

/* The file mode of the current task's fd, or 0. */
static __always_inline __u32 fd_mode(int fd)
{
	struct file *f = fd_file(fd);
	if (!f)
		return 0;
	if (bpf_ksym_exists(bpf_rdonly_cast)) /* 6.2+: direct loads from here on too */
		return bpf_core_cast(f, struct file)->f_inode->i_mode;
	return BPF_CORE_READ(f, f_inode, i_mode);
}

#define S_IFMT_ 0170000
#define S_IFREG_ 0100000
#define S_IFSOCK_ 0140000

/* ---------------------------------------------------------------- TLS ---- */

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

static __always_inline void emit_tls_fd(__u64 ssl, int fd)
{
	struct oisp_tls_fd *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return;
	}
	fill_hdr(&e->h, OISP_EV_TLS_FD);
	e->ssl = ssl;
	e->fd = fd;
	e->_pad[0] = 0;
	e->_pad[1] = 0;
	e->_pad[2] = 0;
	fill_sock_addrs(e, fd);
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
}

/* Entry of SSL_read/SSL_write(_ex): remembers the arguments for the return. Returns 1 when the
 * call is of no interest (muted session, filtered-out process), 0 when the return must run. */
static __always_inline int ssl_enter(__u64 ssl, __u64 buf, __u64 out_len, __u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct seq_key mk = { .ssl = ssl, .tgid = id >> 32, .dir = 0 };
	__u8 *why = bpf_map_lookup_elem(&muted, &mk);
	if (why) {
		__u32 slot = *why == OISP_SKIP_IGNORED ? OISP_SKIP_IGNORED : OISP_SKIP_SERVER;
		__u64 *n = bpf_map_lookup_elem(&skips, &slot);
		if (n)
			*n += 1; /* per-CPU slot: no atomic needed */
		return 1;
	}
	if (filtered_out())
		return 1;
	struct ssl_call c = { .ssl = ssl, .buf = buf, .out_len = out_len, .kind = kind, .fd = -1 };
	if (bpf_map_update_elem(&ssl_calls, &id, &c, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&ssl_calls_open, 1);
	else
		bpf_map_update_elem(&ssl_calls, &id, &c, BPF_ANY); /* nested call: replaces */
	return 0;
}

struct chunk_ctx {
	__u64 ssl;
	__u64 buf;
	__u64 base;
	__u64 copy; /* bytes to copy (<= OISP_MAX_CALL) */
	__u64 truncated;
	__s32 fd;
	__u8 dir;
	__u8 is_static;
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
	d->ssl = c->ssl;
	d->seq = c->base + off;
	d->len = len;
	d->truncated = (off + len >= c->copy) ? c->truncated : 0;
	d->fd = c->fd;
	d->dir = c->dir;
	d->is_static = c->is_static;
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

static __always_inline int ssl_exit(struct pt_regs *ctx, __u8 is_write)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_call *c = bpf_map_lookup_elem(&ssl_calls, &id);
	if (!c)
		return 0;
	struct ssl_call call = *c;
	if (bpf_map_delete_elem(&ssl_calls, &id) == 0)
		__sync_fetch_and_add(&ssl_calls_open, -1);

	int ret = (int)PT_REGS_RC(ctx);
	__u64 n = 0;
	if (call.kind == CALL_WRITE || call.kind == CALL_READ) {
		if (ret <= 0)
			return 0;
		n = ret;
	} else {
		if (ret <= 0 || !call.out_len) /* 1 from SSL_*_ex; >0 from the internals */
			return 0;
		__u64 got = 0;
		bpf_probe_read_user(&got, sizeof(got), (void *)call.out_len);
		n = got;
	}
	if (n == 0)
		return 0;

	__u8 dir = is_write ? OISP_DIR_EGRESS : OISP_DIR_INGRESS;
	struct seq_key k = { .ssl = call.ssl, .tgid = id >> 32, .dir = dir };
	__u64 *next = bpf_map_lookup_elem(&seqs, &k);
	if (!next) {
		/* First data of this session in this direction: tell userspace its socket and
		 * addresses now, while the socket surely exists (a short-lived client may be gone by
		 * the time userspace could look in /proc). */
		if (call.fd >= 0)
			emit_tls_fd(call.ssl, call.fd);
		__u64 zero = 0;
		bpf_map_update_elem(&seqs, &k, &zero, BPF_NOEXIST);
		next = bpf_map_lookup_elem(&seqs, &k);
		if (!next)
			return 0;
	}
	__u64 base = __sync_fetch_and_add(next, n);

	struct chunk_ctx cc = {
		.ssl = call.ssl,
		.buf = call.buf,
		.base = base,
		.copy = n > OISP_MAX_CALL ? OISP_MAX_CALL : n,
		.truncated = n > OISP_MAX_CALL ? n - OISP_MAX_CALL : 0,
		.fd = call.fd,
		.dir = dir,
		.is_static = bpf_get_attach_cookie(ctx) ? 1 : 0,
	};
	if (cc.truncated)
		count_lost(OISP_LOST_TRUNCATED_BYTES, cc.truncated);
	__u32 chunks = (cc.copy + OISP_CHUNK - 1) / OISP_CHUNK;
	bpf_loop(chunks, emit_chunk, &cc, 0);

	if (is_write && call.fd < 0) {
		/* Memory BIO (Node): the ciphertext goes out with this thread's next socket write. */
		bpf_map_update_elem(&fd_wanted, &id, &call.ssl, BPF_ANY);
		fd_wanted_used = 1;
	}
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(ssl_write_enter, void *ssl, const void *buf, int num)
{
	ssl_enter((__u64)ssl, (__u64)buf, 0, CALL_WRITE);
	return 0;
}

SEC("uretprobe")
int ssl_write_exit(struct pt_regs *ctx)
{
	return ssl_exit(ctx, 1);
}

SEC("uprobe")
int BPF_UPROBE(ssl_read_enter, void *ssl, void *buf, int num)
{
	ssl_enter((__u64)ssl, (__u64)buf, 0, CALL_READ);
	return 0;
}

SEC("uretprobe")
int ssl_read_exit(struct pt_regs *ctx)
{
	return ssl_exit(ctx, 0);
}

SEC("uprobe")
int BPF_UPROBE(ssl_write_ex_enter, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	ssl_enter((__u64)ssl, (__u64)buf, (__u64)written, CALL_WRITE_EX);
	return 0;
}

SEC("uretprobe")
int ssl_write_ex_exit(struct pt_regs *ctx)
{
	return ssl_exit(ctx, 1);
}

SEC("uprobe")
int BPF_UPROBE(ssl_read_ex_enter, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	ssl_enter((__u64)ssl, (__u64)buf, (__u64)readbytes, CALL_READ_EX);
	return 0;
}

SEC("uretprobe")
int ssl_read_ex_exit(struct pt_regs *ctx)
{
	return ssl_exit(ctx, 0);
}

/* One program per function for entry and return (session uprobes, kernel 6.13+; userspace falls
 * back to the uprobe/uretprobe pairs above on older kernels). The return runs only when the
 * entry returned 0. */
SEC("uprobe.session")
int ssl_write_sess(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		ssl_exit(ctx, 1);
		return 0;
	}
	return ssl_enter(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), 0, CALL_WRITE);
}

SEC("uprobe.session")
int ssl_read_sess(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		ssl_exit(ctx, 0);
		return 0;
	}
	return ssl_enter(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), 0, CALL_READ);
}

SEC("uprobe.session")
int ssl_write_ex_sess(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		ssl_exit(ctx, 1);
		return 0;
	}
	return ssl_enter(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM4(ctx), CALL_WRITE_EX);
}

SEC("uprobe.session")
int ssl_read_ex_sess(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		ssl_exit(ctx, 0);
		return 0;
	}
	return ssl_enter(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM4(ctx), CALL_READ_EX);
}

SEC("uprobe")
int BPF_UPROBE(ssl_set_fd_enter, void *ssl, int fd)
{
	/* A new connection (possibly on an SSL object reused with SSL_clear): copied again. */
	struct seq_key mk = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	bpf_map_delete_elem(&muted, &mk);
	if (filtered_out())
		return 0;
	emit_tls_fd((__u64)ssl, fd);
	return 0;
}

#define SSL_CTRL_SET_TLSEXT_HOSTNAME_ 55
#define TLSEXT_NAMETYPE_host_name_ 0

/* SSL_set_tlsext_host_name(s, name) is a macro for SSL_ctrl(s, 55, 0, name). */
SEC("uprobe")
int BPF_UPROBE(ssl_ctrl_enter, void *ssl, int cmd, long larg, void *parg)
{
	if (cmd != SSL_CTRL_SET_TLSEXT_HOSTNAME_ || larg != TLSEXT_NAMETYPE_host_name_ || !parg ||
	    !ssl)
		return 0;
	if (filtered_out())
		return 0;
	struct oisp_tls_name *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_TLS_SNI);
	e->ssl = (__u64)ssl;
	e->_pad = 0;
	long n = bpf_probe_read_user_str(e->name, sizeof(e->name), parg);
	e->len = n > 0 ? n - 1 : 0;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
	return 0;
}

/* SSL_get0_alpn_selected(ssl, &data, &len): the out-pointers, kept for the return probe. */
struct alpn_call {
	__u64 ssl;
	__u64 data;
	__u64 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct alpn_call);
} alpn_calls SEC(".maps");

/* The ALPN already reported per session, so a client asking again costs no record. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct seq_key);
	__type(value, __u8);
} alpn_done SEC(".maps");

SEC("uprobe")
int BPF_UPROBE(ssl_alpn_enter, void *ssl, void *data, void *len)
{
	if (!ssl || !data || !len || filtered_out())
		return 0;
	struct seq_key k = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	if (bpf_map_lookup_elem(&alpn_done, &k))
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct alpn_call c = { .ssl = (__u64)ssl, .data = (__u64)data, .len = (__u64)len };
	bpf_map_update_elem(&alpn_calls, &id, &c, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int ssl_alpn_exit(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct alpn_call *cp = bpf_map_lookup_elem(&alpn_calls, &id);
	if (!cp)
		return 0;
	struct alpn_call c = *cp;
	bpf_map_delete_elem(&alpn_calls, &id);
	__u64 proto = 0;
	__u32 len = 0;
	if (bpf_probe_read_user(&proto, sizeof(proto), (void *)c.data) < 0 || !proto)
		return 0;
	if (bpf_probe_read_user(&len, sizeof(len), (void *)c.len) < 0 || len == 0)
		return 0;
	struct oisp_tls_name *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_TLS_ALPN);
	e->ssl = c.ssl;
	e->_pad = 0;
	if (len > OISP_NAME_LEN - 1)
		len = OISP_NAME_LEN - 1;
	e->len = 0;
	if (bpf_probe_read_user(e->name, len & (OISP_NAME_LEN - 1), (void *)proto) == 0)
		e->len = len;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
	struct seq_key k = { .ssl = c.ssl, .tgid = id >> 32 };
	__u8 one = 1;
	bpf_map_update_elem(&alpn_done, &k, &one, BPF_ANY);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(ssl_free_enter, void *ssl)
{
	if (filtered_out() || !ssl)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct seq_key k = { .ssl = (__u64)ssl, .tgid = tgid, .dir = OISP_DIR_EGRESS };
	bool known = bpf_map_delete_elem(&seqs, &k) == 0;
	k.dir = OISP_DIR_INGRESS;
	known = (bpf_map_delete_elem(&seqs, &k) == 0) || known;
	struct seq_key ak = { .ssl = (__u64)ssl, .tgid = tgid };
	bpf_map_delete_elem(&alpn_done, &ak);
	bpf_map_delete_elem(&muted, &ak);
	if (!known)
		return 0; /* never carried data: not worth a record */
	struct oisp_tls_free *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_TLS_FREE);
	e->ssl = (__u64)ssl;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
	return 0;
}

/* A socket syscall of a thread inside an SSL_* call tells which fd the session uses. */
static __always_inline void note_socket_io(int fd, bool is_write)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_call *c = ssl_calls_open > 0 ? bpf_map_lookup_elem(&ssl_calls, &id) : 0;
	if (c) {
		if (c->fd < 0 && (fd_mode(fd) & S_IFMT_) == S_IFSOCK_)
			c->fd = fd;
		return;
	}
	if (!is_write || !fd_wanted_used)
		return;
	__u64 *ssl = bpf_map_lookup_elem(&fd_wanted, &id);
	if (!ssl)
		return;
	__u64 s = *ssl;
	if ((fd_mode(fd) & S_IFMT_) != S_IFSOCK_)
		return;
	bpf_map_delete_elem(&fd_wanted, &id);
	emit_tls_fd(s, fd);
}

SEC("tracepoint/syscalls/sys_enter_read")
int tls_sys_read(struct trace_event_raw_sys_enter *ctx)
{
	note_socket_io(ctx->args[0], false);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int tls_sys_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
	note_socket_io(ctx->args[0], false);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_readv")
int tls_sys_readv(struct trace_event_raw_sys_enter *ctx)
{
	note_socket_io(ctx->args[0], false);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int tls_sys_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	note_socket_io(ctx->args[0], false);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tls_sys_sendto(struct trace_event_raw_sys_enter *ctx)
{
	note_socket_io(ctx->args[0], true);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int tls_sys_writev(struct trace_event_raw_sys_enter *ctx)
{
	note_socket_io(ctx->args[0], true);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tls_sys_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	note_socket_io(ctx->args[0], true);
	return 0;
}

/* ------------------------------------------------------------ process ---- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (filtered_out())
		return 0;
	__u32 zero = 0;
	struct oisp_exec *e = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!e)
		return 0;
	fill_hdr(&e->h, OISP_EV_EXEC);
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	__u64 ug = bpf_get_current_uid_gid();
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	const char *fname = BPF_CORE_READ(bprm, filename);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), fname);
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	__u64 start = BPF_CORE_READ(mm, arg_start);
	__u64 end = BPF_CORE_READ(mm, arg_end);
	__u64 len = end > start ? end - start : 0;
	if (len > OISP_ARGS_LEN)
		len = OISP_ARGS_LEN;
	e->args_len = 0;
	if (len > 0 && bpf_probe_read_user(e->args, len, (void *)start) == 0)
		e->args_len = len;
	__u64 size = offsetof(struct oisp_exec, args) + e->args_len;
	if (size > sizeof(*e))
		size = sizeof(*e);
	if (bpf_ringbuf_output(&sys_ring, e, size, 0) < 0)
		count_lost(OISP_LOST_SYS, 1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
		return 0; /* a thread, not the process */
	if (filtered_out())
		return 0;
	struct oisp_exit *e = bpf_ringbuf_reserve(&sys_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_SYS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_EXIT);
	e->exit_code = BPF_CORE_READ(p, exit_code);
	e->_pad = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0; /* a new thread */
	if (filtered_out())
		return 0;
	struct oisp_fork *e = bpf_ringbuf_reserve(&sys_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_SYS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_FORK);
	e->parent_pid = BPF_CORE_READ(parent, tgid);
	e->child_pid = BPF_CORE_READ(child, tgid);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* --------------------------------------------------------------- files ---- */

static __always_inline int stash(__u32 nr, __u64 a0, __u64 a1, __u64 a2, __u64 a3, __u64 a4)
{
	if (filtered_out())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct sys_args a = { .a0 = a0, .a1 = a1, .a2 = a2, .a3 = a3, .a4 = a4, .nr = nr };
	bpf_map_update_elem(&sys_pending, &id, &a, BPF_ANY);
	return 0;
}

static __always_inline struct sys_args *take(__u32 nr, struct sys_args *out)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sys_args *a = bpf_map_lookup_elem(&sys_pending, &id);
	if (!a)
		return 0;
	*out = *a;
	bpf_map_delete_elem(&sys_pending, &id);
	if (out->nr != nr)
		return 0;
	return out;
}

static __always_inline struct oisp_file *file_rec(__u32 kind, long ret)
{
	__u32 zero = 0;
	struct oisp_file *f = bpf_map_lookup_elem(&file_scratch, &zero);
	if (!f)
		return 0;
	fill_hdr(&f->h, kind);
	f->result = ret;
	f->bytes = 0;
	f->fd = -1;
	f->flags = 0;
	f->dirfd = -100;
	f->dirfd2 = -100;
	f->path[0] = 0;
	f->path2[0] = 0;
	return f;
}

static __always_inline void file_out(struct oisp_file *f)
{
	if (bpf_ringbuf_output(&sys_ring, f, sizeof(*f), 0) < 0)
		count_lost(OISP_LOST_SYS, 1);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int file_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_OPENAT, ctx->args[0], ctx->args[1], ctx->args[2], 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int file_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct sys_args a;
	if (!take(NR_OPENAT, &a))
		return 0;
	struct oisp_file *f = file_rec(OISP_EV_FILE_OPEN, ctx->ret);
	if (!f)
		return 0;
	f->dirfd = (int)a.a0;
	f->flags = a.a2;
	f->fd = ctx->ret >= 0 ? ctx->ret : -1;
	bpf_probe_read_user_str(f->path, sizeof(f->path), (void *)a.a1);
	file_out(f);
	return 0;
}

/* write(2): ties a TLS session to its socket (as the other socket syscalls above do) and reports
 * writes to regular files, as `write_notes_tls` / `write_reports_files` say. */
SEC("tracepoint/syscalls/sys_enter_write")
int sys_write_enter(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	if (write_notes_tls)
		note_socket_io(fd, true);
	if (!write_reports_files || filtered_out())
		return 0;
	if ((fd_mode(fd) & S_IFMT_) != S_IFREG_)
		return 0;
	struct oisp_file *f = file_rec(OISP_EV_FILE_WRITE, 0);
	if (!f)
		return 0;
	f->fd = fd;
	f->bytes = ctx->args[2];
	if (bpf_ringbuf_output(&sys_ring, f, offsetof(struct oisp_file, path), 0) < 0)
		count_lost(OISP_LOST_SYS, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_renameat2")
int file_renameat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_RENAMEAT, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], ctx->args[4]);
}

SEC("tracepoint/syscalls/sys_enter_renameat")
int file_renameat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_RENAMEAT, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], 0);
}

SEC("tracepoint/syscalls/sys_enter_rename")
int file_rename_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_RENAMEAT, (__u64)-100, ctx->args[0], (__u64)-100, ctx->args[1], 0);
}

static __always_inline int rename_exit(long ret)
{
	struct sys_args a;
	if (!take(NR_RENAMEAT, &a))
		return 0;
	struct oisp_file *f = file_rec(OISP_EV_FILE_RENAME, ret);
	if (!f)
		return 0;
	f->dirfd = (int)a.a0;
	f->dirfd2 = (int)a.a2;
	f->flags = a.a4;
	bpf_probe_read_user_str(f->path, sizeof(f->path), (void *)a.a1);
	bpf_probe_read_user_str(f->path2, sizeof(f->path2), (void *)a.a3);
	file_out(f);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_renameat2")
int file_renameat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return rename_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_renameat")
int file_renameat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return rename_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_rename")
int file_rename_exit(struct trace_event_raw_sys_exit *ctx)
{
	return rename_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int file_unlinkat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_UNLINKAT, ctx->args[0], ctx->args[1], ctx->args[2], 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int file_unlinkat_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct sys_args a;
	if (!take(NR_UNLINKAT, &a))
		return 0;
	struct oisp_file *f = file_rec(OISP_EV_FILE_UNLINK, ctx->ret);
	if (!f)
		return 0;
	f->dirfd = (int)a.a0;
	f->flags = a.a2;
	bpf_probe_read_user_str(f->path, sizeof(f->path), (void *)a.a1);
	file_out(f);
	return 0;
}

/* ------------------------------------------------------------- network ---- */

SEC("tracepoint/syscalls/sys_enter_connect")
int net_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_CONNECT, ctx->args[0], ctx->args[1], ctx->args[2], 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_connect")
int net_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct sys_args a;
	if (!take(NR_CONNECT, &a))
		return 0;
	struct oisp_connect *e = bpf_ringbuf_reserve(&sys_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_SYS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_CONNECT);
	e->result = ctx->ret;
	e->fd = (int)a.a0;
	e->addrlen = a.a2;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	e->sock_type = 0;
	struct file *f = fd_file((int)a.a0);
	if (f) {
		struct socket *sock = BPF_CORE_READ(f, private_data);
		if (sock)
			e->sock_type = BPF_CORE_READ(sock, type);
	}
	__u64 n = a.a2 > OISP_SOCKADDR_LEN ? OISP_SOCKADDR_LEN : a.a2;
	bpf_probe_read_user(e->addr, n, (void *)a.a1);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
