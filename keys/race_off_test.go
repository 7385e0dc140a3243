//go:build !race

package keys_test

// raceEnabled reports whether the race detector is on: it makes sync.Pool
// drop items at random, so allocation counts of pooled code are noise.
const raceEnabled = false
