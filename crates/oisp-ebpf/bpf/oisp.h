/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one header shared by every BPF program of oisp-sensor: the layout of every record the
 * kernel side writes into the ring buffers. crates/oisp-ebpf/src/wire.rs reads them by offset;
 * layout.bpf.h puts every struct and enum here into the object's BTF, the skeleton turns them
 * into Rust types, and wire.rs checks its offsets, sizes and constants against those at compile
 * time: a change here that wire.rs does not follow fails the build.
 *
 * Every record starts with struct oisp_hdr. All integers are host order (little-endian).
 */
#ifndef OISP_H
#define OISP_H

#define OISP_COMM_LEN 16
/* Plaintext bytes per TLS data record. */
#define OISP_CHUNK 16384
/* Most plaintext bytes copied from one SSL_read/SSL_write call (16 MiB); the rest is counted
 * as truncated. */
#define OISP_MAX_CALL (16 * 1024 * 1024)
#define OISP_MAX_CHUNKS (OISP_MAX_CALL / OISP_CHUNK)
#define OISP_PATH_LEN 512
/* Bytes kept of a written file's own name (struct oisp_file.name). */
#define OISP_FILE_NAME_LEN 64
#define OISP_ARGS_LEN 4096
#define OISP_SOCKADDR_LEN 28
/* Longest SNI host name / ALPN protocol id kept (DNS names are at most 253 bytes). */
#define OISP_NAME_LEN 256

/* Record kinds (oisp_hdr.kind). Enums rather than #defines so that they reach the BTF. */
enum oisp_ev_kind {
	OISP_EV_TLS_DATA = 1,
	OISP_EV_TLS_FD = 2,
	OISP_EV_TLS_FREE = 3,
	OISP_EV_EXEC = 4,
	OISP_EV_EXIT = 5,
	OISP_EV_FORK = 6,
	OISP_EV_FILE_OPEN = 7,
	OISP_EV_FILE_WRITE = 8,
	OISP_EV_FILE_RENAME = 9,
	OISP_EV_FILE_UNLINK = 10,
	OISP_EV_CONNECT = 11,
	OISP_EV_TLS_SNI = 12,
	OISP_EV_TLS_ALPN = 13,
	OISP_EV_FLOW_IO = 14,
	OISP_EV_FLOW_END = 15,
};

/* Directions (oisp_tls_data.dir). */
enum oisp_dir {
	OISP_DIR_EGRESS = 0,
	OISP_DIR_INGRESS = 1,
};

/* Indexes of the lost-record counters (map `lost`). */
enum oisp_lost_slot {
	OISP_LOST_TLS = 0,
	OISP_LOST_SYS = 1,
	OISP_LOST_TRUNCATED_BYTES = 2,
	OISP_LOST_SLOTS = 3,
};

/* Indexes of the per-CPU counters of TLS data calls skipped without a copy (map `skips`), and
 * values of map `muted`: why a session is no longer copied. */
enum oisp_skip {
	OISP_SKIP_SERVER = 0,  /* a server-side session (the process accepted the connection) */
	OISP_SKIP_IGNORED = 1, /* a client session the decoder found to carry no AI traffic */
	OISP_SKIP_SLOTS = 2,
};

/* oisp_tls_data.origin of plaintext read at the socket syscalls (sock_plain.bpf.c) rather than at a
 * TLS stack's functions (whose origins are the attach cookies of their probes, see src/tls). */
enum oisp_origin {
	OISP_ORIGIN_SOCKET = 255,
	/* the start of a TLS ClientHello a client wrote on a connected socket (its server name is
	 * known even where no TLS stack of the process is hooked) */
	OISP_ORIGIN_HELLO = 254,
	/* a DNS message a process read on a UDP socket it connected to port 53 (an answer from its
	 * resolver: glibc's stub resolver connects, sends, then receives) */
	OISP_ORIGIN_DNS = 253,
};

struct oisp_hdr {
	__u32 kind;
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 _pad;
	__u64 ts_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
};

