#!/usr/bin/env bash
# curl scenarios against the mock. Usage: curl_scenarios.sh GROUP
#   GROUP: h1 | h2 (OpenAI + Anthropic over --http1.1 / --http2), gemini, ollama, compat, keepalive
# Env: MOCK_HTTPS_PORT, MOCK_HTTP_PORT, MOCK_CA. Every request checks its status code and body;
# any failure makes the script exit non-zero.
set -u
GROUP=${1:?group}
P=${MOCK_HTTPS_PORT:?}
HP=${MOCK_HTTP_PORT:-}
CA=${MOCK_CA:?}
OPENAI_KEY="sk-proj-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZcurl0001"
ANTHROPIC_KEY="sk-ant-api03-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-curl00000AA"
GEMINI_KEY="AIzaSyTESTKEY0123456789abcdefghijklmn"
PASSED=0
FAILED=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# req NAME STATUS PATTERN curl-args... : run curl, require the status and a body match.
req() {
  local name=$1 want=$2 pat=$3
  shift 3
  local code
  code=$(curl -sS -o "$TMP/body" -w '%{http_code} %{http_version}' --cacert "$CA" "$@" 2>"$TMP/err")
  local rc=$?
  if [[ $rc -eq 0 && ${code%% *} == "$want" ]] && grep -q -- "$pat" "$TMP/body"; then
    PASSED=$((PASSED + 1))
    echo "ok   $name (status ${code%% *}, HTTP/${code##* }, $(wc -c <"$TMP/body") body bytes)"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL $name: rc=$rc code=$code want=$want pattern=$pat"
    cat "$TMP/err"
    head -c 600 "$TMP/body"
    echo
  fi
  sleep 0.05
}

openai_anthropic() {
  local v=$1 # --http1.1 | --http2
  local tag=${v#--}
  req "$tag openai chat non-stream" 200 '"object":"chat.completion"' "$v" "https://localhost:$P/v1/chat/completions" \
    -H "Authorization: Bearer $OPENAI_KEY" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello from curl"}]}'
  req "$tag openai chat stream include_usage" 200 'data: \[DONE\]' -N "$v" "https://localhost:$P/v1/chat/completions" \
    -H "Authorization: Bearer $OPENAI_KEY" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Stream to curl"}]}'
  req "$tag openai chat gzip (--compressed)" 200 '"finish_reason":"stop"' --compressed "$v" "https://localhost:$P/v1/chat/completions" \
    -H "Authorization: Bearer $OPENAI_KEY" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"A compressed answer please"}]}'
  req "$tag openai 401 no key" 401 '"invalid_request_error"' "$v" "https://localhost:$P/v1/chat/completions" \
    -H 'Content-Type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"no key"}]}'
  req "$tag anthropic messages non-stream (x-api-key)" 200 '"stop_reason":"end_turn"' "$v" "https://localhost:$P/v1/messages" \
    -H "x-api-key: $ANTHROPIC_KEY" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
    -d '{"model":"claude-haiku-4-5","max_tokens":128,"messages":[{"role":"user","content":"Hello Claude from curl"}]}'
  req "$tag anthropic messages stream" 200 'event: message_stop' -N "$v" "https://localhost:$P/v1/messages" \
    -H "x-api-key: $ANTHROPIC_KEY" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
    -d '{"model":"claude-sonnet-4-6","max_tokens":128,"stream":true,"messages":[{"role":"user","content":"Stream to curl, Claude"}]}'
  req "$tag anthropic 529 overloaded" 529 '"overloaded_error"' "$v" "https://localhost:$P/v1/messages" \
    -H "x-api-key: $ANTHROPIC_KEY" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
    -d '{"model":"trigger-529","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
}

