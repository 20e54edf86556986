/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every program family shares: the kernel headers, the kernel-side filters set by userspace
 * before load, the two ring buffers and their loss counters, the per-task helpers (filters,
 * record header, fd -> file), and the syscall-argument stash that enter/exit tracepoint pairs use.
 */
#ifndef OISP_COMMON_BPF_H
#define OISP_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "oisp.h"

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

#endif
