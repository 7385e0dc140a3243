package testenv

import "sync"

// UntilStopped calls f(g), f(g+1), ... from each of n goroutines g until
// the returned stop is called, and stop waits for them: load that runs
// beside what a test measures.
func UntilStopped(n int, f func(i int)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				f(i)
			}
		})
	}
	return func() { close(done); wg.Wait() }
}