gemini() {
  local host=generativelanguage.googleapis.com
  local resolve=(--resolve "$host:$P:127.0.0.1")
  req "gemini generateContent (h2)" 200 '"finishReason": "STOP"' --http2 "${resolve[@]}" \
    "https://$host:$P/v1beta/models/gemini-2.5-flash:generateContent" \
    -H "x-goog-api-key: $GEMINI_KEY" -H 'Content-Type: application/json' \
    -d '{"contents":[{"role":"user","parts":[{"text":"Hello Gemini from curl"}]}],"generationConfig":{"temperature":0.3,"maxOutputTokens":256}}'
  req "gemini streamGenerateContent JSON array (h2)" 200 '"candidatesTokenCount"' -N --http2 "${resolve[@]}" \
    "https://$host:$P/v1beta/models/gemini-2.5-flash:streamGenerateContent" \
    -H "x-goog-api-key: $GEMINI_KEY" -H 'Content-Type: application/json' \
    -d '{"contents":[{"role":"user","parts":[{"text":"Stream a JSON array to me please"}]}]}'
  req "gemini streamGenerateContent alt=sse (h2, key in query)" 200 '^data: ' -N --http2 "${resolve[@]}" \
    "https://$host:$P/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=$GEMINI_KEY" \
    -H 'Content-Type: application/json' \
    -d '{"contents":[{"role":"user","parts":[{"text":"Stream server-sent events to me"}]}]}'
  req "gemini functionCall (h1, localhost)" 200 '"functionCall"' --http1.1 \
    "https://localhost:$P/v1beta/models/gemini-2.5-pro:generateContent" \
    -H "x-goog-api-key: $GEMINI_KEY" -H 'Content-Type: application/json' \
    -d '{"contents":[{"role":"user","parts":[{"text":"What is the weather in Zurich?"}]}],"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}]}]}'
  req "gemini functionResponse follow-up (h1)" 200 'Based on the tool results' --http1.1 \
    "https://localhost:$P/v1beta/models/gemini-2.5-pro:generateContent" \
    -H "x-goog-api-key: $GEMINI_KEY" -H 'Content-Type: application/json' \
    -d '{"contents":[{"role":"user","parts":[{"text":"What is the weather in Zurich?"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"location":"Zurich"}}}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temperature_c":9}}}]}]}'
  req "gemini streamGenerateContent alt=sse (h1)" 200 '"finishReason":"STOP"' -N --http1.1 \
    "https://localhost:$P/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" \
    -H "x-goog-api-key: $GEMINI_KEY" -H 'Content-Type: application/json' \
    -d '{"systemInstruction":{"parts":[{"text":"Be short."}]},"contents":[{"role":"user","parts":[{"text":"SSE over HTTP/1.1"}]}]}'
  req "gemini 429 quota" 429 'RESOURCE_EXHAUSTED' --http2 "${resolve[@]}" \
    "https://$host:$P/v1beta/models/trigger-429:generateContent" \
    -H "x-goog-api-key: $GEMINI_KEY" -H 'Content-Type: application/json' \
    -d '{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}'
}

ollama() {
  [[ -n $HP ]] || { echo "FAIL ollama: MOCK_HTTP_PORT unset"; exit 1; }
  req "ollama /api/chat NDJSON stream (plain http)" 200 '"done":true' -N "http://localhost:$HP/api/chat" \
    -d '{"model":"llama3.2","messages":[{"role":"user","content":"Why is the sky blue?"}]}'
  req "ollama /api/chat stream:false (plain http)" 200 '"done_reason":"stop"' "http://localhost:$HP/api/chat" \
    -d '{"model":"llama3.2","stream":false,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Name a color."}]}'
  req "ollama /api/generate NDJSON stream (plain http)" 200 '"context"' -N "http://localhost:$HP/api/generate" \
    -d '{"model":"qwen2.5:0.5b","prompt":"Write one word.","options":{"temperature":0}}'
  req "ollama /api/generate stream:false (plain http)" 200 '"eval_count"' "http://localhost:$HP/api/generate" \
    -d '{"model":"qwen2.5:0.5b","prompt":"Write two words.","stream":false}'
  req "ollama /api/chat tools (plain http)" 200 '"tool_calls"' "http://localhost:$HP/api/chat" \
    -d '{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"Weather in Oslo?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}'
  req "ollama OpenAI-compatible /v1/chat/completions (plain http)" 200 'chat.completion' "http://localhost:$HP/v1/chat/completions" \
    -H 'Content-Type: application/json' -H 'Authorization: Bearer ollama' \
    -d '{"model":"llama3.2","messages":[{"role":"user","content":"OpenAI-compatible Ollama"}]}'
  req "ollama 404 unknown model (plain http)" 404 'not found' "http://localhost:$HP/api/chat" \
    -d '{"model":"missing-model","messages":[{"role":"user","content":"hi"}]}'
  req "ollama /api/chat over HTTPS (h1)" 200 '"done":true' -N --http1.1 "https://localhost:$P/api/chat" \
    -d '{"model":"llama3.2","messages":[{"role":"user","content":"Ollama behind TLS"}]}'
}

