package faults_test

import (
	"context"
	"io"
	"log"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/keys"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(logs.handler()))
	// go-sql-driver/mysql logs every cut connection on its own logger.
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	os.Exit(m.Run())
}

// logs keeps every slog record, for the tests to check that each 503 was
// logged with its cause.
var logs = &recorder{}

type entry struct {
	Level   slog.Level
	Message string
	Attrs   map[string]string
}

type recorder struct {
	mu      sync.Mutex
	entries []entry
}

func (r *recorder) handler() slog.Handler { return &recordHandler{r: r} }

// mark returns a position to read entries from with since.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

func (r *recorder) since(mark int) []entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]entry(nil), r.entries[mark:]...)
}

type recordHandler struct {
	r     *recorder
	attrs []slog.Attr
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordHandler) Handle(_ context.Context, rec slog.Record) error {
	e := entry{Level: rec.Level, Message: rec.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		e.Attrs[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		e.Attrs[a.Key] = a.Value.String()
		return true
	})
	h.r.mu.Lock()
	h.r.entries = append(h.r.entries, e)
	h.r.mu.Unlock()
	return nil
}

func (h *recordHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recordHandler{r: h.r, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

func (h *recordHandler) WithGroup(string) slog.Handler { return h }

// requireLogged requires that exactly n STORE_UNAVAILABLE answers were
// logged since mark, at error level, each with its cause (the store's
// error, more than the sentinel). It returns the causes.
func requireLogged(t *testing.T, mark, n int) []string {
	t.Helper()
	var causes []string
	for _, e := range logs.since(mark) {
		if e.Attrs["code"] != string(keycap.CodeStoreUnavailable) {
			continue
		}
		require.Equal(t, slog.LevelError, e.Level, "%+v", e)
		cause := e.Attrs["err"]
		require.Contains(t, cause, keys.ErrStoreUnavailable.Error(), "%+v", e)
		require.Greater(t, len(cause), len(keys.ErrStoreUnavailable.Error())+2, "the cause is logged, not just the sentinel: %+v", e)
		causes = append(causes, cause)
	}
	require.Len(t, causes, n, "one log line per 503, with its cause: %q", causes)
	return causes
}
