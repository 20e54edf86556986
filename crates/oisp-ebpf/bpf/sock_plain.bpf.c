// SPDX-License-Identifier: Apache-2.0
/*
 * Plaintext HTTP on connected TCP sockets (see sock_plain.bpf.h): the exit half of the socket
 * syscalls copies what the kernel moved for a call its enter half kept (or, for a TLS socket
 * followed for its metadata, reports only how much), and close(2) ends the session.
 */
#include "sock_plain.bpf.h"

/* Most iovecs of one readv/writev/recvmsg/sendmsg copied (the rest counted as truncated). */
#define PLAIN_MAX_IOV 64

struct plain_seg_ctx {
	__u64 session;
	__u64 iov;
	__u64 left;
	__s32 fd;
	__u8 is_write;
};

static long plain_seg(__u32 i, void *vctx)
{
	struct plain_seg_ctx *c = vctx;
	if (!c->left)
		return 1;
	struct plain_iov v;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)(c->iov + (__u64)i * sizeof(v))) < 0)
		return 1;
	__u64 n = v.len < c->left ? v.len : c->left;
	if (n)
		tls_emit_as(c->session, v.base, n, c->fd, c->is_write, OISP_ORIGIN_SOCKET);
	c->left -= n;
	return 0;
}

static __always_inline int plain_exit(long ret)
{
	if (!plain_calls_open)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct plain_call *p = bpf_map_lookup_elem(&plain_calls, &id);
	if (!p)
		return 0;
	struct plain_call c = *p;
	if (bpf_map_delete_elem(&plain_calls, &id) == 0)
		__sync_fetch_and_add(&plain_calls_open, -1);
	if (ret <= 0)
		return 0;
	if (c.flow == PLAIN_FLOW) {
		plain_flow_record(OISP_EV_FLOW_IO, c.session, c.fd, ret, c.is_write);
		return 0;
	}
	if (c.flow == PLAIN_DNS) {
		__u64 len = ret;
		__u64 first = plain_first_bytes(c.ptr, c.count, c.mode, &len);
		plain_dns(c.session, c.fd, first, len < (__u64)ret ? len : (__u64)ret);
		return 0;
	}
	if (c.mode == PLAIN_FLAT) {
		tls_emit_as(c.session, c.ptr, ret, c.fd, c.is_write, OISP_ORIGIN_SOCKET);
		return 0;
	}
	struct plain_seg_ctx s = { .session = c.session, .iov = c.ptr, .left = ret, .fd = c.fd,
				   .is_write = c.is_write };
	__u64 iovcnt = c.count;
	if (c.mode == PLAIN_MSG) {
		struct user_msghdr m;
		if (bpf_probe_read_user(&m, sizeof(m), (void *)c.ptr) < 0)
			return 0;
		s.iov = (__u64)m.msg_iov;
		iovcnt = m.msg_iovlen;
	}
	if (iovcnt > PLAIN_MAX_IOV)
		iovcnt = PLAIN_MAX_IOV;
	bpf_loop(iovcnt, plain_seg, &s, 0);
	if (s.left)
		count_lost(OISP_LOST_TRUNCATED_BYTES, s.left);
	return 0;
}

#define PLAIN_EXIT_PROGRAM(name, tp)                                                              \
	SEC("tracepoint/syscalls/" #tp)                                                           \
	int name(struct trace_event_raw_sys_exit *ctx)                                            \
	{                                                                                         \
		return plain_exit(ctx->ret);                                                      \
	}

PLAIN_EXIT_PROGRAM(plain_read_exit, sys_exit_read)
PLAIN_EXIT_PROGRAM(plain_recvfrom_exit, sys_exit_recvfrom)
PLAIN_EXIT_PROGRAM(plain_readv_exit, sys_exit_readv)
PLAIN_EXIT_PROGRAM(plain_recvmsg_exit, sys_exit_recvmsg)
PLAIN_EXIT_PROGRAM(plain_write_exit, sys_exit_write)
PLAIN_EXIT_PROGRAM(plain_sendto_exit, sys_exit_sendto)
PLAIN_EXIT_PROGRAM(plain_writev_exit, sys_exit_writev)
PLAIN_EXIT_PROGRAM(plain_sendmsg_exit, sys_exit_sendmsg)

/* close(2) of a followed socket: forgets it, and ends its session if it carried HTTP, or its
 * metadata-only following (a record). */
SEC("tracepoint/syscalls/sys_enter_close")
int plain_close(struct trace_event_raw_sys_enter *ctx)
{
	if (!plain_socks_used)
		return 0;
	struct sock_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = ctx->args[0] };
	struct plain_sock *ps = bpf_map_lookup_elem(&plain_socks, &k);
	if (!ps)
		return 0;
	__u64 session = ps->session;
	__u8 state = ps->state;
	bpf_map_delete_elem(&plain_socks, &k);
	if (state == PLAIN_HTTP)
		tls_session_free(session);
	else if (state == PLAIN_FLOW)
		plain_flow_record(OISP_EV_FLOW_END, session, k.fd, 0, 0);
	return 0;
}
