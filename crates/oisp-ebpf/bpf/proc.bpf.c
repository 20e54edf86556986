// SPDX-License-Identifier: Apache-2.0
/* Process lifecycle: exec (with argv), exit, fork — BTF tracepoints. */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oisp_exec);
} exec_scratch SEC(".maps");

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
	e->cgroup_id = bpf_get_current_cgroup_id();
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
