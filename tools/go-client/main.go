// Command go-client sends OpenAI chat completions over HTTPS with Go's standard library only
// (net/http over crypto/tls), the way Go programs call AI APIs: the Go TLS client of oisp-sensor's
// end-to-end tests (crates/oisp-sensor/tests/go_e2e.rs).
//
//	go-client -base https://localhost:PORT -ca ca.pem [-http1] -prompt TEXT
//
// Each run makes two calls: a non-streaming completion, then a streaming one (server-sent events,
// with usage); -parallel N makes each N times at once from N goroutines (over HTTP/2 they share
// one connection: writes from every goroutine, reads on the transport's read loop). net/http
// negotiates HTTP/2 by ALPN by default; -http1 keeps it to HTTP/1.1. -wait and -start-file delay
// the first request (a sensor attaches its probes to a new executable after seeing it start; a
// test creates the start file once they are attached).
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("base", os.Getenv("MOCK_BASE"), "base URL of the API (default $MOCK_BASE)")
	caFile := flag.String("ca", os.Getenv("SSL_CERT_FILE"), "PEM file of the CA to trust (default $SSL_CERT_FILE)")
	key := flag.String("key", os.Getenv("OPENAI_API_KEY"), "API key (default $OPENAI_API_KEY)")
	model := flag.String("model", "gpt-4o-mini", "model")
	prompt := flag.String("prompt", "Hello from Go", "the user message")
	http1 := flag.Bool("http1", false, "HTTP/1.1 only (no HTTP/2)")
	wait := flag.Duration("wait", 0, "wait this long before the first request")
	parallel := flag.Int("parallel", 1, "make each call this many times at once (goroutines; one HTTP/2 connection)")
	startFile := flag.String("start-file", "", "wait (at most a minute) until this file exists before the first request")
	flag.Parse()
	time.Sleep(*wait)
	if *startFile != "" {
		if err := waitFor(*startFile, time.Minute); err != nil {
			fail(err)
		}
	}
	client, err := newClient(*caFile, *http1)
	if err != nil {
		fail(err)
	}
	url := strings.TrimSuffix(*base, "/") + "/v1/chat/completions"
	for _, stream := range []bool{false, true} {
		var wg sync.WaitGroup
		errs := make(chan error, *parallel)
		for i := 0; i < *parallel; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				text, proto, err := chat(client, url, *key, *model, *prompt, stream)
				if err != nil {
					errs <- err
					return
				}
				fmt.Printf("%s stream=%v: %s\n", proto, stream, text)
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			fail(err)
		}
	}
}

// waitFor returns once path exists, or an error after limit.
func waitFor(path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %v", path, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go-client:", err)
	os.Exit(1)
}

// newClient makes a client that trusts only the CA in caFile (when set; else the system roots)
// and, with http1, speaks HTTP/1.1 only.
func newClient(caFile string, http1 bool) (*http.Client, error) {
	cfg := &tls.Config{}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", caFile)
		}
		cfg.RootCAs = pool
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: !http1}
	if http1 {
		// A non-nil empty map turns HTTP/2 off.
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr}, nil
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type request struct {
	Model         string          `json:"model"`
	Messages      []message       `json:"messages"`
	Stream        bool            `json:"stream,omitempty"`
	StreamOptions map[string]bool `json:"stream_options,omitempty"`
}

// chat sends one chat completion and returns the reply text and the protocol it went over.
func chat(c *http.Client, url, key, model, prompt string, stream bool) (string, string, error) {
	body := request{Model: model, Messages: []message{{Role: "user", Content: prompt}}, Stream: stream}
	if stream {
		body.StreamOptions = map[string]bool{"include_usage": true}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", "", err
	}
	req, err := http.NewRequest("POST", url, bytes.NewReader(b))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return "", resp.Proto, fmt.Errorf("%s: %s", resp.Status, msg)
	}
	if !stream {
		var out struct {
			Choices []struct {
				Message message `json:"message"`
			} `json:"choices"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return "", resp.Proto, err
		}
		if len(out.Choices) == 0 {
			return "", resp.Proto, fmt.Errorf("no choices")
		}
		return out.Choices[0].Message.Content, resp.Proto, nil
	}
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") || line == "data: [DONE]" {
			continue
		}
		data := strings.TrimPrefix(line, "data: ")
		var ev struct {
			Choices []struct {
				Delta message `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return "", resp.Proto, err
		}
		for _, ch := range ev.Choices {
			text.WriteString(ch.Delta.Content)
		}
	}
	return text.String(), resp.Proto, sc.Err()
}
