// Scenarios driving the official `openai` npm SDK under Node against the mock (openai-node.oraw).
// Env: MOCK_HTTPS_PORT; the CA is trusted through NODE_EXTRA_CA_CERTS. Scenario names on the
// command line select a subset. Any failure exits non-zero.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const KEY = 'sk-proj-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZnode0001';
const baseURL = `https://localhost:${process.env.MOCK_HTTPS_PORT}/v1`;
const client = (opts = {}) => new OpenAI({ apiKey: KEY, baseURL, ...opts });

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather for a city',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['location', 'unit'],
    },
  },
};

const scenarios = {
  async chat_nonstream() {
    const r = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello from Node fetch.' }],
    });
    assert.match(r.choices[0].message.content, /^This is a mock reply/);
    return `${r.id} usage=${r.usage.prompt_tokens}+${r.usage.completion_tokens}`;
  },

  async chat_stream() {
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Stream something about Node and OpenSSL.' }],
    });
    let text = '';
    let usage = null;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.match(text, /^This is a mock reply/);
    assert.ok(usage && usage.total_tokens > 0);
    return `${text.length} chars usage=${usage.total_tokens}`;
  },

  async chat_stream_parallel_tools() {
    const stream = await client().chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'What is the weather in Rome and Vienna?' }],
      tools: [weatherTool],
    });
    const calls = {};
    let finish = null;
    for await (const chunk of stream) {
      for (const ch of chunk.choices) {
        for (const tc of ch.delta.tool_calls ?? []) {
          const slot = (calls[tc.index] ??= { id: null, name: '', args: '' });
          if (tc.id) slot.id = tc.id;
          if (tc.function?.name) slot.name += tc.function.name;
          if (tc.function?.arguments) slot.args += tc.function.arguments;
        }
        finish = ch.finish_reason ?? finish;
      }
    }
    assert.equal(finish, 'tool_calls');
    const locs = Object.values(calls).map((c) => JSON.parse(c.args).location);
    assert.deepEqual(locs, ['Rome', 'Vienna']);
    // Send the results back as role "tool" messages.
    const r = await client().chat.completions.create({
      model: 'gpt-4o',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'What is the weather in Rome and Vienna?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: Object.values(calls).map((c) => ({
            id: c.id, type: 'function', function: { name: c.name, arguments: c.args },
          })),
        },
        ...Object.values(calls).map((c) => ({
          role: 'tool', tool_call_id: c.id, content: JSON.stringify({ temperature_c: 21 }),
        })),
      ],
    });
    assert.match(r.choices[0].message.content, /^Based on the tool results/);
    return `calls=${locs.join(',')} follow-up ok`;
  },

  async chat_stream_helper() {
    // The SDK's stream helper (ChatCompletionStream) accumulating the final completion.
    const stream = client().chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Use the stream helper please.' }],
    });
    const final = await stream.finalChatCompletion();
    assert.match(final.choices[0].message.content, /^This is a mock reply/);
    return final.choices[0].message.content;
  },

  async responses_nonstream() {
    const r = await client().responses.create({ model: 'gpt-4.1', input: 'Explain ALPN in one line.' });
    assert.equal(r.status, 'completed');
    assert.match(r.output_text, /^This is a mock reply/);
    return r.output_text;
  },

  async responses_stream() {
    const stream = await client().responses.create({
      model: 'gpt-4.1',
      input: 'Stream a line about HTTP/2.',
      stream: true,
    });
    const types = [];
    let text = '';
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
    }
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    assert.match(text, /^This is a mock reply/);
    return `${types.length} events`;
  },
};

const wanted = process.argv.slice(2);
let failed = 0;
let passed = 0;
for (const [name, fn] of Object.entries(scenarios)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const t0 = Date.now();
  try {
    const detail = await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)${detail ? ': ' + detail : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}`);
    console.log(e?.stack ?? e);
  }
  await new Promise((r) => setTimeout(r, 50));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
