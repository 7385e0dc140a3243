package keycaptest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
)

// fakeT records failures instead of failing the test it wraps, to test
// assertions.
type fakeT struct {
	testing.TB
	mu     sync.Mutex
	failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(string, ...any) {
	f.mu.Lock()
	f.failed = true
	f.mu.Unlock()
}
func (f *fakeT) FailNow() {
	f.Errorf("")
	runtime.Goexit()
}

// fails reports whether check fails on a fake T wrapping t.
func fails(t testing.TB, check func(t testing.TB)) bool {
	f := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(f)
	}()
	<-done
	return f.failed
}

func TestRequireCode(t *testing.T) {
	t.Parallel()
	write := func(err error) *keycaptest.Response {
		rec := httptest.NewRecorder()
		keycap.WriteError(rec, nil, err)
		resp := rec.Result()
		body, _ := io.ReadAll(resp.Body)
		return &keycaptest.Response{Response: resp, Body: body}
	}
	notFound := write(keycap.New(keycap.CodeKeyNotFound, "no such key"))
	assert.False(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, notFound, keycap.CodeKeyNotFound) }))
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, notFound, keycap.CodeKeyInvalid) }), "another code")
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, notFound, "") }), "not a 2xx")

	wrongStatus := &keycaptest.Response{Response: &http.Response{StatusCode: http.StatusGone, Header: notFound.Header}, Body: notFound.Body}
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, wrongStatus, keycap.CodeKeyNotFound) }), "the code's status is checked")

	noMessage := &keycaptest.Response{Response: &http.Response{StatusCode: http.StatusNotFound, Header: notFound.Header},
		Body: []byte(`{"code":"KEY_NOT_FOUND","message":"","details":{}}`)}
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, noMessage, keycap.CodeKeyNotFound) }), "a message is required")

	unauthorized := write(keycap.New(keycap.CodeKeyInvalid, "bad key"))
	assert.False(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, unauthorized, keycap.CodeKeyInvalid) }))
	unauthorized.Header.Del("WWW-Authenticate")
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, unauthorized, keycap.CodeKeyInvalid) }), "a 401 needs WWW-Authenticate")

	ok := &keycaptest.Response{Response: &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}}}
	assert.False(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, ok, "") }))
	notJSON := &keycaptest.Response{Response: &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{}}, Body: []byte("forbidden")}
	assert.True(t, fails(t, func(t testing.TB) { keycaptest.RequireCode(t, notJSON, keycap.CodeForbidden) }))
}
