//! Per-connection decoding state: protocol detection, then dispatch of reassembled segments to
//! the HTTP/1 or HTTP/2 decoder, to the WebSocket decoder after an accepted `Upgrade:
//! websocket`, and ignoring (with a byte count) once the connection is not HTTP, upgraded to
//! another protocol, or abandoned.

use super::codes;
use super::detect::{Detector, Queued, Verdict};
use super::reasm::Seg;
use super::TrackerConfig;
use crate::http::{ChunkMeta, ConnInfo, Emit, End, Flow, H1Conn, H2Conn, HttpOutput, Side};
use crate::ws::{WsConn, WsHandshake};
use oisp_capture::{ConnRole, Direction, Timestamp};

pub(super) enum Proto {
    Detect(Detector),
    H1(Box<H1Conn>),
    H2(Box<H2Conn>),
    Ws(Box<WsConn>),
    Ignored,
}

/// A reassembled segment to decode.
enum Item<'a> {
    Data(&'a [u8]),
    Gap(u64),
}

pub(super) struct ConnState {
    pub info: ConnInfo,
    role: ConnRole,
    /// Direction carrying requests, once known.
    req_dir: Option<Direction>,
    proto: Proto,
    pub ignored: u64,
    pub gap_bytes: u64,
    /// Latest capture time seen on the connection.
    pub last_ts: Timestamp,
}

impl ConnState {
    pub fn new(info: ConnInfo, role: ConnRole, ts: Timestamp) -> Self {
        ConnState {
            info,
            role,
            req_dir: None,
            proto: Proto::Detect(Detector::default()),
            ignored: 0,
            gap_bytes: 0,
            last_ts: ts,
        }
    }

    /// A (late or repeated) ConnOpen: its facts replace ours; the role only counts while the
    /// protocol is still undetermined.
    pub fn update_info(&mut self, mut info: ConnInfo, role: ConnRole) {
        if self.req_dir.is_none() {
            self.role = role;
        } else {
            info.role = self.info.role;
        }
        self.info = info;
    }

