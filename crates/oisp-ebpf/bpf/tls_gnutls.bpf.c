// SPDX-License-Identifier: Apache-2.0
/*
 * GnuTLS (shared libgnutls.so*): the data functions gnutls_record_send(2) and
 * gnutls_record_recv(_seq), gnutls_deinit (end of a session), gnutls_server_name_set (SNI) and
 * gnutls_alpn_get_selected_protocol (ALPN). Userspace (src/tls/gnutls.rs) decides where each
 * program attaches. The session key is the gnutls_session_t.
 *
 * The data functions return ssize_t: bytes sent/received, 0 at end of stream, < 0 a GnuTLS error
 * (GNUTLS_E_AGAIN, GNUTLS_E_INTERRUPTED, …): CALL_WRITE_LONG / CALL_READ_LONG. GnuTLS's default
 * transport calls send/recv on the socket inside them, so the socket syscalls (tls.bpf.c) tie the
 * session to its socket; there is no SSL_set_fd-like probe (gnutls_transport_set_ptr takes any
 * pointer, not surely an fd).
 */
#include "tls.bpf.h"

/* gnutls_record_send(session, data, size) and gnutls_record_send2(session, data, size, pad,
 * flags) — the first three arguments are the same —, gnutls_record_recv(session, data, size) and
 * gnutls_record_recv_seq(session, data, size, seq): a 64-bit ssize_t of bytes, or <= 0. */
TLS_DATA_PROGRAMS(gnutls_send, CALL_WRITE_LONG, 1, 0)
TLS_DATA_PROGRAMS(gnutls_recv, CALL_READ_LONG, 0, 0)

#define GNUTLS_NAME_DNS_ 1

/* gnutls_server_name_set(session, type, name, name_length): the name is not NUL-terminated;
 * name_length bytes are copied (at most OISP_NAME_LEN - 1). */
SEC("uprobe")
int BPF_UPROBE(gnutls_sni_enter, void *session, int type, const void *name, __u64 name_length)
{
	if (type != GNUTLS_NAME_DNS_ || !session || !name || name_length == 0)
		return 0;
	if (filtered_out())
		return 0;
	struct oisp_tls_name *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_TLS_SNI);
	e->session = (__u64)session;
	e->_pad = 0;
	__u32 len = name_length > OISP_NAME_LEN - 1 ? OISP_NAME_LEN - 1 : name_length;
	e->len = 0;
	if (bpf_probe_read_user(e->name, len & (OISP_NAME_LEN - 1), name) == 0)
		e->len = len;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
	return 0;
}

/* gnutls_alpn_get_selected_protocol(session, gnutls_datum_t *protocol) → 0 on success, the
 * datum ({unsigned char *data; unsigned int size}) filled in: kept from entry to return. */
struct gnutls_alpn_call {
	__u64 session;
	__u64 datum;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct gnutls_alpn_call);
} gnutls_alpn_calls SEC(".maps");

/* The ALPN already reported per session, so a client asking again costs no record. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct seq_key);
	__type(value, __u8);
} gnutls_alpn_done SEC(".maps");

SEC("uprobe")
int BPF_UPROBE(gnutls_alpn_enter, void *session, void *datum)
{
	if (!session || !datum || filtered_out())
		return 0;
	struct seq_key k = { .session = (__u64)session, .tgid = bpf_get_current_pid_tgid() >> 32 };
	if (bpf_map_lookup_elem(&gnutls_alpn_done, &k))
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct gnutls_alpn_call c = { .session = (__u64)session, .datum = (__u64)datum };
	bpf_map_update_elem(&gnutls_alpn_calls, &id, &c, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int gnutls_alpn_exit(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gnutls_alpn_call *cp = bpf_map_lookup_elem(&gnutls_alpn_calls, &id);
	if (!cp)
		return 0;
	struct gnutls_alpn_call c = *cp;
	bpf_map_delete_elem(&gnutls_alpn_calls, &id);
	if ((int)PT_REGS_RC(ctx) != 0)
		return 0; /* GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE: none negotiated */
	struct {
		__u64 data;
		__u32 size;
	} datum = {};
	if (bpf_probe_read_user(&datum, 12, (void *)c.datum) < 0 || !datum.data || !datum.size)
		return 0;
	struct oisp_tls_name *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_TLS_ALPN);
	e->session = c.session;
	e->_pad = 0;
	__u32 len = datum.size > OISP_NAME_LEN - 1 ? OISP_NAME_LEN - 1 : datum.size;
	e->len = 0;
	if (bpf_probe_read_user(e->name, len & (OISP_NAME_LEN - 1), (void *)datum.data) == 0)
		e->len = len;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
	struct seq_key k = { .session = c.session, .tgid = id >> 32 };
	__u8 one = 1;
	bpf_map_update_elem(&gnutls_alpn_done, &k, &one, BPF_ANY);
	return 0;
}

/* gnutls_deinit(session): the end of the session (its address may be reused by the next). */
SEC("uprobe")
int BPF_UPROBE(gnutls_deinit_enter, void *session)
{
	if (filtered_out() || !session)
		return 0;
	struct seq_key k = { .session = (__u64)session, .tgid = bpf_get_current_pid_tgid() >> 32 };
	bpf_map_delete_elem(&gnutls_alpn_done, &k);
	tls_session_free((__u64)session);
	return 0;
}
