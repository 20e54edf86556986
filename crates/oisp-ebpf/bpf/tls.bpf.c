// SPDX-License-Identifier: Apache-2.0
/*
 * Socket syscalls that tie a TLS session to its socket, for every stack: a thread inside an
 * SSL_read/SSL_write-like call that reads or writes a socket tells which fd the session uses
 * (write(2) does the same from file.bpf.c, which owns that tracepoint). They also keep the calls
 * on plaintext HTTP sockets for sock_plain.bpf.c.
 */
#include "sock_plain.bpf.h"

SEC("tracepoint/syscalls/sys_enter_read")
int tls_sys_read(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	__u64 ptr = ctx->args[1], count = ctx->args[2];
	note_socket_io(fd, false);
	plain_enter(fd, ptr, count, PLAIN_FLAT, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int tls_sys_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	__u64 ptr = ctx->args[1], count = ctx->args[2];
	note_socket_io(fd, false);
	plain_enter(fd, ptr, count, PLAIN_FLAT, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_readv")
int tls_sys_readv(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	__u64 ptr = ctx->args[1], count = ctx->args[2];
	note_socket_io(fd, false);
	plain_enter(fd, ptr, count, PLAIN_IOV, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int tls_sys_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	__u64 ptr = ctx->args[1], count = ctx->args[2];
	note_socket_io(fd, false);
	plain_enter(fd, ptr, count, PLAIN_MSG, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tls_sys_sendto(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	__u64 ptr = ctx->args[1], count = ctx->args[2];
	note_socket_io(fd, true);
	plain_enter(fd, ptr, count, PLAIN_FLAT, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int tls_sys_writev(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	__u64 ptr = ctx->args[1], count = ctx->args[2];
	note_socket_io(fd, true);
	plain_enter(fd, ptr, count, PLAIN_IOV, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tls_sys_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	int fd = ctx->args[0];
	__u64 ptr = ctx->args[1], count = ctx->args[2];
	note_socket_io(fd, true);
	plain_enter(fd, ptr, count, PLAIN_MSG, 1);
	return 0;
}
