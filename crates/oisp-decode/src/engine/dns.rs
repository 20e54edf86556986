//! DNS answers a process read from its resolver (`DnsMessage` records) → `network.dns` events, and
//! the names they give to addresses: a `network.connect` to an address gets its domain from the
//! answer that named it when no TLS server name does.
//!
//! The parser reads only what is needed (RFC 1035 §4: header, the first question, answer records
//! of type A, AAAA and CNAME), with every length and compression pointer checked: a message cut
//! short or malformed gives what was read before the damage, or nothing, never a panic.

use super::context::EventContext;
use super::Decoder;
use oisp_capture::DnsMessage;
use oisp_event::{DnsAnswer, DnsQueryType, DnsResponseCode, Event, NetworkDns};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Addresses remembered at most; past it the map starts afresh.
const MAX_NAMES: usize = 65_536;
/// Answer records read from one message at most.
const MAX_ANSWERS: usize = 64;

/// One answer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub name: String,
    pub rtype: u16,
    pub ttl: u32,
    /// The address (A/AAAA) or target name (CNAME); `None` for other types.
    pub value: Option<String>,
}

/// What a DNS response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub rcode: u8,
    pub qname: String,
    pub qtype: u16,
    pub answers: Vec<Record>,
}

struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.msg.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A domain name at the cursor (compression pointers followed, at most 32 of them, each
    /// pointing backwards), lowercased, without the final dot; the cursor moves past it.
    fn name(&mut self) -> Option<String> {
        let mut out = String::new();
        let mut pos = self.pos;
        let mut jumped = false;
        for _ in 0..128 {
            let len = *self.msg.get(pos)? as usize;
            match len & 0xc0 {
                0x00 if len == 0 => {
                    if !jumped {
                        self.pos = pos + 1;
                    }
                    return Some(out);
                }
                0x00 => {
                    let label = self.msg.get(pos + 1..pos + 1 + len)?;
                    if !out.is_empty() {
                        out.push('.');
                    }
                    if out.len() + len > 253 {
                        return None;
                    }
                    out.extend(label.iter().map(|b| match b {
                        b'A'..=b'Z' => (b | 0x20) as char,
                        b' '..=b'~' => *b as char,
                        _ => '?',
                    }));
                    pos += 1 + len;
                }
                0xc0 => {
                    let target = (len & 0x3f) << 8 | *self.msg.get(pos + 1)? as usize;
                    if target >= pos {
                        return None; // pointers only go back: no loops
                    }
                    if !jumped {
                        self.pos = pos + 2;
                        jumped = true;
                    }
                    pos = target;
                }
                _ => return None,
            }
        }
        None
    }
}

/// Parses a DNS response; `None` for a query, or bytes too short or malformed for a header and
/// question.
pub(crate) fn parse(msg: &[u8]) -> Option<Response> {
    let mut r = Reader { msg, pos: 0 };
    r.u16()?; // id
    let flags = r.u16()?;
    if flags & 0x8000 == 0 {
        return None; // a query
    }
    let qdcount = r.u16()?;
    let ancount = r.u16()?;
    r.u16()?; // authority
    r.u16()?; // additional
    if qdcount == 0 {
        return None;
    }
    let qname = r.name()?;
    let qtype = r.u16()?;
    r.u16()?; // class
    for _ in 1..qdcount.min(8) {
        r.name()?;
        r.take(4)?;
    }
    let mut answers = Vec::new();
    for _ in 0..(ancount as usize).min(MAX_ANSWERS) {
        let Some(rec) = record(&mut r) else { break };
        answers.push(rec);
    }
    Some(Response {
        rcode: (flags & 0x0f) as u8,
        qname,
        qtype,
        answers,
    })
}

fn record(r: &mut Reader) -> Option<Record> {
    let name = r.name()?;
    let rtype = r.u16()?;
    r.u16()?; // class
    let ttl = r.u32()?;
    let len = r.u16()? as usize;
    let start = r.pos;
    let data = r.take(len)?;
    let value = match (rtype, len) {
        (1, 4) => Some(Ipv4Addr::new(data[0], data[1], data[2], data[3]).to_string()),
        (28, 16) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(data);
            Some(Ipv6Addr::from(a).to_string())
        }
        (5, _) => Reader {
            msg: r.msg,
            pos: start,
        }
        .name(),
        _ => None,
    };
    Some(Record {
        name,
        rtype,
        ttl,
        value,
    })
}

fn type_name(t: u16) -> &'static str {
    match t {
        1 => "A",
        28 => "AAAA",
        5 => "CNAME",
        15 => "MX",
        16 => "TXT",
        2 => "NS",
        12 => "PTR",
        33 => "SRV",
        65 => "HTTPS",
        _ => "other",
    }
}

fn query_type(t: u16) -> DnsQueryType {
    match t {
        1 => DnsQueryType::A,
        28 => DnsQueryType::Aaaa,
        5 => DnsQueryType::Cname,
        15 => DnsQueryType::Mx,
        16 => DnsQueryType::Txt,
        2 => DnsQueryType::Ns,
        12 => DnsQueryType::Ptr,
        33 => DnsQueryType::Srv,
        _ => DnsQueryType::Other,
    }
}

