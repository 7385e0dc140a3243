package keycap

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// isErr has an Is method of its own: errors.Is asks it, so the plain
// chain must give way.
type isErr struct{ target error }

func (e isErr) Error() string        { return "is " + e.target.Error() }
func (e isErr) Is(target error) bool { return target == e.target }

// wrapper wraps one error with no Is or As method of its own.
type wrapper struct{ err error }

func (w *wrapper) Error() string { return "wrapped: " + w.err.Error() }
func (w *wrapper) Unwrap() error { return w.err }

// chainLeaves are the errors fuzzed chains end with: every sentinel,
// every typed error fromTyped maps, an *Error, an error with its own Is,
// a joined error and a plain one.
func chainLeaves() []error {
	leaves := []error{errors.New("plain"), New(CodeCSRF, "cross-origin"), isErr{keys.ErrInvalid},
		errors.Join(keys.ErrConflict, keys.ErrInvalid), &policy.ExceedsError{}, &policy.InvalidError{Err: keys.ErrInvalid},
		&policy.LifetimeError{}, &keys.FieldError{Field: "name"}, &keys.DelegationError{Reason: "r"}, &policy.KeyLimitError{Limit: 3},
		&policy.AllowListError{}, &policy.RecordsError{}, &policy.ManageError{Owner: "org"}}
	for _, s := range sentinels {
		leaves = append(leaves, s.err)
	}
	return leaves
}

// chainFrom builds an error from b: its first byte picks a leaf, each next
// one wraps what is built (fmt's %w, a plain wrapper, an *Error, a join of
// it with a sentinel, an error with its own Is, or another leaf wrapped
// with it by fmt).
func chainFrom(b []byte) error {
	leaves := chainLeaves()
	if len(b) == 0 {
		return leaves[0]
	}
	err := leaves[int(b[0])%len(leaves)]
	for _, c := range b[1:] {
		switch c % 6 {
		case 0:
			err = fmt.Errorf("context: %w", err)
		case 1:
			err = &wrapper{err}
		case 2:
			err = &Error{Code: CodeInternal, Message: "outer", Err: err}
		case 3:
			err = errors.Join(err, sentinels[int(c/6)%len(sentinels)].err)
		case 4:
			err = isErr{err}
		case 5:
			err = fmt.Errorf("%w: %w", leaves[int(c/6)%len(leaves)], err)
		}
	}
	return err
}

// sameError reports whether a and b say the same: same code, message,
// details and cause (by identity).
func sameError(t *testing.T, a, b *Error) {
	t.Helper()
	if a.Code != b.Code || a.Message != b.Message || a.Err != b.Err || fmt.Sprint(a.Details) != fmt.Sprint(b.Details) {
		t.Fatalf("plain chain %#v, any chain %#v", a, b)
	}
}

// TestFromPlainChainAgrees checks the reflection-free path against
// errors.As and errors.Is on every leaf, wrapped and not, and on the
// errors Verify refuses keys with.
func TestFromPlainChainAgrees(t *testing.T) {
	plain := 0
	for i := range chainLeaves() {
		for _, wraps := range [][]byte{nil, {0}, {1}, {0, 1}, {2}, {3}, {4}, {5}, {1, 0, 1}} {
			err := chainFrom(append([]byte{byte(i)}, wraps...))
			if e, ok := fromPlainChain(err); ok {
				plain++
				sameError(t, e, fromAnyChain(err))
			}
		}
	}
	for _, err := range []error{fmt.Errorf("%w: revoked", keys.ErrInvalid), fmt.Errorf("%w: malformed", keys.ErrInvalid),
		fmt.Errorf("%w: retired", fmt.Errorf("%w: wrong secret", keys.ErrInvalid)), keys.ErrExpired, keys.ErrIPNotAllowed} {
		e, ok := fromPlainChain(err)
		if !ok {
			t.Fatalf("%v: a refused key's error took the slow path", err)
		}
		sameError(t, e, fromAnyChain(err))
	}
	if plain < 20 {
		t.Fatalf("only %d chains took the plain path: the test no longer exercises it", plain)
	}
}

// FuzzFromPlainChain checks that the reflection-free path answers as
// errors.As and errors.Is do whenever it answers at all.
func FuzzFromPlainChain(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{20, 0, 1, 0})
	f.Add([]byte{15, 2, 0})
	f.Add([]byte{3, 5, 11})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64 {
			return
		}
		err := chainFrom(b)
		if e, ok := fromPlainChain(err); ok {
			sameError(t, e, fromAnyChain(err))
		}
	})
}
