package redislimit

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

var (
	counter atomic.Uint64
	process = func() string { // distinguishes this process's members from others'
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}()
)

// member returns a sliding-window member unique across processes.
func member() string { return process + "-" + strconv.FormatUint(counter.Add(1), 36) }
