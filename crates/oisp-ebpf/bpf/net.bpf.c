// SPDX-License-Identifier: Apache-2.0
/* Network: connect(2) with its destination and socket type — syscall tracepoints. A connected TCP
 * socket is also followed for plaintext HTTP (sock_plain.bpf.h). */
#include "sock_plain.bpf.h"

/* Set by userspace before load: report connects (the programs also load, without reporting, to
 * follow plaintext sockets). */
const volatile __u8 connect_reports = 1;

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
	plain_connected((int)a.a0, ctx->ret);
	if (!connect_reports)
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
