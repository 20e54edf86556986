// Loaded by `oisp-sensor run` (and `proxy --print-env`) through NODE_OPTIONS=--require.
//
// Node's built-in fetch (undici) — the transport of the npm `openai` and `anthropic` SDKs and of
// most agents — honours HTTPS_PROXY only from Node 24 / 22.21 with NODE_USE_ENV_PROXY=1. On older
// Node this file gives fetch's global dispatcher a connector that opens each https connection
// through the proxy with CONNECT, then TLS inside the tunnel (trusting NODE_EXTRA_CA_CERTS as
// usual). Hosts in NO_PROXY and plain http:// origins connect directly. Nothing else changes:
// newer Node, or no HTTPS_PROXY, and this file does nothing.
'use strict';
(function routeFetchThroughProxy() {
  const proxyUrl = process.env.HTTPS_PROXY || process.env.https_proxy;
  if (!proxyUrl) return;
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major >= 24 || (major === 22 && minor >= 21)) return; // NODE_USE_ENV_PROXY does it
  const key = Symbol.for('undici.globalDispatcher.1');
  if (typeof globalThis.Headers !== 'function') return; // loads undici, which sets its dispatcher
  const current = globalThis[key];
  if (!current || typeof current.constructor !== 'function') return;
  const Agent = current.constructor;
  const net = require('net');
  const tls = require('tls');
  let proxy;
  try {
    proxy = new URL(proxyUrl);
  } catch {
    return;
  }
  const noProxy = (process.env.NO_PROXY || process.env.no_proxy || '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

  function bypass(host) {
    const h = host.toLowerCase().replace(/^\[|\]$/g, '');
    return noProxy.some((e) => {
      if (e === '*') return true;
      const d = e.replace(/:\d+$/, '').replace(/^\*?\./, '');
      return h === d || h.endsWith('.' + d);
    });
  }

  function secure(socket, opts, callback) {
    const t = tls.connect({
      socket,
      host: opts.hostname,
      servername: opts.servername || (net.isIP(opts.hostname) ? undefined : opts.hostname),
      ALPNProtocols: ['http/1.1'],
    });
    let settled = false;
    const settle = (e) => {
      if (settled) return;
      settled = true;
      callback(e || null, e ? null : t);
    };
    t.once('secureConnect', () => settle(null));
    t.once('error', settle);
  }

  function connect(opts, callback) {
    const https = opts.protocol === 'https:';
    const port = Number(opts.port) || (https ? 443 : 80);
    const host = opts.hostname;
    if (!https || bypass(host)) {
      const s = net.connect({ host, port });
      s.once('error', (e) => callback(e, null));
      s.once('connect', () => (https ? secure(s, opts, callback) : callback(null, s)));
      return;
    }
    const s = net.connect({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port) || 80 });
    let done = false;
    const fail = (e) => {
      if (done) return;
      done = true;
      s.destroy();
      callback(e, null);
    };
    s.once('error', fail);
    s.once('connect', () => {
      const target = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
      s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    });
    let head = Buffer.alloc(0);
    s.on('data', function onData(chunk) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16384) fail(new Error('proxy: CONNECT reply too long'));
        return;
      }
      s.removeListener('data', onData);
      const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.[01] 200/.test(status)) {
        fail(new Error(`proxy refused CONNECT ${host}:${port}: ${status}`));
        return;
      }
      done = true;
      s.removeListener('error', fail);
      secure(s, opts, callback);
    });
  }

  globalThis[key] = new Agent({ connect });
})();
