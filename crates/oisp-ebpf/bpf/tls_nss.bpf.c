// SPDX-License-Identifier: Apache-2.0
/*
 * NSS (shared libssl3.so over NSPR's libnspr4.so): an application reads and writes an SSL socket
 * with NSPR's PR_Write/PR_Read/PR_Send/PR_Recv on the socket's PRFileDesc, whose top I/O layer is
 * NSS's SSL layer (SSL_ImportFD pushes it on the TCP socket's descriptor). The SSL layer talks
 * to the layer below through that layer's method table, never through PR_Write & co., so these
 * four functions see the application's plaintext once. Userspace (src/tls/nss.rs) decides where
 * each program attaches. The session key is the top-layer PRFileDesc*.
 *
 * The SSL-fd rule. PR_Write & co. also serve files, pipes and plain sockets, and every process
 * that maps libnspr4 gets these probes, so a call is copied only when its PRFileDesc is the SSL
 * layer of this process: its `identity` and `methods` are the ones NSS's SSL layer has in this
 * process, and it has a lower layer. Both are fixed for the life of the process (the identity
 * PR_GetUniqueIdentity("SSL") gave, the address of libssl3's one method table for SSL layers)
 * and are learnt at the return of SSL_ImportFD, whose result is the descriptor with the SSL layer
 * on top (PR_PushIOLayer onto the top of a stack swaps the contents so the pointer the caller
 * holds stays the top). The method table's address also keeps a stale entry (a process id reused,
 * an exec) from matching another process's layers. Limits: a process's SSL sockets are followed only after the
 * sensor saw one SSL_ImportFD of that process (sockets imported before the sensor started, or by
 * the parent before a fork, are not); a socket with another layer pushed above NSS's SSL layer
 * (the SSL layer not on top) is not followed.
 *
 * PR_Write(fd, buf, amount), PR_Read(fd, buf, amount), PR_Send(fd, buf, amount, flags,
 * timeout), PR_Recv(fd, buf, amount, flags, timeout): a PRInt32 of bytes, 0 at end of stream, -1
 * on error (CALL_WRITE / CALL_READ). The socket comes from the socket syscalls the SSL layer makes
 * inside these calls (tls.bpf.c). PR_Close(fd) on the SSL descriptor ends the session;
 * SSL_SetURL(fd, url) gives the server name NSS sends as SNI.
 */
#include "tls.bpf.h"

/* PRFileDesc (prio.h): { methods, secret, lower, higher, dtor, identity }. */
struct nss_prfiledesc {
	__u64 methods;
	__u64 secret;
	__u64 lower;
	__u64 higher;
	__u64 dtor;
	__s32 identity;
};

/* What NSS's SSL layer looks like in one process. */
struct nss_ssl_layer {
	__u64 methods;
	__s32 identity;
	__u32 _pad;
};

/* The SSL layer per process (tgid), learnt at SSL_ImportFD's return. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct nss_ssl_layer);
} nss_ssl_layers SEC(".maps");

/* Whether `fd` is an SSL socket of this process: a descriptor with a lower layer whose identity
 * and method table are this process's SSL layer's (the file's rule above). */
static __always_inline bool nss_is_ssl(__u64 fd)
{
	if (!fd)
		return false;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct nss_ssl_layer *ssl = bpf_map_lookup_elem(&nss_ssl_layers, &tgid);
	if (!ssl)
		return false;
	struct nss_prfiledesc d;
	if (bpf_probe_read_user(&d, sizeof(d), (void *)fd) < 0)
		return false;
	return d.identity == ssl->identity && d.methods == ssl->methods && d.lower != 0;
}

/* Entry of a data call on `fd`: 1 (no return needed) unless `fd` is an SSL socket. */
static __always_inline int nss_call_enter(__u64 fd, __u64 buf, __u32 kind)
{
	if (!nss_is_ssl(fd))
		return 1;
	return tls_call_enter(fd, buf, 0, kind);
}

/* The programs of one NSPR data function (fd, buf, amount, …) returning a PRInt32: as
 * TLS_DATA_PROGRAMS, with the SSL-fd rule applied at entry. */
#define NSS_DATA_PROGRAMS(name, kind, is_write)                                                   \
	SEC("uprobe")                                                                             \
	int name##_enter(struct pt_regs *ctx)                                                     \
	{                                                                                         \
		nss_call_enter(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), kind);                     \
		return 0;                                                                         \
	}                                                                                         \
	SEC("uretprobe")                                                                          \
	int name##_exit(struct pt_regs *ctx)                                                      \
	{                                                                                         \
		return tls_call_exit(ctx, is_write);                                              \
	}                                                                                         \
	SEC("uprobe.session")                                                                     \
	int name##_sess(struct pt_regs *ctx)                                                      \
	{                                                                                         \
		if (bpf_session_is_return()) {                                                    \
			tls_call_exit(ctx, is_write);                                             \
			return 0;                                                                 \
		}                                                                                 \
		return nss_call_enter(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), kind);              \
	}

/* PR_Write and PR_Send; PR_Read and PR_Recv. */
NSS_DATA_PROGRAMS(nss_write, CALL_WRITE, 1)
NSS_DATA_PROGRAMS(nss_read, CALL_READ, 0)

/* The SSL layer's identity and method table from a descriptor SSL_ImportFD returned (NULL: it
 * failed); a new
 * connection on that descriptor's address is copied again (unmuted). */
static __always_inline void nss_imported(__u64 fd)
{
	if (!fd)
		return;
	struct nss_prfiledesc d;
	if (bpf_probe_read_user(&d, sizeof(d), (void *)fd) < 0)
		return;
	/* Identities of real layers are > 0 (0 is NSPR's own bottom layer, < 0 are markers). */
	if (d.identity <= 0 || !d.lower || !d.methods)
		return;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct nss_ssl_layer layer = { .methods = d.methods, .identity = d.identity };
	bpf_map_update_elem(&nss_ssl_layers, &tgid, &layer, BPF_ANY);
	struct seq_key mk = { .session = fd, .tgid = tgid };
	bpf_map_delete_elem(&muted, &mk);
}

/* SSL_ImportFD(model, fd) → the SSL descriptor. The entry program only pairs with the return
 * program (uprobe/uretprobe); the session program does the same in one. */
SEC("uprobe")
int nss_import_enter(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe")
int nss_import_exit(struct pt_regs *ctx)
{
	nss_imported(PT_REGS_RC(ctx));
	return 0;
}

SEC("uprobe.session")
int nss_import_sess(struct pt_regs *ctx)
{
	if (bpf_session_is_return())
		nss_imported(PT_REGS_RC(ctx));
	return 0;
}

/* SSL_SetURL(fd, url): the host name NSS sends as SNI (NUL-terminated). */
SEC("uprobe")
int BPF_UPROBE(nss_set_url_enter, void *fd, const char *url)
{
	if (!url || !nss_is_ssl((__u64)fd) || filtered_out())
		return 0;
	struct oisp_tls_name *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_TLS_SNI);
	e->session = (__u64)fd;
	e->_pad = 0;
	long n = bpf_probe_read_user_str(e->name, sizeof(e->name), url);
	e->len = n > 0 ? n - 1 : 0;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
	return 0;
}

/* PR_Close(fd) on an SSL descriptor: the end of the session (its address may be reused). */
SEC("uprobe")
int BPF_UPROBE(nss_close_enter, void *fd)
{
	if (!nss_is_ssl((__u64)fd) || filtered_out())
		return 0;
	tls_session_free((__u64)fd);
	return 0;
}