    pub fn protocol_name(&self) -> &'static str {
        match &self.proto {
            Proto::Detect(_) => "detecting",
            Proto::H1(_) => "http/1",
            Proto::H2(_) => "h2",
            Proto::Ws(_) => "websocket",
            Proto::Ignored => "ignored",
        }
    }

    pub fn pending(&self) -> usize {
        match &self.proto {
            Proto::H1(h) => h.pending(),
            Proto::H2(h) => h.pending(),
            _ => 0,
        }
    }

    /// Handles one reassembled segment of direction `dir`.
    pub fn on_seg(
        &mut self,
        dir: Direction,
        seg: Seg<'_>,
        cfg: &TrackerConfig,
        out: &mut Vec<HttpOutput>,
    ) {
        match seg {
            Seg::Data(bytes, meta) => self.drive(dir, Item::Data(bytes), meta, cfg, out),
            Seg::Gap { offset, len, meta } => {
                self.gap_bytes = self.gap_bytes.saturating_add(len);
                out.push(HttpOutput::Warning {
                    conn_id: self.info.conn_id,
                    ts: meta.ts,
                    code: codes::STREAM_GAP,
                    message: format!("{len} bytes lost in the {dir:?} stream at offset {offset}"),
                    role: self.info.role,
                });
                self.drive(dir, Item::Gap(len), meta, cfg, out);
            }
        }
    }

    /// Flushes the connection's decoder for reason `end`.
    pub fn end(&mut self, end: End, ts: Timestamp, cfg: &TrackerConfig, out: &mut Vec<HttpOutput>) {
        self.try_detect(true, ts, cfg, out);
        let mut em = Emit {
            info: &self.info,
            limits: &cfg.limits,
            out,
        };
        match &mut self.proto {
            Proto::H1(h) => h.end(end, ts, &mut em),
            Proto::H2(h) => h.end(end, ts, &mut em),
            Proto::Ws(w) => w.end(end, ts, &mut em),
            Proto::Detect(_) | Proto::Ignored => {}
        }
        self.proto = Proto::Ignored;
    }

    fn side(&self, dir: Direction) -> Side {
        if self.req_dir == Some(dir) {
            Side::Request
        } else {
            Side::Response
        }
    }

    fn drive(
        &mut self,
        dir: Direction,
        item: Item<'_>,
        meta: ChunkMeta,
        cfg: &TrackerConfig,
        out: &mut Vec<HttpOutput>,
    ) {
        let side = self.side(dir);
        let start = out.len();
        let mut em = Emit {
            info: &self.info,
            limits: &cfg.limits,
            out,
        };
        let flow = match (&mut self.proto, item) {
            (Proto::Ignored, Item::Data(b)) => {
                self.ignored = self.ignored.saturating_add(b.len() as u64);
                Flow::Continue
            }
            (Proto::Ignored, Item::Gap(_)) => Flow::Continue,
            (Proto::Detect(d), Item::Data(b)) => {
                d.push_data(dir, b, meta);
                self.try_detect(false, meta.ts, cfg, out);
                Flow::Continue
            }
            (Proto::Detect(d), Item::Gap(len)) => {
                d.push_gap(dir, len, meta);
                self.try_detect(false, meta.ts, cfg, out);
                Flow::Continue
            }
            (Proto::H1(h), Item::Data(b)) => h.data(side, b, meta, &mut em),
            (Proto::H1(h), Item::Gap(len)) => h.gap(side, len, meta.ts, &mut em),
            (Proto::H2(h), Item::Data(b)) => h.data(side, b, meta, &mut em),
            (Proto::H2(h), Item::Gap(len)) => h.gap(side, len, meta.ts, &mut em),
            (Proto::Ws(w), Item::Data(b)) => {
                let n = w.data(side, b, meta, &mut em);
                self.ignored = self.ignored.saturating_add(n);
                Flow::Continue
            }
            (Proto::Ws(w), Item::Gap(len)) => {
                w.gap(side, len, meta.ts, &mut em);
                Flow::Continue
            }
        };
        match flow {
            Flow::Continue => {}
            Flow::Upgraded => self.upgrade(start, meta, cfg, out),
            Flow::Abandoned => self.proto = Proto::Ignored,
        }
    }

    /// The HTTP/1 decoder reported an accepted upgrade (its exchange is in `out[start..]`):
    /// a WebSocket upgrade continues with a [`WsConn`] fed the bytes that followed the
    /// handshake; any other protocol is ignored from here on.
    fn upgrade(
        &mut self,
        start: usize,
        meta: ChunkMeta,
        cfg: &TrackerConfig,
        out: &mut Vec<HttpOutput>,
    ) {
        let proto = std::mem::replace(&mut self.proto, Proto::Ignored);
        let Proto::H1(mut h1) = proto else {
            return;
        };
        let hs = out[start.min(out.len())..]
            .iter()
            .rev()
            .find_map(|o| match o {
                HttpOutput::Exchange(x) => WsHandshake::from_exchange(x),
                _ => None,
            });
        let hs = match hs {
            None => return,
            Some(Ok(hs)) => hs,
            Some(Err(e)) => {
                out.push(HttpOutput::Warning {
                    conn_id: self.info.conn_id,
                    ts: meta.ts,
                    code: codes::WS_PROTOCOL_ERROR,
                    message: format!("WebSocket handshake: {e}; the connection is ignored"),
                    role: self.info.role,
                });
                return;
            }
        };
        let mut ws = WsConn::new(hs);
        let mut em = Emit {
            info: &self.info,
            limits: &cfg.limits,
            out,
        };
        for (side, bytes) in [Side::Request, Side::Response]
            .into_iter()
            .zip(h1.take_leftovers())
        {
            if !bytes.is_empty() {
                let n = ws.data(side, &bytes, meta, &mut em);
                self.ignored = self.ignored.saturating_add(n);
            }
        }
        self.proto = Proto::Ws(Box::new(ws));
    }

    /// Runs detection; on a decision, replays the queued segments into the chosen decoder.
    fn try_detect(
        &mut self,
        ended: bool,
        ts: Timestamp,
        cfg: &TrackerConfig,
        out: &mut Vec<HttpOutput>,
    ) {
        let Proto::Detect(d) = &self.proto else {
            return;
        };
        let alpn_h2 = self.info.alpn.as_deref() == Some("h2");
        let verdict = d.decide(self.role, alpn_h2, cfg.max_detect_bytes, ended);
        let (req, proto) = match verdict {
            Verdict::Wait => return,
            Verdict::NotHttp(why) => {
                self.ignored = self.ignored.saturating_add(d.queued_bytes as u64);
                self.proto = Proto::Ignored;
                out.push(HttpOutput::Warning {
                    conn_id: self.info.conn_id,
                    ts,
                    code: codes::NOT_HTTP,
                    message: why,
                    role: self.info.role,
                });
                return;
            }
            Verdict::H1 { req } => (req, Proto::H1(Box::default())),
            Verdict::H2 { req } => (req, Proto::H2(Box::new(H2Conn::new(true)))),
        };
        self.req_dir = Some(req);
        if self.role == ConnRole::Unknown {
            self.info.role = Some(match req {
                Direction::Egress => ConnRole::Client,
                Direction::Ingress => ConnRole::Server,
            });
        }
        let Proto::Detect(d) = std::mem::replace(&mut self.proto, proto) else {
            return;
        };
        for q in d.queue {
            match q {
                Queued::Data(dir, bytes, meta) => {
                    self.drive(dir, Item::Data(&bytes), meta, cfg, out)
                }
                Queued::Gap(dir, len, meta) => self.drive(dir, Item::Gap(len), meta, cfg, out),
            }
        }
    }
}
