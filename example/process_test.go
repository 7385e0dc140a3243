package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

// TestExampleProcess builds the example, runs it as `go run ./example`
// would (PORT and KEYCAP_DB set, nothing else), drives it over HTTP, stops
// it with SIGTERM and starts it again: keys and the secret survive.
func TestExampleProcess(t *testing.T) {
	bin := buildExample(t)
	dir := t.TempDir()
	port := freePort(t)
	base := "http://127.0.0.1:" + port

	first := startExample(t, bin, dir, port)
	exerciseKeyFlow(t, base)
	kept := mustLogIn(t, base, "bob").CreateKey(t, "/api-keys", "kept", policy.Permissions{"billing": {"read"}})
	first.stop(t)
	assert.Contains(t, first.stdout(), "alice  password alice  role member")
	assert.Contains(t, first.stdout(), "bob    password bob    role owner")
	assert.Contains(t, first.stderr(), "generated a new server secret")
	assert.Contains(t, first.stderr(), "shutting down")

	second := startExample(t, bin, dir, port)
	resp := keycaptest.NewClient(t, base).WithKey(kept.Key).DoJSON(t, http.MethodGet, "/api/billing", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a key made before the restart: %s", resp.Body)
	second.stop(t)
	assert.Contains(t, second.stderr(), "using the server secret stored in")
}

// buildExample compiles this package into a temp dir, with -race when the
// test runs with it (so the build reuses the test's compiled packages).
func buildExample(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to build the example")
	bin := filepath.Join(t.TempDir(), "example")
	args := []string{"build", "-o", bin}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, append(args, ".")...).CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// process is a running example.
type process struct {
	cmd         *exec.Cmd
	out, errOut *syncBuffer
	exited      chan struct{}
	waitErr     error // set before exited closes
}

// startExample starts the example at bin in dir, listening on port, with
// env (NAME=value) added to the environment. It keeps to SQLite, and
// serves no metrics, unless env sets DATABASE_URL or KEYCAP_METRICS_ADDR,
// whatever the environment of the test says.
func startExample(t *testing.T, bin, dir, port string, env ...string) *process {
	t.Helper()
	p := &process{out: &syncBuffer{}, errOut: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "PORT="+port, "KEYCAP_DB="+filepath.Join(dir, "keycap.db"), "KEYCAP_SECRET=",
		"DATABASE_URL=", "REDIS_URL=", "KEYCAP_TABLE_PREFIX=", "KEYCAP_REDIS_PREFIX=", "KEYCAP_RATE_LIMIT=",
		"KEYCAP_METRICS_ADDR=")
	p.cmd.Env = append(p.cmd.Env, env...) // the last value of a name wins
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errOut
	require.NoError(t, p.cmd.Start())
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { // a failed test must not leave it running
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})

	deadline := time.Now().Add(60 * time.Second) // a -race binary migrating Postgres on a loaded machine can take 20 s
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-p.exited:
			t.Fatalf("the example exited at start: %v\nstdout: %s\nstderr: %s", p.waitErr, p.stdout(), p.stderr())
		default:
		}
		resp, err := client.Get("http://127.0.0.1:" + port + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example did not answer within 60 s: %v\nstderr: %s", err, p.stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) within 10 s.
func (p *process) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("the example did not stop within 10 s of SIGTERM\nstderr: %s", p.stderr())
	}
	var exit *exec.ExitError
	if errors.As(p.waitErr, &exit) {
		t.Fatalf("the example exited with %v\nstderr: %s", exit, p.stderr())
	}
	require.NoError(t, p.waitErr)
}

func (p *process) stdout() string { return p.out.String() }
func (p *process) stderr() string { return p.errOut.String() }

// syncBuffer is a bytes.Buffer safe for the writes of a process and the
// reads of the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
