// SPDX-License-Identifier: Apache-2.0
/*
 * OpenSSL (shared libssl, or linked into an executable such as Node): the data functions
 * SSL_read/SSL_write and their _ex forms (or the internal functions both forms meet in, see
 * src/tls/openssl/inner.rs), SSL_set_fd, SSL_free, SSL_ctrl (SNI) and SSL_get0_alpn_selected.
 * Userspace (src/tls/openssl/mod.rs) decides where each program attaches.
 */
#include "tls.bpf.h"

/* SSL_write(ssl, buf, int num) / SSL_read: bytes or <= 0; the _ex forms (and the internal
 * functions both forms meet in): 1 or 0, the length through their fourth argument. */
TLS_DATA_PROGRAMS(ssl_write, CALL_WRITE, 1, 0)
TLS_DATA_PROGRAMS(ssl_read, CALL_READ, 0, 0)
TLS_DATA_PROGRAMS(ssl_write_ex, CALL_WRITE_EX, 1, PT_REGS_PARM4(ctx))
TLS_DATA_PROGRAMS(ssl_read_ex, CALL_READ_EX, 0, PT_REGS_PARM4(ctx))

SEC("uprobe")
int BPF_UPROBE(ssl_set_fd_enter, void *ssl, int fd)
{
	/* A new connection (possibly on an SSL object reused with SSL_clear): copied again. */
	tls_session_new_socket((__u64)ssl, fd);
	return 0;
}

#define SSL_CTRL_SET_TLSEXT_HOSTNAME_ 55
#define TLSEXT_NAMETYPE_host_name_ 0

/* SSL_set_tlsext_host_name(s, name) is a macro for SSL_ctrl(s, 55, 0, name). */
SEC("uprobe")
int BPF_UPROBE(ssl_ctrl_enter, void *ssl, int cmd, long larg, void *parg)
{
	if (cmd != SSL_CTRL_SET_TLSEXT_HOSTNAME_ || larg != TLSEXT_NAMETYPE_host_name_ || !parg ||
	    !ssl)
		return 0;
	if (filtered_out())
		return 0;
	struct oisp_tls_name *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_TLS_SNI);
	e->session = (__u64)ssl;
	e->_pad = 0;
	long n = bpf_probe_read_user_str(e->name, sizeof(e->name), parg);
	e->len = n > 0 ? n - 1 : 0;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
	return 0;
}

/* SSL_get0_alpn_selected(ssl, &data, &len): the out-pointers, kept for the return probe. */
struct alpn_call {
	__u64 ssl;
	__u64 data;
	__u64 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct alpn_call);
} alpn_calls SEC(".maps");

/* The ALPN already reported per session, so a client asking again costs no record. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct seq_key);
	__type(value, __u8);
} alpn_done SEC(".maps");

SEC("uprobe")
int BPF_UPROBE(ssl_alpn_enter, void *ssl, void *data, void *len)
{
	if (!ssl || !data || !len || filtered_out())
		return 0;
	struct seq_key k = { .session = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	if (bpf_map_lookup_elem(&alpn_done, &k))
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct alpn_call c = { .ssl = (__u64)ssl, .data = (__u64)data, .len = (__u64)len };
	bpf_map_update_elem(&alpn_calls, &id, &c, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int ssl_alpn_exit(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct alpn_call *cp = bpf_map_lookup_elem(&alpn_calls, &id);
	if (!cp)
		return 0;
	struct alpn_call c = *cp;
	bpf_map_delete_elem(&alpn_calls, &id);
	__u64 proto = 0;
	__u32 len = 0;
	if (bpf_probe_read_user(&proto, sizeof(proto), (void *)c.data) < 0 || !proto)
		return 0;
	if (bpf_probe_read_user(&len, sizeof(len), (void *)c.len) < 0 || len == 0)
		return 0;
	struct oisp_tls_name *e = bpf_ringbuf_reserve(&tls_ring, sizeof(*e), 0);
	if (!e) {
		count_lost(OISP_LOST_TLS, 1);
		return 0;
	}
	fill_hdr(&e->h, OISP_EV_TLS_ALPN);
	e->session = c.ssl;
	e->_pad = 0;
	if (len > OISP_NAME_LEN - 1)
		len = OISP_NAME_LEN - 1;
	e->len = 0;
	if (bpf_probe_read_user(e->name, len & (OISP_NAME_LEN - 1), (void *)proto) == 0)
		e->len = len;
	bpf_ringbuf_submit(e, wake_flags(&tls_ring));
	struct seq_key k = { .session = c.ssl, .tgid = id >> 32 };
	__u8 one = 1;
	bpf_map_update_elem(&alpn_done, &k, &one, BPF_ANY);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(ssl_free_enter, void *ssl)
{
	if (filtered_out() || !ssl)
		return 0;
	struct seq_key ak = { .session = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	bpf_map_delete_elem(&alpn_done, &ak);
	tls_session_free((__u64)ssl);
	return 0;
}