/* One chunk of plaintext of one data call (SSL_read/SSL_write or a TLS stack's equivalent). */
struct oisp_tls_data {
	struct oisp_hdr h;
	__u64 session;  /* the TLS stack's session key (OpenSSL: the SSL*, in the process's memory) */
	__u64 seq;      /* byte offset of data[0] in this session+direction's stream */
	__u32 len;      /* bytes in data[] */
	__u32 truncated; /* bytes of the call cut off after this chunk (last chunk only) */
	__s32 fd;       /* socket fd used during the call, -1 if none was seen */
	__u8 dir;       /* OISP_DIR_* */
	__u8 origin;    /* the probe's attach cookie: which TLS stack, shared or linked in (src/tls) */
	__u8 _pad[2];
	__u8 data[OISP_CHUNK];
};

/* A session was tied to a socket fd (SSL_set_fd, the first socket I/O inside an SSL_read/
 * SSL_write, or the first socket write after SSL_write on a memory BIO), with the socket's
 * addresses read from the kernel at that moment (family 0: not a connected inet socket). */
struct oisp_tls_fd {
	struct oisp_hdr h;
	__u64 session;
	__s32 fd;
	__u16 family; /* AF_INET 2, AF_INET6 10, or 0 */
	__u16 lport;  /* host order */
	__u16 rport;  /* host order */
	__u16 _pad[3];
	__u8 laddr[16]; /* IPv4: first 4 bytes */
	__u8 raddr[16];
};

/* The session ends (SSL_free). */
struct oisp_tls_free {
	struct oisp_hdr h;
	__u64 session;
};

/* A name of a session: the SNI host name the client set (SSL_ctrl SSL_CTRL_SET_TLSEXT_HOSTNAME)
 * for OISP_EV_TLS_SNI, the negotiated protocol (SSL_get0_alpn_selected) for OISP_EV_TLS_ALPN. */
struct oisp_tls_name {
	struct oisp_hdr h;
	__u64 session;
	__u32 len; /* bytes in name[] */
	__u32 _pad;
	char name[OISP_NAME_LEN];
};

struct oisp_exec {
	struct oisp_hdr h;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 args_len; /* bytes in args[]: NUL-separated argv */
	__u64 cgroup_id; /* the task's cgroup v2 id (its directory's inode in the cgroup2 mount) */
	char comm[OISP_COMM_LEN];
	char filename[OISP_PATH_LEN];
	char args[OISP_ARGS_LEN];
};

struct oisp_exit {
	struct oisp_hdr h;
	__s32 exit_code; /* task->exit_code: (status << 8) | signal */
	__u32 _pad;
};

struct oisp_fork {
	struct oisp_hdr h;
	__u32 parent_pid;
	__u32 child_pid;
};

/* openat (fd = result), write to a regular file, renameat(2), unlinkat. A write record ends
 * before `path`. */
struct oisp_file {
	struct oisp_hdr h;
	__s64 result;
	__u64 bytes;  /* write: bytes requested */
	__s32 fd;     /* write: fd; open: the new fd (or -1) */
	__u32 flags;  /* openat flags / unlinkat flags / renameat2 flags */
	__s32 dirfd;  /* openat/unlinkat/rename old dirfd */
	__s32 dirfd2; /* rename new dirfd */
	__u64 ino;    /* open (success) and write: the file's inode number (0: unknown) */
	__u32 dev;    /* ... and its device (the kernel's s_dev) */
	/* write: the file's own name (last path component) from the kernel, for when no open of it
	 * was seen and the process is gone before userspace can look in /proc */
	char name[OISP_FILE_NAME_LEN];
	char path[OISP_PATH_LEN];
	char path2[OISP_PATH_LEN];
};

struct oisp_connect {
	struct oisp_hdr h;
	__s64 result;
	__s32 fd;
	__u32 addrlen;
	__u8 addr[OISP_SOCKADDR_LEN]; /* struct sockaddr as passed to connect(2) */
	__u32 sock_type; /* SOCK_STREAM 1, SOCK_DGRAM 2, 0 unknown */
};

/* Activity on a TLS socket followed for its metadata only (sock_plain.bpf.h: a socket whose first
 * write was a ClientHello): one record per read/write that moved bytes (OISP_EV_FLOW_IO: `len`
 * bytes, `dir`), and one when the process closes it (OISP_EV_FLOW_END, `len` 0). No content. */
struct oisp_flow {
	struct oisp_hdr h;
	__u64 session; /* the socket's struct sock address, as in its ClientHello record */
	__u32 len;     /* bytes the call moved */
	__s32 fd;
	__u8 dir;      /* OISP_DIR_* */
	__u8 _pad[7];
};

#endif
