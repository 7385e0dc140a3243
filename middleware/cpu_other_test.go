//go:build !linux

package middleware_test

import "time"

// processCPU is 0 here: the added-cpu-ns/req metric is Linux's.
func processCPU() time.Duration { return 0 }
