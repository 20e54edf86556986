// SPDX-License-Identifier: Apache-2.0
/* Files: openat, writes to regular files, rename*, unlinkat — syscall tracepoints. The one write(2)
 * program also ties TLS sessions to their socket (tls.bpf.h), so it includes the TLS machinery. */
#include "tls.bpf.h"

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
