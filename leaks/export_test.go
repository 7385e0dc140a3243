package leaks

import "time"

// SetNowForTest replaces the clock that spaces fetches.
func (p *PublicKeys) SetNowForTest(now func() time.Time) { p.now = now }