compat() {
  local body='{"model":"MODEL","messages":[{"role":"user","content":"Hello PROVIDER from curl"}]}'
  local sbody='{"model":"MODEL","stream":true,"messages":[{"role":"user","content":"Stream from PROVIDER"}]}'
  mk() { local b=${1//MODEL/$2}; echo "${b//PROVIDER/$3}"; }
  req "azure deployment chat (h2)" 200 'prompt_filter_results' --http2 --resolve "mock.openai.azure.com:$P:127.0.0.1" \
    "https://mock.openai.azure.com:$P/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21" \
    -H "api-key: 0123456789abcdef0123456789abcdef" -H 'Content-Type: application/json' \
    -d '{"messages":[{"role":"user","content":"Hello Azure from curl"}]}'
  req "azure deployment chat stream (h1)" 200 'data: \[DONE\]' -N --http1.1 --resolve "mock.openai.azure.com:$P:127.0.0.1" \
    "https://mock.openai.azure.com:$P/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21" \
    -H "api-key: 0123456789abcdef0123456789abcdef" -H 'Content-Type: application/json' \
    -d '{"stream":true,"messages":[{"role":"user","content":"Stream from Azure"}]}'
  req "groq /openai/v1/chat/completions (h2)" 200 'x_groq' --http2 --resolve "api.groq.com:$P:127.0.0.1" \
    "https://api.groq.com:$P/openai/v1/chat/completions" -H "Authorization: Bearer gsk_TESTKEY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH" \
    -H 'Content-Type: application/json' -d "$(mk "$body" llama-3.3-70b-versatile Groq)"
  req "groq stream (h2)" 200 'data: \[DONE\]' -N --http2 --resolve "api.groq.com:$P:127.0.0.1" \
    "https://api.groq.com:$P/openai/v1/chat/completions" -H "Authorization: Bearer gsk_TESTKEY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH" \
    -H 'Content-Type: application/json' -d "$(mk "$sbody" llama-3.1-8b-instant Groq)"
  req "mistral /v1/chat/completions (h2)" 200 'chat.completion' --http2 --resolve "api.mistral.ai:$P:127.0.0.1" \
    "https://api.mistral.ai:$P/v1/chat/completions" -H "Authorization: Bearer TESTKEYmistral0123456789abcdefgh" \
    -H 'Content-Type: application/json' -d "$(mk "$body" mistral-small-latest Mistral)"
  req "deepseek /chat/completions (h1)" 200 'prompt_cache_hit_tokens' --http1.1 --resolve "api.deepseek.com:$P:127.0.0.1" \
    "https://api.deepseek.com:$P/chat/completions" -H "Authorization: Bearer sk-TESTKEYdeepseek0123456789abcdef" \
    -H 'Content-Type: application/json' -d "$(mk "$body" deepseek-chat DeepSeek)"
  req "together /v1/chat/completions stream (h2)" 200 'data: \[DONE\]' -N --http2 --resolve "api.together.xyz:$P:127.0.0.1" \
    "https://api.together.xyz:$P/v1/chat/completions" -H "Authorization: Bearer TESTKEYtogether0123456789abcdef0123456789abcdef" \
    -H 'Content-Type: application/json' -d "$(mk "$sbody" meta-llama/Llama-3.3-70B-Instruct-Turbo Together)"
  req "openrouter /api/v1/chat/completions (h2)" 200 '"provider":"OpenAI"' --http2 --resolve "openrouter.ai:$P:127.0.0.1" \
    "https://openrouter.ai:$P/api/v1/chat/completions" -H "Authorization: Bearer sk-or-v1-TESTKEY0123456789abcdef0123456789abcdef0123456789abcdef01234567" \
    -H 'HTTP-Referer: https://oisp.example' -H 'X-Title: oisp-sensor fixtures' \
    -H 'Content-Type: application/json' -d "$(mk "$body" openai/gpt-4o-mini OpenRouter)"
}

keepalive() {
  # Three requests on one HTTP/1.1 connection (curl reuses it across the URLs of one invocation).
  local common=(--cacert "$CA" -H "Authorization: Bearer $OPENAI_KEY" -H 'Content-Type: application/json')
  if curl -sS --http1.1 "${common[@]}" -o "$TMP/ka1" "https://localhost:$P/v1/chat/completions" \
      -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"keep-alive one"}]}' \
    --next --http1.1 "${common[@]}" -o "$TMP/ka2" "https://localhost:$P/v1/chat/completions" \
      -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"keep-alive two"}]}' \
    --next --http1.1 "${common[@]}" -o "$TMP/ka3" "https://localhost:$P/v1/models" &&
    grep -q 'keep-alive one' "$TMP/ka1" && grep -q 'data: \[DONE\]' "$TMP/ka2" && grep -q '"object":"list"' "$TMP/ka3"; then
    PASSED=$((PASSED + 1)); echo "ok   curl h1 keep-alive: 3 requests on one connection"
  else
    FAILED=$((FAILED + 1)); echo "FAIL curl h1 keep-alive"
  fi
  sleep 0.05
  # Five concurrent requests multiplexed as five streams of one HTTP/2 connection.
  local args=() i
  for i in 1 2 3 4 5; do
    local stream=false
    ((i % 2)) && stream=true
    args+=(--next --http2 "${common[@]}" -o "$TMP/par$i" "https://localhost:$P/v1/chat/completions"
      -d "{\"model\":\"gpt-4o-mini\",\"stream\":$stream,\"messages\":[{\"role\":\"user\",\"content\":\"multiplexed stream $i\"}]}")
  done
  if curl -sS --no-progress-meter --parallel --parallel-max 5 "${args[@]:1}" &&
    grep -q 'multiplexed stream 2' "$TMP/par2" && grep -q 'multiplexed stream 4' "$TMP/par4" &&
    grep -q 'data: \[DONE\]' "$TMP/par1" && grep -q 'data: \[DONE\]' "$TMP/par3" && grep -q 'data: \[DONE\]' "$TMP/par5"; then
    PASSED=$((PASSED + 1)); echo "ok   curl h2 5 concurrent streams on one connection"
  else
    FAILED=$((FAILED + 1)); echo "FAIL curl h2 parallel"
  fi
}

case $GROUP in
  h1) openai_anthropic --http1.1 ;;
  h2) openai_anthropic --http2 ;;
  gemini) gemini ;;
  ollama) ollama ;;
  compat) compat ;;
  keepalive) keepalive ;;
  *) echo "unknown group $GROUP" >&2; exit 2 ;;
esac
echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
