// SPDX-License-Identifier: Apache-2.0
/* Files: openat/open/creat, writes to regular files (write, pwrite64, writev), rename*,
 * unlinkat/unlink — syscall tracepoints. The one write(2)
 * program also ties TLS sessions to their socket (tls.bpf.h) and keeps writes to plaintext HTTP
 * sockets (sock_plain.bpf.h), so it includes that machinery. */
#include "sock_plain.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oisp_file);
} file_scratch SEC(".maps");

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
	f->ino = 0;
	f->dev = 0;
	f->name[0] = 0;
	f->path[0] = 0;
	f->path2[0] = 0;
	return f;
}

/* The inode number and device of `file` into `f`. */
static __always_inline void file_identity(struct oisp_file *f, struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	if (!inode)
		return;
	f->ino = BPF_CORE_READ(inode, i_ino);
	f->dev = BPF_CORE_READ(inode, i_sb, s_dev);
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

/* Whether a path of `n` bytes (with its NUL) names a shared library: `.so` at its end or
 * followed by a version (`libssl.so.3`, `libgnutls.so.30`). */
static __always_inline bool open_is_library(const char *path, long n)
{
	for (int back = 4; back <= 10; back++) {
		long i = n - back;
		if (i < 0 || i > OISP_PATH_LEN - 3)
			continue;
		if (path[i] == '.' && path[i + 1] == 's' && path[i + 2] == 'o' &&
		    (path[i + 3] == 0 || path[i + 3] == '.'))
			return true;
	}
	return false;
}

static __always_inline int open_exit(long ret)
{
	struct sys_args a;
	if (!take(NR_OPENAT, &a))
		return 0;
	struct oisp_file *f = file_rec(OISP_EV_FILE_OPEN, ret);
	if (!f)
		return 0;
	f->dirfd = (int)a.a0;
	f->flags = a.a2;
	f->fd = ret >= 0 ? ret : -1;
	if (ret >= 0) {
		struct file *file = fd_file(ret);
		if (file)
			file_identity(f, file);
	}
	long n = bpf_probe_read_user_str(f->path, sizeof(f->path), (void *)a.a1);
	if (n < 1)
		n = 1;
	if (n > sizeof(f->path))
		n = sizeof(f->path);
	/* Only the path is sent, and the reader is not woken for it (opens are the most frequent
	 * record: a wakeup each was most of their cost) — except for a shared library, whose TLS
	 * stack discovery must probe before the process uses it. */
	__u64 size = offsetof(struct oisp_file, path) + n;
	__u64 wake = open_is_library(f->path, n) ? 0 : wake_flags(&sys_ring);
	if (size > sizeof(*f))
		size = sizeof(*f);
	if (bpf_ringbuf_output(&sys_ring, f, size, wake) < 0)
		count_lost(OISP_LOST_SYS, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int file_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

/* open(2) and creat(2): what musl's open() calls on x86-64 (static Rust/Go-less binaries). */
SEC("tracepoint/syscalls/sys_enter_open")
int file_open_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_OPENAT, (__u64)-100, ctx->args[0], ctx->args[1], 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_open")
int file_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

#define O_CREAT_TRUNC_WRONLY_ (01000 | 0100 | 01)

SEC("tracepoint/syscalls/sys_enter_creat")
int file_creat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_OPENAT, (__u64)-100, ctx->args[0], O_CREAT_TRUNC_WRONLY_, 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int file_creat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

/* A write of `bytes` to `fd` when it is a regular file (write, pwrite64, writev). */
static __always_inline void file_write(int fd, __u64 bytes)
{
	if (!write_reports_files || filtered_out())
		return;
	struct file *file = fd_file(fd);
	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT_) != S_IFREG_)
		return;
	struct oisp_file *f = file_rec(OISP_EV_FILE_WRITE, 0);
	if (!f)
		return;
	f->fd = fd;
	f->bytes = bytes;
	file_identity(f, file);
	bpf_probe_read_kernel_str(f->name, sizeof(f->name),
				  BPF_CORE_READ(file, f_path.dentry, d_name.name));
	if (bpf_ringbuf_output(&sys_ring, f, offsetof(struct oisp_file, path), 0) < 0)
		count_lost(OISP_LOST_SYS, 1);
}

SEC("tracepoint/syscalls/sys_enter_pwrite64")
int file_pwrite_enter(struct trace_event_raw_sys_enter *ctx)
{
	file_write(ctx->args[0], ctx->args[2]);
	return 0;
}

/* writev(2) to a file: the bytes are the sum of the first iovecs' lengths (up to 8). */
SEC("tracepoint/syscalls/sys_enter_writev")
int file_writev_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct {
		__u64 base;
		__u64 len;
	} iov[8] = {};
	__u64 n = ctx->args[2] > 8 ? 8 : ctx->args[2];
	__u32 size = n * sizeof(iov[0]);
	if (size > sizeof(iov))
		size = sizeof(iov);
	__u64 bytes = 0;
	if (size && bpf_probe_read_user(iov, size, (void *)ctx->args[1]) == 0) {
		for (int i = 0; i < 8; i++)
			if (i < n)
				bytes += iov[i].len;
	}
	file_write(ctx->args[0], bytes);
	return 0;
}

/* write(2): ties a TLS session to its socket (as the other socket syscalls above do), keeps a write
 * to a plaintext HTTP socket (sock_plain.bpf.h) and reports writes to regular files, as
 * `write_notes_tls` / `write_reports_files` say. */
SEC("tracepoint/syscalls/sys_enter_write")
int sys_write_enter(struct trace_event_raw_sys_enter *ctx)
{
	/* all arguments read first: the compiler otherwise keeps ctx + offset across the calls,
	 * which the verifier refuses */
	int fd = ctx->args[0];
	__u64 buf = ctx->args[1];
	__u64 count = ctx->args[2];
	if (write_notes_tls)
		note_socket_io(fd, true);
	plain_enter(fd, buf, count, PLAIN_FLAT, 1);
	file_write(fd, count);
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

static __always_inline int unlink_exit(long ret)
{
	struct sys_args a;
	if (!take(NR_UNLINKAT, &a))
		return 0;
	struct oisp_file *f = file_rec(OISP_EV_FILE_UNLINK, ret);
	if (!f)
		return 0;
	f->dirfd = (int)a.a0;
	f->flags = a.a2;
	bpf_probe_read_user_str(f->path, sizeof(f->path), (void *)a.a1);
	file_out(f);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int file_unlink_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_UNLINKAT, (__u64)-100, ctx->args[0], 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_unlink")
int file_unlink_exit(struct trace_event_raw_sys_exit *ctx)
{
	return unlink_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int file_unlinkat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stash(NR_UNLINKAT, ctx->args[0], ctx->args[1], ctx->args[2], 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int file_unlinkat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return unlink_exit(ctx->ret);
}