/// The names DNS answers gave to addresses (the question's name: what the process asked for,
/// not the CNAME target).
#[derive(Debug, Default)]
pub(crate) struct DnsNames {
    by_addr: HashMap<IpAddr, String>,
}

impl DnsNames {
    pub(crate) fn learn(&mut self, resp: &Response) {
        for a in &resp.answers {
            let Some(ip) = a.value.as_deref().and_then(|v| v.parse::<IpAddr>().ok()) else {
                continue;
            };
            if self.by_addr.len() >= MAX_NAMES && !self.by_addr.contains_key(&ip) {
                self.by_addr.clear();
            }
            self.by_addr.insert(ip, resp.qname.clone());
        }
    }

    /// The name an answer gave to `ip`.
    pub(crate) fn name_of(&self, ip: IpAddr) -> Option<&str> {
        self.by_addr.get(&ip).map(String::as_str)
    }
}

impl Decoder {
    /// A DNS message a process read: a `network.dns` event when it is a response (its addresses
    /// remembered for later connects), nothing otherwise.
    pub(super) fn dns_event(&mut self, m: &DnsMessage) -> Option<Event> {
        let resp = parse(&m.bytes)?;
        self.dns_names.learn(&resp);
        let ctx = EventContext::for_system(self, m.pid, m.tid);
        let id = ctx.event_id(self, "dns", m.ts);
        let mut data = NetworkDns::new(resp.qname.clone(), query_type(resp.qtype));
        data.response_code = Some(match resp.rcode {
            0 => DnsResponseCode::NoError,
            2 => DnsResponseCode::ServFail,
            3 => DnsResponseCode::NxDomain,
            5 => DnsResponseCode::Refused,
            _ => DnsResponseCode::Other,
        });
        data.answers = Some(
            resp.answers
                .iter()
                .map(|a| DnsAnswer {
                    kind: Some(type_name(a.rtype).to_string()),
                    value: a.value.clone(),
                    ttl: Some(a.ttl.into()),
                })
                .collect(),
        );
        data.resolver = m.server.map(|s| s.ip().to_string());
        Some(ctx.event(data, m.ts, &id, "recvfrom"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response to `qname`/`qtype` with `answers` (name pointer to the question, type, data).
    fn response(qname: &str, qtype: u16, rcode: u8, answers: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80 | rcode, 0, 1];
        m.extend((answers.len() as u16).to_be_bytes());
        m.extend([0, 0, 0, 0]);
        for l in qname.split('.') {
            m.push(l.len() as u8);
            m.extend(l.as_bytes());
        }
        m.push(0);
        m.extend(qtype.to_be_bytes());
        m.extend([0, 1]);
        for (t, data) in answers {
            m.extend([0xc0, 12]);
            m.extend(t.to_be_bytes());
            m.extend([0, 1, 0, 0, 0x0e, 0x10]);
            m.extend((data.len() as u16).to_be_bytes());
            m.extend(data);
        }
        m
    }

    #[test]
    fn reads_a_aaaa_and_cname_answers() {
        // CNAME data: "cdn" + pointer to the question name
        let cname = vec![3, b'c', b'd', b'n', 0xc0, 12];
        let m = response(
            "API.OpenAI.com",
            1,
            0,
            &[(5, cname), (1, vec![104, 18, 7, 192]), (28, vec![0; 16])],
        );
        let r = parse(&m).unwrap();
        assert_eq!(
            (r.qname.as_str(), r.qtype, r.rcode),
            ("api.openai.com", 1, 0)
        );
        let values: Vec<Option<&str>> = r.answers.iter().map(|a| a.value.as_deref()).collect();
        assert_eq!(
            values,
            [Some("cdn.api.openai.com"), Some("104.18.7.192"), Some("::")]
        );
        assert_eq!(r.answers[1].ttl, 3600);
        let mut names = DnsNames::default();
        names.learn(&r);
        assert_eq!(
            names.name_of("104.18.7.192".parse().unwrap()),
            Some("api.openai.com")
        );
    }

    #[test]
    fn queries_cut_messages_and_pointer_loops_never_panic() {
        let m = response("api.anthropic.com", 28, 3, &[(1, vec![1, 2, 3, 4])]);
        for n in 0..m.len() {
            let _ = parse(&m[..n]);
        }
        assert_eq!(parse(&m).unwrap().rcode, 3);
        let mut query = m.clone();
        query[2] = 0x01;
        assert_eq!(parse(&query), None);
        // a name pointing at itself
        let mut looped = m.clone();
        looped[12] = 0xc0;
        looped[13] = 12;
        assert_eq!(parse(&looped), None);
        let mut x: u64 = 0x2545f4914f6cdd1d;
        for _ in 0..5000 {
            let mut b = m.clone();
            for _ in 0..3 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x as usize) % b.len();
                b[i] = (x >> 40) as u8;
            }
            let _ = parse(&b);
        }
    }
}
