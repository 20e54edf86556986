// One AI call as a conversation: what was sent (system prompt collapsed, tools offered, the
// messages with their roles, tool results) and what came back (text, tool calls), with tokens,
// cost, latency, time to first token and redaction markers.
import { api, el, errorBox, usd, num, ms, content, kv, hashFor, markedText } from './util.js';

export function render(root, requestId) {
  root.append(el('div', { class: 'meta' }, 'loading…'));
  api(`/api/call/${encodeURIComponent(requestId)}`).then((c) => {
    root.replaceChildren(...conversation(c));
  }).catch((e) => root.replaceChildren(errorBox(e)));
}

function message(m, i) {
  const role = m.role || 'unknown';
  return el('div', { class: `msg ${role}`, dataset: { role, index: i } },
    el('div', { class: 'who' }, el('span', {}, role), m.name ? el('span', {}, m.name) : null,
      m.tool_call_id ? el('span', {}, `result of ${m.tool_call_id}`) : null,
      m.content_length != null ? el('span', { class: 'meta' }, `${num(m.content_length)} chars`) : null),
    el('div', { class: 'body' }, content(m.content)));
}

function toolCall(t) {
  let args = t.arguments;
  if (typeof args === 'string') { try { args = JSON.stringify(JSON.parse(args), null, 2); } catch (_) { /* keep as sent */ } }
  else if (args) args = JSON.stringify(args, null, 2);
  return el('div', { class: 'toolcall', dataset: { tool: t.name || '' } },
    el('b', {}, t.name || '?'), ' ', el('span', { class: 'meta' }, t.id || ''),
    args ? el('pre', { class: 'mono' }, markedText(args)) : null);
}

function conversation(c) {
  const req = c.request || {};
  const resp = c.response || {};
  const rq = req.data || {};
  const rs = resp.data || {};
  const u = rs.usage || {};
  const proc = req.process || resp.process || {};
  const msgs = rq.messages || [];
  const system = msgs.filter((m) => m.role === 'system');
  const rest = msgs.filter((m) => m.role !== 'system');
  const out = [];
  const title = [rs.model?.id || rq.model?.id || 'AI call', (rq.provider || rs.provider)?.name].filter(Boolean).join(' · ');
  out.push(el('h1', {}, 'Conversation: ', title));
  out.push(el('div', { class: 'cards' },
    card('tokens in', num(u.prompt_tokens)), card('tokens out', num(u.completion_tokens)),
    card('cost', usd(u.total_cost_usd), 'call-cost'), card('latency', ms(rs.latency_ms)),
    card('time to first token', ms(rs.time_to_first_token_ms)),
    card('status', rs.success === false ? `failed ${rs.status_code || ''}` : (rs.status_code || (c.response ? 'ok' : 'no response yet')))));
  out.push(kv([
    ['process', proc.name ? `${proc.name} [${proc.pid}]` : null],
    ['command line', proc.cmdline],
    ['endpoint', (rq.provider || rs.provider)?.endpoint],
    ['streamed', rq.streaming === true ? 'yes (reassembled)' : rq.streaming === false ? 'no' : null],
    ['API key', rq.auth?.key_prefix ? `${rq.auth.key_prefix}… ${rq.auth.key_hash || ''}` : null],
    ['request', c.request_id],
    ['conversation', rq.conversation_id],
    ['finish', rs.finish_reason],
    ['cached tokens', num(u.cached_tokens)],
    ['reasoning tokens', num(u.reasoning_tokens)],
  ]));
  const trace = (req.trace_context || resp.trace_context || {}).trace_id;
  if (trace) out.push(el('p', {}, el('a', { href: hashFor('trace', trace), id: 'call-trace' }, 'Open the agent trace →')));
  if (system.length) {
    out.push(el('details', { id: 'system-prompt' }, el('summary', {}, `System prompt (${system.length} message${system.length > 1 ? 's' : ''})`),
      system.map(message)));
  } else if (rq.has_system_prompt) {
    out.push(el('p', { class: 'meta' }, `System prompt present (hash ${rq.system_prompt_hash || '?'}), content not kept`));
  }
  if (rq.tools?.length) {
    out.push(el('details', { id: 'tools-offered' }, el('summary', {}, `Tools offered (${rq.tools.length})`),
      el('table', { class: 'grid' }, el('tr', {}, el('th', {}, 'name'), el('th', {}, 'description')),
        rq.tools.map((t) => el('tr', {}, el('td', { class: 'mono' }, t.name || '?'), el('td', {}, t.description || ''))))));
  }
  out.push(el('h2', {}, `Request: ${rest.length} message${rest.length === 1 ? '' : 's'}`));
  out.push(el('div', { id: 'messages' }, rest.map(message)));
  out.push(el('h2', {}, 'Response'));
  const resBox = el('div', { id: 'response' });
  if (!c.response) resBox.append(el('p', { class: 'meta' }, 'No response recorded (still streaming, or lost).'));
  for (const ch of rs.choices || []) {
    if (ch.message && (ch.message.content != null)) resBox.append(message(ch.message, ch.index || 0));
  }
  if (rs.tool_calls?.length) resBox.append(el('h2', {}, `Tool calls (${rs.tool_calls.length})`), ...rs.tool_calls.map(toolCall));
  if (rs.error) resBox.append(el('div', { class: 'error' }, JSON.stringify(rs.error)));
  out.push(resBox);
  out.push(el('details', {}, el('summary', {}, 'request and response JSON'),
    el('pre', { class: 'json' }, JSON.stringify({ request: c.request, response: c.response }, null, 2))));
  return out;
}

function card(k, v, id) {
  return el('div', { class: 'card', id }, el('div', { class: 'v' }, v === '' || v == null ? '–' : v), el('div', { class: 'k' }, k));
}
