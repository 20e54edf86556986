// SPDX-License-Identifier: Apache-2.0
/*
 * Socket syscalls that tie a TLS session to its socket, for every stack: a thread inside an
 * SSL_read/SSL_write-like call that reads or writes a socket tells which fd the session uses
 * (write(2) does the same from file.bpf.c, which owns that tracepoint).
 */
#include "tls.bpf.h"

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
